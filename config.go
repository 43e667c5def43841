package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// Config is every setting of the server. LoadConfig is the only reader of the environment:
// each setting is a flag and an environment variable of the same meaning (flags win).
type Config struct {
	Addr       string
	InstanceID wire.InstanceID
	WebDir     string

	RedisURL            string
	RedisClusterAddrs   []string
	RedisSentinelAddrs  []string
	RedisSentinelMaster string
	RedisPassword       string
	KeyPrefix           string
	RedisTimeout        time.Duration

	AllowedOrigins  []string
	TrustedProxies  []netip.Prefix
	ForwardedHeader string
	MaxConnsPerIP   int
	BanSecret       string

	InterestFallback  time.Duration
	MatchTTL          time.Duration
	ResumeGrace       time.Duration
	ShutdownTimeout   time.Duration
	HeartbeatInterval time.Duration
	HeartbeatTTL      time.Duration
	SweepInterval     time.Duration
	OnlineInterval    time.Duration
	PingInterval      time.Duration

	ReadLimit    int64
	SendQueue    int
	SendBytes    int
	PublishBytes int
	// EnvelopeVersion is the format of the envelopes this instance publishes to the others: 1
	// (the previous release's, which every instance reads) until the whole deployment runs a
	// release that reads 2.
	EnvelopeVersion int
	RateLimit       float64
	RateBurst       int
	RateStrike      int
	FindRate        float64
	FindBurst       int

	STUNURLs   []string
	TURNURLs   []string
	TURNSecret string
	TURNTTL    time.Duration

	HTTPTimeout     time.Duration
	HTTPIdleTimeout time.Duration
	MetricsAddr     string
	ModAddr         string

	RematchCooldown  time.Duration
	ReportTTL        time.Duration
	ReportRate       int
	AutobanReporters int
	AutobanWindow    time.Duration
	AutobanDuration  time.Duration
	EvidenceMax      int
	ModToken         string
	PowMaxNumber     int64
	PowTTL           time.Duration
	PowFreeRate      int
	PowMaxNumberCap  int64

	// what makes a report count towards an automatic ban, and the bound on stored reports
	ReportsMax      int
	MinConversation time.Duration
	ReporterAge     time.Duration

	// watched users (issue 25): matched with each other first, with everyone else after WatchWait
	WatchReporters int
	WatchAfterBan  time.Duration
	WatchWait      time.Duration

	LogLevel  slog.Level
	LogFormat string
	PprofAddr string

	// Hardening, round 2 (issue 21): what an unfinished message may hold, pre-upgrade connections
	MessageTimeout       time.Duration // longest one inbound message may take to arrive, from its first frame
	UnfinishedBytesPerIP int64         // bytes of unfinished inbound messages one address may hold on an instance
	MaxHTTPConnsPerIP    int           // open connections per peer address not (yet) upgraded (0: no limit)
}

// secretSettings are the settings that may come from a file as well: X_FILE (-x-file) names
// a file whose content (less a final newline) is X, as Docker and Kubernetes secrets are
// handed to a container that has no shell to read them.
var secretSettings = []string{"ban-secret", "turn-secret", "mod-token", "redis-password"}

// publicDefaultPrefix starts the development defaults the compose file once carried
// (insecure-dev-secret-set-BAN_SECRET, ...): public in every clone, so refused with a real Redis.
const publicDefaultPrefix = "insecure-dev"

