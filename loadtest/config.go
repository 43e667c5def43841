package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Load modes.
const (
	modeIdle  = "idle"
	modeBurst = "burst"
	modeRelay = "relay"
	modeChurn = "churn"
)

// Config is every setting of one run.
type Config struct {
	URLs               []string      // instance WebSocket URLs; clients go round-robin over them
	Mode               string        // idle, burst, relay or churn
	N                  int           // clients
	Duration           time.Duration // idle: hold time; relay and churn: load time
	Timeout            time.Duration // hard bound on the whole run
	MatchTimeout       time.Duration // a find_match with no match_found after this is lost
	Linger             time.Duration // burst: keep listening after the last match for duplicates
	Drain              time.Duration // relay: wait this long for the last answers
	Rate               float64       // relay: round trips a second over all pairs; 0 saturates
	Window             int           // relay, saturated: offers in flight per pair
	Cross              bool          // burst, relay: pair 2k with 2k+1 through a unique shared interest
	Next               bool          // churn: press "next" (find_match) instead of leave
	HoldMin, HoldMax   time.Duration // churn: an initiator stays in its match a random while in [HoldMin, HoldMax] before it ends it (0: at once)
	MediaMode          string        // find_match mode: video, text, mixed (pairs of clients alternate) or empty (server default)
	SrcIPs             int           // loopback source addresses 127.0.0.2.. (0: kernel's choice)
	ConnectConcurrency int           // handshakes in flight
	ConnectRate        float64       // new connections a second (0: unpaced)
	HandshakeTimeout   time.Duration // per connection, up to its hello
	ReadBuffer         int           // gorilla read buffer per connection
	WriteBuffer        int           // gorilla write buffer (pooled)
	Origin             string        // Origin header (empty: none, like a native client)
	PIDs               []int         // idle: server processes whose VmRSS is read; churn: whose CPU time is read
	RedisPID           int           // churn: the redis-server whose CPU time is read (0: none)
	Settle             time.Duration // idle: wait after the last hello before reading VmRSS
	JSON               bool          // print one JSON object on stdout
	Aggregate          string        // instead of a load: summarise the -json results in this file
	Label              string        // -aggregate: the load's name in the Markdown rows
	Versus             string        // -aggregate: also the ratio of each run's rate to the same-numbered run's in this file
	VersusName         string        // -versus: what that file's runs are, in the ratio's name
	CPUProfile         string        // write the load generator's own CPU profile here
	BusySample         time.Duration // sample the machine's CPU use this long before the load (0: not)
	MaxBusy            float64       // with BusySample: skip the run (exit 3) when the CPUs were busier than this, percent
}

// mediaMixed alternates the find_match mode by pairs of clients.
const mediaMixed = "mixed"

// mediaFor is the find_match mode of client idx.
func (c Config) mediaFor(idx int) string {
	if c.MediaMode != mediaMixed {
		return c.MediaMode
	}
	if (idx/2)%2 == 0 {
		return "video"
	}
	return "text"
}

// parseConfig reads the command line.
func parseConfig(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var urls, pids string
	fs.StringVar(&urls, "urls", "ws://127.0.0.1:8080/ws", "comma-separated instance WebSocket URLs; clients are spread round-robin")
	fs.StringVar(&cfg.Mode, "mode", modeBurst, "idle, burst, relay or churn")
	fs.IntVar(&cfg.N, "n", 2000, "number of clients (even for burst and relay)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "idle: hold time; relay and churn: load time")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "hard bound on the whole run (0: derived from the other settings)")
	fs.DurationVar(&cfg.MatchTimeout, "match-timeout", 10*time.Second, "a find_match with no match_found after this counts as lost")
	fs.DurationVar(&cfg.Linger, "linger", 500*time.Millisecond, "burst: keep listening this long after the last match to catch duplicates")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "relay: wait at most this long for answers to the last offers")
	fs.Float64Var(&cfg.Rate, "rate", 0, "relay: offer/answer round trips per second over all pairs (0: saturate)")
	fs.IntVar(&cfg.Window, "window", 1, "relay with -rate 0: offers in flight per pair")
	fs.BoolVar(&cfg.Cross, "cross", false, "burst, relay: pair client 2k with 2k+1 (the next URL's) through a unique shared interest, so over two instances every pair crosses them; the server's own random pairing is then not what is measured")
	fs.BoolVar(&cfg.Next, "next", false, "churn: press next (find_match while matched) instead of leave + find_match")
	fs.DurationVar(&cfg.HoldMin, "hold-min", 0, "churn: an initiator stays in its match at least this long before it ends it (with -hold-max)")
	fs.DurationVar(&cfg.HoldMax, "hold-max", 0, "churn: ... and at most this long, uniformly at random (0: it ends the match at once: saturation)")
	fs.StringVar(&cfg.MediaMode, "media", "video", "find_match mode: video, text, mixed (clients 2k and 2k+1 take video when k is even, text when odd; a match across modes is double-booking) or empty (omit)")
	fs.IntVar(&cfg.SrcIPs, "src-ips", 0, "spread connections over this many source addresses 127.0.0.2.. (0: kernel's choice); one address has ~28k ports")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", 256, "handshakes in flight")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", 0, "new connections per second (0: unpaced)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", 30*time.Second, "per connection, until its hello")
	fs.IntVar(&cfg.ReadBuffer, "read-buffer", 1024, "read buffer per connection, bytes")
	fs.IntVar(&cfg.WriteBuffer, "write-buffer", 1024, "write buffer (pooled), bytes")
	fs.StringVar(&cfg.Origin, "origin", "", "Origin header to send (empty: none)")
	fs.StringVar(&pids, "pids", "", "idle: comma-separated server PIDs whose VmRSS is read before and after; churn: whose CPU time during the load is reported per match")
	fs.IntVar(&cfg.RedisPID, "redis-pid", 0, "churn: the redis-server PID whose CPU time during the load is reported per 1000 matches (0: none)")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Second, "idle: wait after the last hello before reading VmRSS")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object of results on stdout (the summary goes to stderr)")
	fs.StringVar(&cfg.Aggregate, "aggregate", "", "no load: read JSON results (one per line, from -json) from this file and print each metric's median, min and max as Markdown table rows")
	fs.DurationVar(&cfg.BusySample, "busy-sample", 0, "before the load, measure how busy the machine's CPUs are over this long and report it (other work skews every figure; 0: skip)")
	fs.Float64Var(&cfg.MaxBusy, "max-busy", 0, "with -busy-sample: when more than this percentage of the CPUs was busy, run no load and exit 3 (0: always run)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file (to check it is not the bottleneck)")
	fs.StringVar(&cfg.Label, "label", "", "-aggregate: the load's name in the first column")
	fs.StringVar(&cfg.Versus, "versus", "", "-aggregate: another -json results file, run for run beside this one (the bench alternates them); adds the median ratio of each run's rate to its partner's")
	fs.StringVar(&cfg.VersusName, "versus-name", "the -versus run", "-versus: what the other file's runs are, for the ratio's name")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.URLs = append(cfg.URLs, u)
		}
	}
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil {
			return Config{}, fmt.Errorf("-pids: %w", err)
		}
		cfg.PIDs = append(cfg.PIDs, pid)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.defaultTimeout()
	}
	return cfg, cfg.validate()
}

