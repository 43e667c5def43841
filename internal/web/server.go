package web

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/go-megle/go-megle/internal/ice"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/poll"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// Doors is what the HTTP doors need of the hub: whether it is ready or draining, and taking
// an upgraded connection.
type Doors interface {
	Ready() (ok bool, why string)
	Draining() bool
	Attach(conn *websocket.Conn, idle poll.IdleWait, addr, resumeToken string, onEnd func())
}

// ServerConfig is what the HTTP doors read of the instance's configuration.
type ServerConfig struct {
	MetricsAddr     string // METRICS_ADDR: /metrics on a listener of its own, not here
	ModAddr         string // MOD_ADDR: the moderator console on a listener of its own
	TrustedProxies  []netip.Prefix
	ForwardedHeader string
	AllowedOrigins  []string
}

// ServerParts are the parts the HTTP doors hand requests to.
type ServerParts struct {
	Hub     Doors
	Addrs   *safety.AddressCap
	Console *Console     // nil: the moderator console is off
	Appeals *Appeals     // the banned user's /api/appeal
	Poller  *poll.Poller // nil: idle connections wait in a read
	Log     *slog.Logger
	Metrics *metrics.Metrics
	ICE     *ice.ICEProvider
	UI      fs.FS // nil: the UI is not built
}

// Server is the HTTP surface: /ws, /healthz, /readyz, /metrics, /api/config and the web UI.
type Server struct {
	cfg      ServerConfig
	hub      Doors
	log      *slog.Logger
	metrics  *metrics.Metrics
	ice      *ice.ICEProvider
	UI       fs.FS // nil: the UI is not built
	upgrader websocket.Upgrader
	Addrs    *safety.AddressCap
	console  *Console // nil: the moderator console is off
	appeals  *Appeals
	poller   *poll.Poller // nil: idle connections wait in a read
}

// readBufferSize is each connection's read buffer: a message larger than this is read through
// it in pieces, and an idle connection holds it for as long as it lives.
const readBufferSize = 512

// NewServer wires the HTTP surface.
func NewServer(cfg ServerConfig, p ServerParts) *Server {
	s := &Server{cfg: cfg, hub: p.Hub, Addrs: p.Addrs, console: p.Console, appeals: p.Appeals, poller: p.Poller, log: p.Log, metrics: p.Metrics, ice: p.ICE, UI: p.UI}
	s.upgrader = websocket.Upgrader{
		// 0: gorilla reads through the buffer the hijack hands it, which is ours (readBufferSize;
		// see hijacker), so that the read pump can tell when nothing is buffered
		ReadBufferSize:  0,
		WriteBufferSize: 4096,
		// A pooled write buffer is held only while a frame is written, not per idle connection.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
	}
	return s
}

// Handler routes every endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	if s.cfg.MetricsAddr == "" { // otherwise on its own listener only
		mux.Handle("GET /metrics", s.metricsHandler())
	}
	// STUN only: TURN credentials go to connected users, in hello, after the origin check
	// and the per-address cap
	mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, struct {
			ICEServers []wire.ICEServer `json:"ice_servers"`
		}{s.ice.STUN()})
	})
	if s.appeals != nil {
		s.appeals.Register(mux)
	}
	if s.console != nil && s.cfg.ModAddr == "" {
		s.console.Register(mux) // and /mod itself is a page of the web app
	} else {
		why := "the moderator console is not enabled on this server (MOD_TOKEN)"
		if s.console != nil {
			why = "the moderator console is not served on this port (MOD_ADDR)"
		}
		off := func(w http.ResponseWriter, _ *http.Request) { apiError(w, http.StatusNotFound, why) }
		mux.HandleFunc("/mod", off)
		mux.HandleFunc("/mod/", off)
	}
	s.serveUI(mux)
	return securityHeaders(mux)
}

// ModHandler is the moderator console's own listener (MOD_ADDR): the console's API and the
// web app (whose /mod page the moderators load), nothing else.
func (s *Server) ModHandler() http.Handler {
	mux := http.NewServeMux()
	if s.console != nil {
		s.console.Register(mux)
	}
	s.serveUI(mux)
	return securityHeaders(mux)
}

// serveUI routes everything no other pattern took to the web app.
func (s *Server) serveUI(mux *http.ServeMux) {
	ui := s.UIHandler() // for every method, so that no pattern above conflicts with it
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	ok, why := s.hub.Ready()
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]string{"status": why})
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})
}

// serveWS upgrades a connection and hands it to the hub, within the per-address cap.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.hub.Draining() {
		http.Error(w, "server is shutting down; reconnect", http.StatusServiceUnavailable)
		return
	}
	addr := s.clientAddress(r)
	release, ok := s.Addrs.Acquire(r.Context(), addr)
	if !ok {
		s.metrics.Disconnects.WithLabelValues("ip_cap").Inc()
		http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
		return
	}
	hj := &hijacker{ResponseWriter: w}
	conn, err := s.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		release()
		s.log.Debug("websocket upgrade refused", "err", safety.PeerErr(err), "origin", safety.ScrubAddrs(r.Header.Get("Origin")))
		return // the upgrader has answered with an HTTP error
	}
	idle := poll.IdleWait{Buffered: hj.br}
	if hj.br != nil {
		idle.Watch = s.poller.Watch(conn.NetConn())
	}
	s.hub.Attach(conn, idle, addr, r.URL.Query().Get("resume"), release)
}

// hijacker hands gorilla's upgrade a read buffer of ours in place of net/http's (4 KiB, and
// out of reach): gorilla adopts a hijacked buffer when its own size is left at 0. Gorilla
// refuses a client that sent data before the handshake ended; that buffer is then passed on
// untouched, for it to see.
type hijacker struct {
	http.ResponseWriter
	br *bufio.Reader // nil until a hijack succeeds with nothing buffered
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return conn, brw, err
	}
	h.br = bufio.NewReaderSize(conn, readBufferSize)
	return conn, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// clientAddress is the address key of the request's client.
func (s *Server) clientAddress(r *http.Request) string {
	return safety.ClientAddress(r.RemoteAddr, r.Header, s.cfg.TrustedProxies, s.cfg.ForwardedHeader)
}

// checkOrigin allows the configured origins, or by default only the request's own host.
// Requests without an Origin header are not from a browser and cannot be cross-site.
func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if len(s.cfg.AllowedOrigins) == 0 {
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	return slices.ContainsFunc(s.cfg.AllowedOrigins, func(o string) bool {
		return o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// securityHeaders keeps the page from loading anything from a third party and from being framed.
// script-src adds only 'wasm-unsafe-eval' to 'self': the nudity classifier (TF.js's WebAssembly
// backend, in a same-origin worker) cannot compile its .wasm without it, and measured in headless
// Chromium here it classifies a still in ~0.11 s against ~1.1 s for WebGL and ~3 s for plain
// JavaScript (BENCHMARKS.md). It allows no eval of JavaScript; workers come from 'self' as before.
// connect-src is 'self' alone: in CSP Level 3 (Chromium, Firefox, Safari) it covers ws: and
// wss: to the page's own host and port, which is the only socket the page opens; a script
// injected into the page cannot open one anywhere else.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' data: blob:; "+
			"media-src 'self' blob: mediastream:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self)")
		next.ServeHTTP(w, r)
	})
}
