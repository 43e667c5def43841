// Package metrics owns the instance's Prometheus metrics: one registry per instance (no global
// state, so two servers in one test process do not collide), every labelled series pre-created
// so that it exists before its first increment.
//
// It may import the standard library, Prometheus's client and internal/wire (for the modes and
// reasons it counts by), nothing else of the server. Invariant: no label ever carries a user
// identifier or an address.
package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-megle/go-megle/internal/wire"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are this instance's Prometheus metrics, on a registry of its own (no global state;
// two servers in one test process do not collide). No label ever carries a user identifier.
type Metrics struct {
	Registry       *prometheus.Registry
	Clients        prometheus.Gauge
	Waiting        *prometheus.GaugeVec
	LanguageQueues *prometheus.GaugeVec // mode, language: one of wire.Languages
	WatchedQueues  *prometheus.GaugeVec // mode
	Matches        *prometheus.CounterVec
	MatchWait      prometheus.Histogram
	Relayed        *prometheus.CounterVec
	Dropped        *prometheus.CounterVec
	RateLimited    prometheus.Counter
	Resumes        *prometheus.CounterVec
	PartnerLeft    *prometheus.CounterVec
	Reconciled     *prometheus.CounterVec
	Disconnects    *prometheus.CounterVec
	RedisErrors    *prometheus.CounterVec
	RedisDuration  *prometheus.HistogramVec
	InstancesAlive prometheus.Gauge
	Calls          *prometheus.CounterVec
	CallSetup      prometheus.Histogram

	// Trust and safety (issue 14): counted by the reporting and ban code.
	Reports           *prometheus.CounterVec // reason: one of wire.ReportReasons
	Bans              *prometheus.CounterVec // source: one of BanSources
	BannedConnections prometheus.Counter
	Appeals           *prometheus.CounterVec // event: one of AppealEvents
	PowRefused        prometheus.Counter
	PowPrice          prometheus.Histogram

	readiness     atomic.Pointer[func() bool]
	readinessOnce sync.Once
}

// The label values every vec is created with, so that each series is in the first scrape
// of a fresh instance (a counter that appears only at its first increment hides that
// increment from rate() and increase(), and from the alert rules in deploy/prometheus).
var (
	matchKinds      = []string{"interest", "language", "random"}
	relayPaths      = []string{"local", "remote"}
	relayEvents     = []string{wire.EvSignal, wire.EvChat, wire.EvTyping, wire.EvMedia}
	dropReasons     = []string{"send_queue_full", "publish_queue_full", "publish_failed", "not_matched", "bad_envelope"}
	resumeResults   = []string{"resumed", "expired", "invalid", "error"}
	reconcileKinds  = []string{"match_applied", "requeued", "match_vanished", "rerouted", "superseded"}
	disconnectCause = []string{"client_closed", "dropped", "server_closed", "too_large", "slow_message", "unfinished_cap", "ip_cap", "http_ip_cap"}
	redisOps        = []string{"match", "leave", "expire_hold", "resume", "detach", "user_route", "user_states", "match_of",
		"match_states", "alive", "heartbeat", "deregister", "online", "refresh", "load", "publish", "conns", "instances",
		"report", "ban_of", "reports", "ban", "dismiss", "lift", "bans", "opened", "open_rate", "language_queues", "watched_queues", "appeal", "appeals"}
	callCandidates = append(append([]string{}, wire.CandidateTypes...), "none")

	// BanSources: who banned (report reasons are wire.ReportReasons).
	BanSources = []string{"auto", "moderator"}

	// AppealEvents: what became of appeals (opened by a banned user, upheld or lifted by a moderator).
	AppealEvents = []string{"opened", "upheld", "lifted"}
)