// settingName maps a flag name to its environment variable: redis-url -> REDIS_URL.
func settingName(flagName string) string {
	return strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// LoadConfig parses flags from args and, for every flag not given, its environment variable.
// It returns flag.ErrHelp for -h.
func LoadConfig(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("go-megle", flag.ContinueOnError)
	fs.SetOutput(usageOut)

	var instance, origins, proxies, stun, turn, cluster, sentinels, level string
	fs.StringVar(&c.Addr, "addr", ":8080", "listen address")
	fs.StringVar(&instance, "instance-id", "", "this instance's id, unique among replicas (default: random)")
	fs.StringVar(&c.WebDir, "web-dir", "web/dist", "directory of the built web UI (ignored when the UI is embedded with -tags embedui)")
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis URL (redis:// or rediss://); empty runs an embedded in-process Redis, for a single instance only")
	fs.StringVar(&cluster, "redis-cluster-addrs", "", "comma list of Redis Cluster node addresses (instead of REDIS_URL)")
	fs.StringVar(&sentinels, "redis-sentinel-addrs", "", "comma list of Redis Sentinel addresses (with REDIS_SENTINEL_MASTER)")
	fs.StringVar(&c.RedisSentinelMaster, "redis-sentinel-master", "", "Sentinel master name")
	fs.StringVar(&c.RedisPassword, "redis-password", "", "password of the Redis nodes, in every mode (with REDIS_URL it replaces a password in the URL); kept out of the URL so that it can come from a secret of its own")
	fs.DurationVar(&c.RedisTimeout, "redis-timeout", 3*time.Second, "upper bound of one Redis operation, including waiting for a pooled connection; past it the user gets error unavailable")
	fs.StringVar(&c.KeyPrefix, "key-prefix", "{mm}", "prefix of every matchmaking key; must be a Redis Cluster hash tag such as {mm}")
	fs.StringVar(&origins, "allowed-origins", "", "comma list of allowed WebSocket Origins, e.g. https://example.com (default: the request's own host)")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma list of proxy CIDRs whose X-Forwarded-For is believed (default: none)")
	fs.StringVar(&c.ForwardedHeader, "forwarded-header", safety.HeaderXForwardedFor, "the header trusted proxies name the client in: x-forwarded-for or forwarded (RFC 7239)")
	fs.IntVar(&c.MaxConnsPerIP, "max-conns-per-ip", 100, "WebSocket connections allowed per client address (an IPv4 address or an IPv6 /64) across all instances (0: no limit)")
	fs.StringVar(&c.BanSecret, "ban-secret", "", "key of the hashes under which Redis knows client addresses (connection counts, reports, bans); the same on every replica (default: random, for one instance only)")
	fs.DurationVar(&c.InterestFallback, "interest-fallback", 5*time.Second, "how long a user with interests waits before random strangers are also offered (0: never)")
	fs.DurationVar(&c.MatchTTL, "match-ttl", 10*time.Minute, "lifetime of match and user keys in Redis, refreshed while users are connected")
	fs.DurationVar(&c.ResumeGrace, "resume-grace", 20*time.Second, "how long a dropped connection's identity and match are held for a resume")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "upper bound of a graceful shutdown")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", time.Second, "how often this instance refreshes its heartbeat key")
	fs.DurationVar(&c.HeartbeatTTL, "heartbeat-ttl", 5*time.Second, "lifetime of the heartbeat key: an instance silent this long is dead")
	fs.DurationVar(&c.SweepInterval, "sweep-interval", 2*time.Second, "how often partners on other instances are checked for liveness")
	fs.DurationVar(&c.OnlineInterval, "online-interval", 5*time.Second, "how often the cluster-wide online count is computed and sent when it changed")
	fs.DurationVar(&c.PingInterval, "ping-interval", 20*time.Second, "WebSocket ping period; a client silent for twice this is dropped (at the next ping round, so within three)")
	fs.Int64Var(&c.ReadLimit, "read-limit", 384<<10, "largest inbound WebSocket message in bytes (a report with its evidence is the largest); larger closes the socket with 1009. Relayed messages (signal, chat, typing) are held to 64 KiB")
	fs.IntVar(&c.SendQueue, "send-queue", 256, "outbound messages queued per client; a client whose queue overflows is disconnected")
	fs.IntVar(&c.SendBytes, "send-queue-bytes", 1<<20, "outbound bytes queued per client (including what is being written); a client over it is disconnected")
	fs.IntVar(&c.PublishBytes, "publish-queue-bytes", 32<<20, "bytes queued for other instances; messages over it are dropped (counted)")
	fs.IntVar(&c.EnvelopeVersion, "bus-envelope-version", 1, "format of the envelopes published to other instances: 1 (read by this release and the one before) or 2 (read by this release on); every instance reads both. Set 2 once no instance of an older release is left")
	fs.Float64Var(&c.RateLimit, "rate-limit", 50, "inbound messages per second allowed per connection, sustained (0: no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", 200, "inbound message burst allowed per connection (ICE candidates come in bursts)")
	fs.IntVar(&c.RateStrike, "rate-strikes", 50, "rate-limited messages after which the connection is closed with 1008")
	fs.Float64Var(&c.FindRate, "find-match-rate", 2, "find_match (each runs matchmaking scripts) per second allowed per connection, sustained (0: no own limit)")
	fs.IntVar(&c.FindBurst, "find-match-burst", 10, "find_match burst allowed per connection")
	fs.DurationVar(&c.HTTPTimeout, "http-timeout", 10*time.Second, "longest a request's headers (every route) and a plain request's body and response (every route but the WebSocket) may take")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", 60*time.Second, "how long an idle keep-alive HTTP connection is kept open")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "address of a separate listener for /metrics, e.g. :9100 (then the public listener does not serve it)")
	fs.DurationVar(&c.RematchCooldown, "rematch-cooldown", 5*time.Minute, "two users whose match ended are not paired again for this long (0: they may be)")
	fs.DurationVar(&c.ReportTTL, "report-ttl", 7*24*time.Hour, "how long a report and its evidence are kept for moderators (and the two users kept apart)")
	fs.IntVar(&c.ReportRate, "report-rate", 10, "reports per hour one address may make")
	fs.IntVar(&c.AutobanReporters, "autoban-reporters", 3, "distinct reporting addresses within AUTOBAN_WINDOW that ban an address automatically (0: never)")
	fs.DurationVar(&c.AutobanWindow, "autoban-window", time.Hour, "the window in which AUTOBAN_REPORTERS count")
	fs.DurationVar(&c.AutobanDuration, "autoban-duration", 24*time.Hour, "an automatic ban's length; each further one within 30 days doubles it (at most 30 days)")
	// 30 000: the web page solves it in about 0.4 s (median; p95 about 0.8 s) in headless
	// Chromium on a 2-CPU machine, in a worker, before Start (BENCHMARKS.md).
	fs.Int64Var(&c.PowMaxNumber, "pow-max-number", 30_000, "difficulty of the proof of work before a connection's first find_match: the range of the number to find (0: no proof of work, for load tests and local development)")
	// 20 openings a minute: a campus of a few hundred people, each opening a connection every
	// ten minutes or so, pays the base (pow.go has the curve; BENCHMARKS.md what it costs).
	fs.IntVar(&c.PowFreeRate, "pow-free-rate", 20, "connection openings per minute from one address (across all instances) that pay only POW_MAX_NUMBER; above it the range grows with the square of the rate (0: everybody pays the base)")
	fs.Int64Var(&c.PowMaxNumberCap, "pow-max-number-cap", 2_000_000, "the largest range the adaptive proof of work asks of a busy address (at least POW_MAX_NUMBER; a page solves the default in about 25 s, so whoever shares a busy address is slowed, never shut out)")
	fs.DurationVar(&c.PowTTL, "pow-ttl", 10*time.Minute, "how long a proof-of-work challenge may be solved and used")
	fs.IntVar(&c.EvidenceMax, "report-evidence-max", 1000, "open reports that keep their evidence (still and chat lines, up to about 350 KB each), shared fairly among reporters; past it a report keeps its evidence only by taking the oldest slot of the reporter holding the most")
	fs.IntVar(&c.ReportsMax, "reports-max", 50_000, "open reports stored at all (up to about 4 KB each without evidence), shared fairly among reporters like the evidence, so that reports can never fill Redis")
	fs.DurationVar(&c.MinConversation, "autoban-min-conversation", 10*time.Second, "a report counts towards an automatic ban only of a conversation at least this long (and in which the reported user took part, with evidence)")
	fs.DurationVar(&c.ReporterAge, "autoban-reporter-age", 24*time.Hour, "a report counts towards an automatic ban only from a network first seen at least this long ago (remembered for REPORT_TTL after its last connection)")
	fs.IntVar(&c.WatchReporters, "watch-reporters", 1, "distinct networks whose open reports that count (as for AUTOBAN_REPORTERS) make an address watched: matched with other watched users first, with everyone else only after WATCH_WAIT; below AUTOBAN_REPORTERS to mean anything (at most it; 0: reports never do)")
	fs.DurationVar(&c.WatchAfterBan, "watch-after-ban", 30*24*time.Hour, "how long an address stays watched after a ban of it ends (a ban a moderator lifts leaves nothing; 0: none)")
	fs.DurationVar(&c.WatchWait, "watch-wait", 30*time.Second, "how long a watched user waits for another watched user before everyone else is offered too (and it to them)")
	fs.StringVar(&c.ModToken, "mod-token", "", "bearer token of the moderator console at /mod and /mod/api (empty: the console is off and answers 404)")
	fs.StringVar(&c.ModAddr, "mod-addr", "", "address of a separate listener for the moderator console, e.g. :8081 (then the public listener answers 404 for /mod and /mod/api, so that no public route reaches it)")
	fs.StringVar(&stun, "stun-urls", "", "comma list of STUN URLs given to clients (default: none, so nothing calls a third party)")
	fs.StringVar(&turn, "turn-urls", "", "comma list of TURN URLs given to clients with time-limited credentials")
	fs.StringVar(&c.TURNSecret, "turn-secret", "", "shared secret of the TURN server (coturn use-auth-secret)")
	fs.DurationVar(&c.TURNTTL, "turn-ttl", time.Hour, "lifetime of issued TURN credentials")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "address of a separate listener for /debug/pprof, e.g. 127.0.0.1:6060 (default: off; never expose it publicly)")

	// Hardening, round 2 (issue 21)
	secretFiles := map[string]*string{}
	for _, name := range secretSettings {
		secretFiles[name] = fs.String(name+"-file", "", "a file holding "+settingName(name)+" (instead of the variable: for secrets mounted into the container)")
	}
	fs.DurationVar(&c.MessageTimeout, "message-timeout", 20*time.Second, "longest an inbound message may take to arrive, from its first frame to its last, pongs or not; past it the socket is closed with 1008")
	fs.IntVar(&c.MaxHTTPConnsPerIP, "max-http-conns-per-ip", 256, "TCP connections one peer address may hold open on an instance before they become WebSockets (half-sent requests and keep-alive ones included); more are closed at once. Trusted proxies are exempt (0: no limit)")
	fs.Int64Var(&c.UnfinishedBytesPerIP, "unfinished-bytes-per-ip", 1<<20, "bytes of inbound messages still arriving that one client address may hold on an instance; a message that would exceed it closes its socket with 1008")

	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go-megle [flags]\n\nEvery flag can also be set by the environment variable in brackets; a flag wins over its variable.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  -%s [%s]  (default %q)\n    \t%s\n", f.Name, settingName(f.Name), f.DefValue, f.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := settingName(f.Name)
		if v := getenv(env); v != "" && !given[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return c, err
	}

	c.InstanceID = wire.InstanceID(instance)
	if c.InstanceID == "" {
		c.InstanceID = wire.InstanceID(wire.NewID())
	}
	c.ForwardedHeader = strings.ToLower(c.ForwardedHeader)
	c.AllowedOrigins = splitList(origins)
	c.STUNURLs = splitList(stun)
	c.TURNURLs = splitList(turn)
	c.RedisClusterAddrs = splitList(cluster)
	c.RedisSentinelAddrs = splitList(sentinels)
	for _, p := range splitList(proxies) {
		prefix, err := safety.ParsePrefix(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	errs = append(errs, c.readSecretFiles(fs, secretFiles))
	errs = append(errs, c.validate())
	return c, errors.Join(errs...)
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !wire.ValidIDText(string(c.InstanceID)) {
		bad("INSTANCE_ID must be 1-64 characters of letters, digits, '-', '_' or '.'")
	}
	open, close := strings.IndexByte(c.KeyPrefix, '{'), strings.IndexByte(c.KeyPrefix, '}')
	if open < 0 || close < open+2 {
		bad("KEY_PREFIX %q must contain a non-empty hash tag like {mm}, so that match.lua's keys share a cluster slot", c.KeyPrefix)
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			bad("ALLOWED_ORIGINS entry %q must look like https://host[:port] (or be *)", o)
		}
	}
	modes := 0
	for _, set := range []bool{c.RedisURL != "", len(c.RedisClusterAddrs) > 0, len(c.RedisSentinelAddrs) > 0} {
		if set {
			modes++
		}
	}
	if modes > 1 {
		bad("set only one of REDIS_URL, REDIS_CLUSTER_ADDRS and REDIS_SENTINEL_ADDRS")
	}
	if len(c.RedisSentinelAddrs) > 0 && c.RedisSentinelMaster == "" {
		bad("REDIS_SENTINEL_ADDRS needs REDIS_SENTINEL_MASTER")
	}
	if len(c.TURNURLs) > 0 && c.TURNSecret == "" {
		bad("TURN_URLS needs TURN_SECRET (credentials are time-limited HMACs of it)")
	}
	positive := map[string]time.Duration{
		"MATCH_TTL": c.MatchTTL, "REDIS_TIMEOUT": c.RedisTimeout, "RESUME_GRACE": c.ResumeGrace, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
		"HEARTBEAT_INTERVAL": c.HeartbeatInterval, "SWEEP_INTERVAL": c.SweepInterval,
		"ONLINE_INTERVAL": c.OnlineInterval, "PING_INTERVAL": c.PingInterval, "TURN_TTL": c.TURNTTL,
		"HTTP_TIMEOUT": c.HTTPTimeout, "HTTP_IDLE_TIMEOUT": c.HTTPIdleTimeout,
	}
	for name, d := range positive {
		if d <= 0 {
			bad("%s must be positive", name)
		}
	}
	if c.MatchTTL < time.Second {
		bad("MATCH_TTL must be at least 1s")
	}
	if c.HeartbeatTTL < 2*c.HeartbeatInterval {
		bad("HEARTBEAT_TTL must be at least twice HEARTBEAT_INTERVAL")
	}
	if c.InterestFallback < 0 {
		bad("INTEREST_FALLBACK must not be negative")
	}
	if c.ReadLimit < 1024 {
		bad("READ_LIMIT must be at least 1024")
	}
	if c.SendQueue < 8 {
		bad("SEND_QUEUE must be at least 8")
	}
	if c.EnvelopeVersion != 1 && c.EnvelopeVersion != 2 {
		bad("BUS_ENVELOPE_VERSION must be 1 or 2")
	}
	if c.SendBytes < 2*wire.MaxRelayBytes || c.PublishBytes < 2*wire.MaxRelayBytes {
		bad("SEND_QUEUE_BYTES and PUBLISH_QUEUE_BYTES must be at least 128 KiB (two relayed messages must fit)")
	}
	if c.RematchCooldown < 0 || c.ReportTTL < time.Minute || c.ReportRate < 1 || c.AutobanReporters < 0 || c.EvidenceMax < 0 ||
		c.AutobanWindow <= 0 || c.AutobanDuration <= 0 {
		bad("REMATCH_COOLDOWN must not be negative, REPORT_TTL at least 1m, REPORT_RATE at least 1, AUTOBAN_REPORTERS not negative, AUTOBAN_WINDOW and AUTOBAN_DURATION positive")
	}
	if c.ReportsMax < 1 || c.MinConversation < 0 || c.ReporterAge < 0 || c.ReporterAge >= c.ReportTTL {
		bad("REPORTS_MAX must be at least 1, AUTOBAN_MIN_CONVERSATION and AUTOBAN_REPORTER_AGE not negative, and AUTOBAN_REPORTER_AGE shorter than REPORT_TTL (how long a network is remembered)")
	}
	if c.WatchReporters < 0 || (c.AutobanReporters > 0 && c.WatchReporters > c.AutobanReporters) || c.WatchAfterBan < 0 || c.WatchAfterBan > 365*24*time.Hour || c.WatchWait < 0 {
		bad("WATCH_REPORTERS must be 0 to AUTOBAN_REPORTERS (watching is the weaker step before a ban), WATCH_AFTER_BAN 0 to 365 days, WATCH_WAIT not negative")
	}
	if c.PowMaxNumber < 0 || c.PowMaxNumber > 100_000_000 || c.PowTTL < time.Minute {
		bad("POW_MAX_NUMBER must be 0 to 100000000, POW_TTL at least 1m")
	}
	if c.PowFreeRate < 0 || c.PowMaxNumberCap < c.PowMaxNumber || c.PowMaxNumberCap > 1_000_000_000 {
		bad("POW_FREE_RATE must not be negative, POW_MAX_NUMBER_CAP from POW_MAX_NUMBER to 1000000000")
	}
	if c.ModAddr != "" && c.ModToken == "" {
		bad("MOD_ADDR needs MOD_TOKEN (the console it serves is off without one)")
	}
	if c.ModToken != "" && len(c.ModToken) < 16 {
		bad("MOD_TOKEN must be at least 16 characters (it guards bans and every report's evidence)")
	}
	if c.FindRate < 0 || c.FindBurst < 1 {
		bad("FIND_MATCH_RATE must not be negative and FIND_MATCH_BURST must be positive")
	}
	if c.RateLimit < 0 || c.RateBurst < 1 || c.RateStrike < 1 || c.MaxConnsPerIP < 0 {
		bad("RATE_LIMIT, MAX_CONNS_PER_IP must not be negative; RATE_BURST and RATE_STRIKES must be positive")
	}
	if c.ForwardedHeader != safety.HeaderXForwardedFor && c.ForwardedHeader != safety.HeaderForwarded {
		bad("FORWARDED_HEADER must be x-forwarded-for or forwarded")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT must be text or json")
	}
	if c.MessageTimeout < time.Second || c.UnfinishedBytesPerIP < c.ReadLimit || c.MaxHTTPConnsPerIP < 0 {
		bad("MESSAGE_TIMEOUT must be at least 1s, UNFINISHED_BYTES_PER_IP at least READ_LIMIT, MAX_HTTP_CONNS_PER_IP not negative")
	}
	if names := c.publicDefaults(); len(names) > 0 && !c.development() {
		bad("%s: a public development default (%s…), known to anyone with the repository: with it anyone can reverse address hashes, "+
			"use the TURN server or reach Redis; set random values of your own (openssl rand -hex 32), or run the compose file, which makes them",
			strings.Join(names, ", "), publicDefaultPrefix)
	}
	return errors.Join(errs...)
}

// readSecretFiles sets every secret whose _FILE setting names a file to that file's content.
func (c *Config) readSecretFiles(fs *flag.FlagSet, files map[string]*string) error {
	var errs []error
	for _, name := range secretSettings {
		path := *files[name]
		if path == "" {
			continue
		}
		secret := fs.Lookup(name)
		if secret.Value.String() != "" {
			errs = append(errs, fmt.Errorf("set %s or %s_FILE, not both", settingName(name), settingName(name)))
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: %w", settingName(name), err))
			continue
		}
		value := strings.TrimRight(string(b), "\r\n")
		if value == "" {
			errs = append(errs, fmt.Errorf("%s_FILE: %s is empty", settingName(name), path))
			continue
		}
		if err := secret.Value.Set(value); err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: %w", settingName(name), err))
		}
	}
	return errors.Join(errs...)
}

