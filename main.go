// Command go-megle is a horizontally scalable WebRTC signaling server for random 1:1 video and
// text chat. Where to read: a message enters in client_read.go's read pump, is decoded by
// internal/inbound, decided by the user's Session (internal/session) and carried out by the
// hub (operations.go, with match.go's Redis scripts), and leaves through the partner's
// connection (client.go's writer) or, for a partner on another instance, once through
// pubsub.go. The README's Architecture section has the whole map: this package is the
// instance, every concern of its own an internal/ package below it.
//
// # Lock order
//
// The one place it is written. A lock may be taken while holding only locks above it:
//
//  1. internal/session Session.op: one user's whole operation (find, fallback, leave,
//     disconnect, the sweep's corrections), which may span Redis round trips; taken by the
//     root's operations (LockOps).
//  2. Hub.mu (hub.go): the registry of local sessions.
//  3. internal/session Session.mu: one transition and the queuing of its frames (Step).
//     Transitions caused by other users take only this one, so they never wait for a Redis
//     round trip of this user.
//  4. Client.rmu (client.go): parking and waking the read pump; then internal/poll Poller.mu.
//  5. Client.qmu (client.go): the connection's send queue; the last lock taken.
//
// Leaf locks, under which nothing else is taken and no other package is called:
// internal/fairq Queue.mu, internal/store ScriptBatcher.mu, internal/safety AddressCap.mu,
// httpConnCap.mu and UnfinishedBytes.mu, internal/web Console.mu.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/ice"
	"github.com/go-megle/go-megle/internal/inbound"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/poll"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(web.Healthcheck(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], Environ, os.Stderr))
}

// run is the whole life of the process: configure, serve, and on SIGTERM or SIGINT drain and
// stop within SHUTDOWN_TIMEOUT; a second signal exits at once.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := LoadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "go-megle: configuration: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)

	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := NewApp(ctx, cfg, log)
	if err != nil {
		log.Error("start-up failed", "err", err)
		return 1
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		app.Close()
		log.Error("listen failed", "addr", cfg.Addr, "err", err)
		return 1
	}
	httpSrv := app.HTTPServer()
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "instance", cfg.InstanceID)
	if cfg.PprofAddr != "" {
		go web.ServePprof(cfg.PprofAddr, log)
	}
	if cfg.MetricsAddr != "" {
		go app.Server.ServeMetrics(cfg.MetricsAddr)
	}
	if cfg.ModAddr != "" {
		go serveMod(cfg.ModAddr, app, log)
	}

	select {
	case err := <-serveErr:
		log.Error("server stopped", "err", err)
		app.Close()
		return 1
	case sig := <-signals:
		log.Info("shutting down: draining clients", "signal", sig.String(), "timeout", cfg.ShutdownTimeout)
	}
	go func() {
		sig := <-signals
		log.Warn("second signal: exiting now", "signal", sig.String())
		os.Exit(1)
	}()
	shutdownCtx, done := context.WithTimeout(ctx, cfg.ShutdownTimeout)
	defer done()
	app.Shutdown(shutdownCtx, httpSrv)
	log.Info("stopped")
	return 0
}

// App is one running instance: Redis, matchmaker, bus, hub and HTTP surface, wired together.
type App struct {
	cfg        Config
	log        *slog.Logger
	Metrics    *metrics.Metrics
	Hub        *Hub
	Server     *web.Server
	Redis      redis.UniversalClient
	poller     *poll.Poller // nil: none
	httpConns  *safety.HTTPConnCap
	closeRedis func()
}