// NewMetrics creates and registers every metric, plus the Go and process collectors.
func NewMetrics() *Metrics {
	const ns = "gomegle"
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Clients: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "clients_connected",
			Help: "WebSocket clients connected to this instance."}),
		Waiting: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "users_waiting",
			Help: "Clients of this instance waiting for a match, by mode."}, []string{"mode"}),
		LanguageQueues: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "language_queue_length",
			Help: "Users waiting in a language's queue, cluster-wide, as this instance last read Redis, by mode and language (the server's fixed list)."},
			[]string{"mode", "language"}),
		WatchedQueues: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "watched_queue_length",
			Help: "Watched users waiting among each other (before WATCH_WAIT), cluster-wide, as this instance last read Redis, by mode."},
			[]string{"mode"}),
		Matches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "matches_total",
			Help: "Matches made by this instance, by kind: interest (shared an interest), language (shared a language, no interest) or random."}, []string{"kind"}),
		MatchWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "match_wait_seconds",
			Help:    "Time from find_match to match_found, for clients of this instance.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}),
		Relayed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_relayed_total",
			Help: "Messages relayed to a partner, by event (signal, chat, typing) and path (local, remote)."}, []string{"event", "path"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_dropped_total",
			Help: "Messages dropped, by reason."}, []string{"reason"}),
		RateLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "rate_limited_total",
			Help: "Inbound messages refused by the per-connection rate limit."}),
		Resumes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "resumes_total",
			Help: "Resume attempts, by result (resumed, expired, invalid, error)."}, []string{"result"}),
		PartnerLeft: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "partner_left_total",
			Help: "partner_left events sent by this instance, by reason."}, []string{"reason"}),
		Reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconciled_total",
			Help: "Waiting clients put right from what Redis says, by kind: match_applied (its notice was lost), requeued (Redis lost the search)."}, []string{"kind"}),
		Disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "disconnects_total",
			Help: "Closed client connections, by cause."}, []string{"cause"}),
		RedisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "redis_errors_total",
			Help: "Failed Redis operations, by operation."}, []string{"op"}),
		RedisDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "redis_duration_seconds",
			Help:    "Latency of Redis operations, by operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"op"}),
		InstancesAlive: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "instances_alive",
			Help: "Instances with a live heartbeat, as last seen by this instance."}),
		Calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "calls_total",
			Help: "Video calls as the pages report them (rtc_stats, once per user and match), by outcome (connected, failed) and the local candidate type of the connected pair (host, srflx, relay, prflx; none when failed)."},
			[]string{"outcome", "candidate"}),
		CallSetup: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "call_setup_seconds",
			Help:    "Time from match_found to a connected video call, as the pages report it.",
			Buckets: []float64{.1, .25, .5, 1, 2, 3, 5, 8, 12, 20, 30}}),
		Reports: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reports_total",
			Help: "Reports of a partner received by this instance, by reason (nudity, sexual, harassment, spam, underage, other)."}, []string{"reason"}),
		Bans: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bans_total",
			Help: "Bans issued, by source: auto (by the report threshold) or moderator (through /mod/api)."}, []string{"source"}),
		BannedConnections: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "banned_connections_total",
			Help: "Connections from a banned address, answered with banned and closed with 4003."}),
		Appeals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "appeals_total",
			Help: "Appeals of bans, by event: opened (by the banned user, /api/appeal), upheld or lifted (by a moderator, /mod/api/appeals)."}, []string{"event"}),
		PowRefused: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "pow_refused_total",
			Help: "find_match refused for a missing, wrong or expired proof of work, or one issued to another connection."}),
		PowPrice: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "pow_price_ratio",
			Help:    "Proof-of-work challenges issued with hello, by their range as a multiple of POW_MAX_NUMBER (1: the base; more for an address opening over POW_FREE_RATE connections a minute).",
			Buckets: []float64{1, 2, 4, 16, 64, 256, 1024, 4096}}),
	}
	m.Registry.MustRegister(m.Clients, m.Waiting, m.LanguageQueues, m.WatchedQueues, m.Matches, m.MatchWait, m.Relayed, m.Dropped, m.RateLimited,
		m.Resumes, m.PartnerLeft, m.Reconciled, m.Disconnects, m.RedisErrors, m.RedisDuration, m.InstancesAlive, m.Calls, m.CallSetup,
		m.Reports, m.Bans, m.BannedConnections, m.Appeals, m.PowRefused, m.PowPrice,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, mode := range []wire.Mode{wire.ModeVideo, wire.ModeText} {
		m.Waiting.WithLabelValues(string(mode))
		m.WatchedQueues.WithLabelValues(string(mode))
		for _, lang := range wire.Languages {
			m.LanguageQueues.WithLabelValues(string(mode), lang)
		}
	}
	precreate(m.Matches, matchKinds)
	for _, event := range relayEvents {
		for _, path := range relayPaths {
			m.Relayed.WithLabelValues(event, path)
		}
	}
	precreate(m.Dropped, dropReasons)
	precreate(m.Resumes, resumeResults)
	precreate(m.PartnerLeft, wire.Reasons)
	precreate(m.Reconciled, reconcileKinds)
	precreate(m.Disconnects, disconnectCause)
	precreate(m.RedisErrors, redisOps)
	for _, op := range redisOps {
		m.RedisDuration.WithLabelValues(op)
	}
	for _, outcome := range wire.CallOutcomes {
		for _, candidate := range callCandidates {
			m.Calls.WithLabelValues(outcome, candidate)
		}
	}
	precreate(m.Reports, wire.ReportReasons)
	precreate(m.Bans, BanSources)
	precreate(m.Appeals, AppealEvents)
	return m
}

// precreate makes a one-label counter vec's series for each value, at zero.
func precreate(v *prometheus.CounterVec, values []string) {
	for _, value := range values {
		v.WithLabelValues(value)
	}
}

// SetReadiness exports ready() as the gauge gomegle_ready (1 ready, 0 not), read at each
// scrape, so that an alert sees a replica that is up but failing /readyz. main.go wires it
// to the hub: metrics.SetReadiness(func() bool { ok, _ := hub.Ready(); return ok }). Calling
// it again replaces the function.
func (m *Metrics) SetReadiness(ready func() bool) {
	m.readiness.Store(&ready)
	m.readinessOnce.Do(func() {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "gomegle", Name: "ready",
			Help: "1 when this instance is ready (what /readyz answers 200 for: Redis reachable, subscription live, not draining), 0 otherwise."},
			func() float64 {
				if (*m.readiness.Load())() {
					return 1
				}
				return 0
			}))
	})
}

// observeRedis records one Redis operation's latency and, if it failed, the error.
func (m *Metrics) ObserveRedis(op string, start time.Time, err error) {
	m.RedisDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		m.RedisErrors.WithLabelValues(op).Inc()
	}
}
