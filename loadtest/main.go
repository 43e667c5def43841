// Command loadtest is Go-Megle's load generator and protocol checker. It speaks the real wire
// protocol (internal/wire) over real WebSockets to one or more instances and runs one of four
// loads: idle (server memory per held connection), burst (everyone asks for a match at once),
// relay (offer/answer round trips between matched pairs, paced or saturated) and churn (match,
// leave, match again). Every run is bounded and stops by itself; it exits 1 when the checker
// saw a lost, duplicated, misrouted or double-booked event or any protocol error, so it
// doubles as a pass/fail check.
//
//	go run ./loadtest -mode burst -n 2000 -urls ws://127.0.0.1:8080/ws,ws://127.0.0.1:8081/ws
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

func main() {
	os.Exit(mainExit(os.Args[1:], os.Stdout, os.Stderr))
}

// mainExit runs the command and returns its exit code: 0 pass, 1 the checks failed, 2 bad
// usage, 3 skipped because the machine was busy (-max-busy).
func mainExit(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	if cfg.Aggregate != "" {
		return aggregateFile(cfg, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "loadtest: cpu profile: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	res := run(ctx, cfg, stderr)
	if res.Skipped != "" {
		fmt.Fprintf(stderr, "loadtest: skipped: %s\n", res.Skipped)
		return 3
	}
	summaryTo := stdout
	if cfg.JSON {
		summaryTo = stderr
		if err := res.writeJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 1
		}
	}
	if err := res.writeSummary(summaryTo); err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
	}
	if !res.OK {
		return 1
	}
	return 0
}

// aggregateFile prints the Markdown rows of the results in cfg.Aggregate; it fails when
// any of those runs failed the checker.
func aggregateFile(cfg Config, stdout, stderr io.Writer) int {
	runs, err := readResultsFile(cfg.Aggregate)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	failed := 0
	for _, r := range runs {
		if !r.OK {
			failed++
		}
	}
	aggs := aggregateRuns(runs)
	if cfg.Versus != "" {
		base, err := readResultsFile(cfg.Versus)
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
		ratio, ok := rateRatio(runs, base, cfg.VersusName)
		if !ok {
			fmt.Fprintf(stderr, "loadtest: %s and %s: no pair of runs with a rate to compare\n", cfg.Aggregate, cfg.Versus)
			return 1
		}
		aggs = append([]aggregate{ratio}, aggs...)
	}
	if err := writeMarkdown(stdout, cfg.Label, aggs, failed); err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	if failed > 0 || len(runs) == 0 {
		return 1
	}
	return 0
}

// run performs one load run and returns its result; it always returns within cfg.Timeout
// plus the time it takes to close the connections.
func run(ctx context.Context, cfg Config, logw io.Writer) Result {
	res := Result{Mode: cfg.Mode, URLs: cfg.URLs, Clients: cfg.N}
	if cfg.BusySample > 0 {
		busy, err := cpuBusy(ctx, cfg.BusySample)
		if err != nil {
			fmt.Fprintf(logw, "loadtest: warning: %v\n", err)
		}
		res.BusyBefore = &busy
		if cfg.MaxBusy > 0 && busy > cfg.MaxBusy {
			res.Skipped = fmt.Sprintf("the CPUs were %.0f %% busy before the load (-max-busy %.0f)", busy, cfg.MaxBusy)
			return res
		}
	}
	t := newTally()
	if got, err := raiseFileLimit(uint64(cfg.N) + 1024); err != nil {
		fmt.Fprintf(logw, "loadtest: warning: %v\n", err)
	} else if got < uint64(cfg.N)+64 {
		fmt.Fprintf(logw, "loadtest: warning: open-file limit %d is below %d clients; run as root or raise ulimit -Hn\n", got, cfg.N)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	var m mode
	switch cfg.Mode {
	case modeIdle:
		m = newIdleMode(cfg)
	case modeBurst:
		m = newBurstMode(cfg, t)
	case modeRelay:
		m = newRelayMode(cfg, t)
	case modeChurn:
		m = newChurnMode(cfg, t)
	default:
		res.fail("unknown mode %q", cfg.Mode)
		return res
	}
	if err := m.before(); err != nil {
		res.fail("%v", err)
		return res
	}

	start := time.Now()
	clients, failed, examples := connectAll(ctx, cfg, newDialer(cfg), m, t)
	res.ConnectSeconds = time.Since(start).Seconds()
	res.Connected, res.ConnectFailed = len(clients), failed
	res.Examples = append(res.Examples, examples...)
	if failed == 0 || cfg.Mode == modeIdle {
		cpu := startCPU(cfg, logw)
		loadStart := time.Now()
		m.run(ctx, clients, &res)
		res.LoadSeconds = time.Since(loadStart).Seconds()
		res.CPU = cpu.stop(logw)
	}
	// From here on the clients close: partner_left and the like are expected, not checked.
	t.ended.Store(true)
	closeAll(clients)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.fail("global timeout %v reached before the run finished", cfg.Timeout)
	} else if ctx.Err() != nil {
		res.fail("interrupted: %v", ctx.Err())
	}
	res.finish(t)
	return res
}

// mode is one kind of load. The mode is also the handler of its clients' events.
type mode interface {
	handler
	before() error // runs before any client connects
	run(ctx context.Context, clients []*client, res *Result)
}

// sleepCtx waits d or until ctx is done; it reports whether the whole d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cpuSample is the CPU time of the processes under test (and of this one) when the load began.
type cpuSample struct {
	server, redis []int
	before        map[int]time.Duration
}

// startCPU reads the CPU time of the -pids and -redis-pid processes and of the load generator.
func startCPU(cfg Config, logw io.Writer) *cpuSample {
	s := &cpuSample{server: cfg.PIDs, before: map[int]time.Duration{}}
	if cfg.RedisPID > 0 {
		s.redis = []int{cfg.RedisPID}
	}
	for _, pid := range append(append([]int{os.Getpid()}, s.server...), s.redis...) {
		t, err := readCPU(pid)
		if err != nil {
			fmt.Fprintf(logw, "loadtest: warning: %v\n", err)
			continue
		}
		s.before[pid] = t
	}
	return s
}

// stop returns the CPU time used since startCPU, nil when the load generator's own is unknown.
func (s *cpuSample) stop(logw io.Writer) *CPUUse {
	used := func(pids []int) *float64 {
		var sum time.Duration
		for _, pid := range pids {
			t0, ok := s.before[pid]
			if !ok {
				return nil
			}
			t1, err := readCPU(pid)
			if err != nil {
				fmt.Fprintf(logw, "loadtest: warning: %v\n", err)
				return nil
			}
			sum += t1 - t0
		}
		secs := sum.Seconds()
		return &secs
	}
	self := used([]int{os.Getpid()})
	if self == nil {
		return nil
	}
	u := &CPUUse{LoadgenSeconds: *self}
	if len(s.server) > 0 {
		u.ServerSeconds = used(s.server)
	}
	if len(s.redis) > 0 {
		u.RedisSeconds = used(s.redis)
	}
	return u
}