// NewApp builds and starts an instance. A Redis that cannot be reached yet is not fatal (the
// instance starts not ready and recovers by itself); a script Redis rejects is.
func NewApp(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	rdb, closeRedis, err := store.OpenRedis(ctx, cfg.redis(), log)
	if err != nil {
		return nil, err
	}
	metrics := metrics.NewMetrics()
	keys := store.NewKeys(cfg.KeyPrefix)
	mm, err := NewMatchmaker(ctx, rdb, MatchmakerConfig{Keys: keys, MatchTTL: cfg.MatchTTL, Timeout: cfg.RedisTimeout,
		Now: time.Now, Metrics: metrics, RematchCooldown: cfg.RematchCooldown, WatchReporters: cfg.WatchReporters})
	var rerr redis.Error
	if errors.As(err, &rerr) {
		closeRedis()
		return nil, err
	}
	if err != nil {
		log.Warn("Redis not reachable at start-up; starting not ready", "err", err)
	}
	bus := NewBus(BusConfig{Self: cfg.InstanceID, Queue: 8192, QueueBytes: cfg.PublishBytes, EnvelopeVersion: envelope.Version(cfg.EnvelopeVersion)},
		BusParts{Redis: rdb, Keys: keys, Log: log, Metrics: metrics})
	secret := []byte(cfg.BanSecret)
	if len(secret) == 0 {
		secret = []byte(wire.NewID())
		if !cfg.development() {
			log.Warn("BAN_SECRET is not set: address limits and bans hold on this instance only; set the same BAN_SECRET on every replica")
		}
	}
	if names := cfg.publicDefaults(); len(names) > 0 { // development only: validate refuses them otherwise
		log.Warn("public development defaults in use: fine on a laptop, refused with a real Redis", "settings", strings.Join(names, ", "))
	}
	trust := safety.New(safety.Config{ReportTTL: cfg.ReportTTL, ReportRate: cfg.ReportRate,
		AutobanReporters: cfg.AutobanReporters, AutobanWindow: cfg.AutobanWindow, AutobanDuration: cfg.AutobanDuration,
		EvidenceMax: cfg.EvidenceMax, ReportsMax: cfg.ReportsMax, MinConversation: cfg.MinConversation,
		ReporterAge: cfg.ReporterAge, WatchReporters: cfg.WatchReporters, WatchAfterBan: cfg.WatchAfterBan, Secret: secret}, safety.Parts{Redis: rdb, Keys: keys, Calls: mm.Calls, Now: time.Now})
	ice := ice.NewICEProvider(ice.Config{STUN: cfg.STUNURLs, TURN: cfg.TURNURLs, Secret: cfg.TURNSecret, TTL: cfg.TURNTTL}, time.Now)
	hub := NewHub(ctx, HubConfig{
		Self: cfg.InstanceID, InterestFallback: cfg.InterestFallback, WatchWait: cfg.WatchWait, MatchTTL: cfg.MatchTTL,
		ResumeGrace: cfg.ResumeGrace, HeartbeatInterval: cfg.HeartbeatInterval, HeartbeatTTL: cfg.HeartbeatTTL,
		SweepInterval: cfg.SweepInterval, OnlineInterval: cfg.OnlineInterval, PingInterval: cfg.PingInterval,
		Limits: ClientLimits{
			ReadLimit: cfg.ReadLimit, MessageTimeout: cfg.MessageTimeout, Unfinished: safety.NewUnfinishedBytes(cfg.UnfinishedBytesPerIP),
			SendQueue: cfg.SendQueue, SendBytes: cfg.SendBytes, Rates: inbound.LimitsConfig{Rate: cfg.RateLimit,
				Burst: cfg.RateBurst, Strikes: cfg.RateStrike, FindRate: cfg.FindRate, FindBurst: cfg.FindBurst},
			PingInterval: cfg.PingInterval,
		},
	}, HubParts{Matchmaker: mm, Bus: bus, Safety: trust, Pow: safety.NewPowGate(safety.PowConfig{MaxNumber: cfg.PowMaxNumber,
		FreeRate: float64(cfg.PowFreeRate), MaxCap: cfg.PowMaxNumberCap, TTL: cfg.PowTTL}, time.Now), ICE: ice,
		Log: log, Metrics: metrics, Now: time.Now})
	metrics.SetReadiness(func() bool { ok, _ := hub.Ready(); return ok })
	hub.Run()
	addrs := safety.NewAddressCap(safety.AddressCapConfig{Self: cfg.InstanceID, Max: cfg.MaxConnsPerIP, Secret: secret},
		safety.AddressCapParts{Redis: rdb, Keys: keys, Calls: mm.Calls, Log: log})
	addrsCtx, stopAddrs := context.WithCancel(ctx)
	addrsDone := make(chan struct{})
	go func() {
		defer close(addrsDone)
		addrs.Run(addrsCtx)
	}()
	addrOf := func(r *http.Request) string {
		return safety.ClientAddress(r.RemoteAddr, r.Header, cfg.TrustedProxies, cfg.ForwardedHeader)
	}
	var console *web.Console
	if cfg.ModToken != "" {
		console = web.NewConsole(web.ConsoleConfig{Token: cfg.ModToken}, web.ConsoleParts{Safety: trust, Bans: hub, Metrics: metrics, Log: log,
			AddrOf: addrOf})
	}
	poller, err := poll.NewPoller(log)
	if err != nil {
		log.Warn("no poller: every idle connection keeps a goroutine waiting in a read", "err", err)
	}
	srv := web.NewServer(web.ServerConfig{MetricsAddr: cfg.MetricsAddr, ModAddr: cfg.ModAddr, TrustedProxies: cfg.TrustedProxies,
		ForwardedHeader: cfg.ForwardedHeader, AllowedOrigins: cfg.AllowedOrigins},
		web.ServerParts{Hub: hub, Addrs: addrs, Console: console, Poller: poller, Appeals: web.NewAppeals(web.AppealsParts{
			Safety: trust, Metrics: metrics, Log: log, AddrOf: addrOf}), Log: log, Metrics: metrics, ICE: ice, UI: uiFS(cfg.WebDir)})
	if srv.UI == nil {
		log.Warn("the web UI is not built; / explains how to build it", "web_dir", cfg.WebDir)
	}
	httpConns := safety.NewHTTPConnCap(cfg.MaxHTTPConnsPerIP, cfg.TrustedProxies, metrics.Disconnects.WithLabelValues("http_ip_cap").Inc)
	return &App{cfg: cfg, log: log, Metrics: metrics, Hub: hub, Server: srv, Redis: rdb, poller: poller, httpConns: httpConns,
		closeRedis: func() { stopAddrs(); <-addrsDone; closeRedis() }}, nil
}