// defaultTimeout leaves room for connecting, the load itself and its tail.
func (c Config) defaultTimeout() time.Duration {
	connect := c.HandshakeTimeout
	if c.ConnectRate > 0 {
		connect += time.Duration(float64(c.N) / c.ConnectRate * float64(time.Second))
	}
	return connect + c.Duration + c.Settle + 2*c.MatchTimeout + c.HoldMax + c.Linger + c.Drain + 30*time.Second
}

func (c Config) validate() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, errors.New("-urls: at least one URL"))
	}
	switch c.Mode {
	case modeIdle, modeChurn:
	case modeBurst, modeRelay:
		if c.N%2 != 0 {
			errs = append(errs, fmt.Errorf("-n %d: %s needs an even number of clients, or one is always left over", c.N, c.Mode))
		}
	default:
		errs = append(errs, fmt.Errorf("-mode %q: want idle, burst, relay or churn", c.Mode))
	}
	switch c.MediaMode {
	case "", "video", "text":
	case mediaMixed:
		if (c.Mode == modeBurst || c.Mode == modeRelay) && c.N%4 != 0 {
			errs = append(errs, fmt.Errorf("-n %d: -media mixed needs a multiple of 4 clients, an even number per mode", c.N))
		}
	default:
		errs = append(errs, fmt.Errorf("-media %q: want video, text, mixed or empty", c.MediaMode))
	}
	if c.Cross && c.Mode != modeBurst && c.Mode != modeRelay {
		errs = append(errs, errors.New("-cross: only for burst and relay"))
	}
	if c.N < 1 || (c.Mode != modeIdle && c.N < 2) {
		errs = append(errs, fmt.Errorf("-n %d: too few clients", c.N))
	}
	if c.HoldMin < 0 || c.HoldMax < c.HoldMin || c.HoldMax > 0 && c.Mode != modeChurn {
		errs = append(errs, errors.New("-hold-min, -hold-max: churn only, 0 <= min <= max"))
	}
	if c.Rate < 0 || c.ConnectRate < 0 {
		errs = append(errs, errors.New("-rate and -connect-rate must not be negative"))
	}
	if c.Window < 1 {
		errs = append(errs, errors.New("-window: at least 1"))
	}
	if c.ConnectConcurrency < 1 {
		errs = append(errs, errors.New("-connect-concurrency: at least 1"))
	}
	if c.SrcIPs < 0 || c.SrcIPs > 1<<16 {
		errs = append(errs, errors.New("-src-ips: 0 to 65536"))
	}
	if c.Duration <= 0 || c.Timeout <= 0 || c.MatchTimeout <= 0 || c.HandshakeTimeout <= 0 {
		errs = append(errs, errors.New("-duration, -timeout, -match-timeout and -handshake-timeout must be positive"))
	}
	if c.ReadBuffer < 64 || c.WriteBuffer < 64 {
		errs = append(errs, errors.New("-read-buffer and -write-buffer: at least 64 bytes"))
	}
	return errors.Join(errs...)
}