// development says whether the server runs on its embedded Redis: one instance on one machine.
func (c *Config) development() bool {
	return c.RedisURL == "" && len(c.RedisClusterAddrs) == 0 && len(c.RedisSentinelAddrs) == 0
}

// publicDefaults names the secrets that hold a public development default.
func (c *Config) publicDefaults() []string {
	var names []string
	for name, value := range map[string]string{"BAN_SECRET": c.BanSecret, "TURN_SECRET": c.TURNSecret, "MOD_TOKEN": c.ModToken,
		"REDIS_PASSWORD": c.RedisPassword} {
		if strings.HasPrefix(value, publicDefaultPrefix) {
			names = append(names, name)
		}
	}
	if u, err := url.Parse(c.RedisURL); err == nil && u.User != nil {
		if p, _ := u.User.Password(); strings.HasPrefix(p, publicDefaultPrefix) {
			names = append(names, "REDIS_URL (its password)")
		}
	}
	slices.Sort(names)
	return names
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Environ adapts os.Getenv for LoadConfig (kept here: config.go is the only reader of the environment).
func Environ(name string) string { return os.Getenv(name) }

// redis is the part of the configuration that says which Redis to open.
func (c Config) redis() store.RedisConfig {
	return store.RedisConfig{URL: c.RedisURL, ClusterAddrs: c.RedisClusterAddrs, SentinelAddrs: c.RedisSentinelAddrs,
		SentinelMaster: c.RedisSentinelMaster, Password: c.RedisPassword, Timeout: c.RedisTimeout}
}