// Handler is the instance's HTTP handler.
func (a *App) Handler() http.Handler { return a.Server.Handler() }

// HTTPServer is the public listener's server, with its timeouts: a slow or idle client holds
// a connection for a bounded time (the WebSocket sets its own deadlines once upgraded).
func (a *App) HTTPServer() *http.Server {
	return &http.Server{
		Handler: a.Handler(), ReadHeaderTimeout: a.cfg.HTTPTimeout,
		ReadTimeout: a.cfg.HTTPTimeout, WriteTimeout: a.cfg.HTTPTimeout, IdleTimeout: a.cfg.HTTPIdleTimeout,
		ErrorLog: safety.HTTPErrorLog(a.log), ConnState: a.httpConns.ConnState,
	}
}

// Shutdown drains: stop accepting, close every socket with 1012 (clients resume elsewhere),
// wait for the cleanup, stop the loops, close Redis; bounded by ctx.
func (a *App) Shutdown(ctx context.Context, httpSrv *http.Server) {
	a.Hub.Drain()
	if httpSrv != nil {
		if err := httpSrv.Shutdown(ctx); err != nil {
			a.log.Warn("http shutdown", "err", err)
		}
	}
	if err := a.Hub.Stop(ctx); err != nil {
		a.log.Warn("hub stop", "err", err)
	}
	a.poller.Close() // after the connections' cleanup: any still parked are woken by it
	a.closeRedis()
}

// Close stops the instance at once (tests, failed start-up).
func (a *App) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a.Shutdown(ctx, nil)
}

// serveMod serves the moderator console on its own listener (MOD_ADDR), with the public
// listener's timeouts, so that no route to the public port reaches it.
func serveMod(addr string, a *App, log *slog.Logger) {
	srv := a.HTTPServer()
	srv.Addr, srv.Handler = addr, a.Server.ModHandler()
	log.Info("moderator console listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("moderator console listener stopped", "err", err)
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
