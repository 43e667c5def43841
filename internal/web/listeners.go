package web

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"
)

// ServePprof serves the runtime profiles on their own listener, apart from the public one.
func ServePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("pprof listening", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof listener stopped", "err", err)
	}
}

// ServeMetrics serves /metrics on its own listener (METRICS_ADDR), apart from the public one.
func (s *Server) ServeMetrics(addr string) {
	log := s.log
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	log.Info("metrics listening", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("metrics listener stopped", "err", err)
	}
}

// Healthcheck probes a running instance's /healthz, for container images without a shell:
// go-megle healthcheck [http://127.0.0.1:8080/healthz]
func Healthcheck(args []string, stderr io.Writer) int {
	target := "http://127.0.0.1:8080/healthz"
	if len(args) > 0 {
		target = args[0]
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %s\n", target, resp.Status)
		return 1
	}
	return 0
}
