package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// quickConfig is a small, short run against urls.
func quickConfig(mode string, n int, urls ...string) Config {
	cfg := Config{
		URLs: urls, Mode: mode, N: n,
		Duration: 300 * time.Millisecond, MatchTimeout: 5 * time.Second, Linger: 100 * time.Millisecond,
		Drain: 5 * time.Second, Window: 1, MediaMode: "video",
		ConnectConcurrency: 64, HandshakeTimeout: 10 * time.Second,
		ReadBuffer: 1024, WriteBuffer: 1024, Settle: 10 * time.Millisecond,
	}
	cfg.Timeout = cfg.defaultTimeout()
	return cfg
}

func logResult(t *testing.T, res Result) {
	t.Helper()
	var b strings.Builder
	if err := res.writeSummary(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}

// TestRunAgainstFake runs every mode against the in-memory fake, healthy and with one fault
// each, and checks the checker's verdict.
func TestRunAgainstFake(t *testing.T) {
	tests := []struct {
		name     string
		fault    fakeFault
		cfg      func(url string) Config
		wantFail string // substring of a failure; empty: must pass
	}{
		{"idle", faultNone, func(u string) Config {
			c := quickConfig(modeIdle, 20, u)
			c.PIDs = []int{os.Getpid()}
			return c
		}, ""},
		{"burst", faultNone, func(u string) Config { return quickConfig(modeBurst, 100, u) }, ""},
		{"burst over two urls", faultNone, func(u string) Config { return quickConfig(modeBurst, 100, u, u) }, ""},
		{"relay saturated", faultNone, func(u string) Config { return quickConfig(modeRelay, 20, u) }, ""},
		{"relay saturated window 4", faultNone, func(u string) Config {
			c := quickConfig(modeRelay, 20, u)
			c.Window = 4
			return c
		}, ""},
		{"relay paced", faultNone, func(u string) Config {
			c := quickConfig(modeRelay, 20, u)
			c.Rate = 500
			return c
		}, ""},
		{"churn leave", faultNone, func(u string) Config { return quickConfig(modeChurn, 20, u) }, ""},
		{"churn next", faultNone, func(u string) Config {
			c := quickConfig(modeChurn, 20, u)
			c.Next = true
			return c
		}, ""},
		{"burst mixed modes", faultNone, func(u string) Config {
			c := quickConfig(modeBurst, 100, u)
			c.MediaMode = mediaMixed
			return c
		}, ""},
		{"churn mixed modes", faultNone, func(u string) Config {
			c := quickConfig(modeChurn, 20, u)
			c.MediaMode = mediaMixed
			return c
		}, ""},
		{"burst across modes", faultIgnoreMode, func(u string) Config {
			c := quickConfig(modeBurst, 100, u)
			c.MediaMode = mediaMixed
			return c
		}, "double-booked"},
		{"churn across modes", faultIgnoreMode, func(u string) Config {
			c := quickConfig(modeChurn, 20, u)
			c.MediaMode = mediaMixed
			return c
		}, "protocol violations"},
		{"burst never matched", faultNeverMatch, func(u string) Config {
			c := quickConfig(modeBurst, 20, u)
			c.MatchTimeout = 300 * time.Millisecond
			return c
		}, "20 clients lost"},
		{"churn never matched", faultNeverMatch, func(u string) Config {
			c := quickConfig(modeChurn, 20, u)
			c.MatchTimeout = 100 * time.Millisecond
			return c
		}, "20 find_match without match_found"},
		{"burst double match_found", faultDoubleMatch, func(u string) Config { return quickConfig(modeBurst, 20, u) }, "double-booked"},
		{"relay duplicated signals", faultDupSignal, func(u string) Config { return quickConfig(modeRelay, 20, u) }, "duplicated signals"},
		{"relay misrouted signals", faultMisrouteSignal, func(u string) Config {
			c := quickConfig(modeRelay, 20, u)
			c.Drain = 200 * time.Millisecond // the misrouted offers are never answered
			return c
		}, "misrouted signals"},
		{"churn wrong reason", faultWrongReason, func(u string) Config { return quickConfig(modeChurn, 20, u) }, "protocol violations"},
		{"churn double match_found", faultDoubleMatch, func(u string) Config {
			c := quickConfig(modeChurn, 20, u)
			c.MatchTimeout = 500 * time.Millisecond // the confused clients never settle
			return c
		}, "protocol violations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(context.Background(), tt.cfg(startFake(t, tt.fault)), io.Discard)
			logResult(t, res)
			if tt.wantFail == "" {
				if !res.OK {
					t.Fatalf("run failed: %q", res.Failures)
				}
				return
			}
			if res.OK {
				t.Fatalf("run passed, want a failure %q", tt.wantFail)
			}
			if !strings.Contains(strings.Join(res.Failures, "\n"), tt.wantFail) {
				t.Fatalf("failures %q, want one containing %q", res.Failures, tt.wantFail)
			}
		})
	}
}

func TestRunConnectFailure(t *testing.T) {
	cfg := quickConfig(modeBurst, 4, "ws://127.0.0.1:1/ws")
	res := run(context.Background(), cfg, io.Discard)
	if res.OK || res.ConnectFailed != 4 {
		t.Fatalf("want 4 connect failures and a failed run, got %+v", res)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults", nil, false},
		{"two urls and pids", []string{"-mode", "idle", "-urls", "ws://a/ws, ws://b/ws", "-pids", "1,2", "-n", "3"}, false},
		{"odd burst", []string{"-mode", "burst", "-n", "3"}, true},
		{"unknown mode", []string{"-mode", "nope"}, true},
		{"bad pid", []string{"-pids", "x"}, true},
		{"stray argument", []string{"extra"}, true},
		{"negative rate", []string{"-mode", "relay", "-rate", "-1"}, true},
		{"mixed needs a multiple of 4", []string{"-mode", "burst", "-n", "6", "-media", "mixed"}, true},
		{"mixed burst", []string{"-mode", "burst", "-n", "8", "-media", "mixed"}, false},
		{"unknown media", []string{"-media", "audio"}, true},
		{"cross only for burst and relay", []string{"-mode", "churn", "-cross"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseConfig err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && cfg.Timeout <= cfg.Duration {
				t.Fatalf("derived timeout %v not above duration %v", cfg.Timeout, cfg.Duration)
			}
		})
	}
}

// TestMainExit checks the command's contract: exit 0 and one JSON object on a clean run,
// 1 when the checker finds something, 2 on bad usage.
func TestMainExit(t *testing.T) {
	tests := []struct {
		name  string
		fault fakeFault
		args  []string
		want  int
	}{
		{"clean relay", faultNone, []string{"-mode", "relay", "-n", "10", "-duration", "200ms", "-json"}, 0},
		{"duplicated signals", faultDupSignal, []string{"-mode", "relay", "-n", "10", "-duration", "200ms", "-json"}, 1},
		{"bad usage", faultNone, []string{"-mode", "burst", "-n", "3"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			args := append([]string{"-urls", startFake(t, tt.fault)}, tt.args...)
			if got := mainExit(args, &stdout, &stderr); got != tt.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got, tt.want, stdout.String(), stderr.String())
			}
			if tt.want == 2 {
				return
			}
			runs, err := readResults(strings.NewReader(stdout.String()))
			if err != nil || len(runs) != 1 {
				t.Fatalf("stdout is not one JSON result (%v): %s", err, stdout.String())
			}
			if runs[0].OK != (tt.want == 0) {
				t.Fatalf("ok = %v with exit %d", runs[0].OK, tt.want)
			}
		})
	}
}

// TestChurnHeld: with -hold-min/-hold-max each initiator stays in its match a random while
// before its Next, which paces the load; both waits are measured (the one who pressed Next,
// and the partner it left), and the checker still finds nothing wrong.
func TestChurnHeld(t *testing.T) {
	for _, next := range []bool{true, false} {
		t.Run(fmt.Sprintf("next=%v", next), func(t *testing.T) {
			cfg := quickConfig(modeChurn, 20, startFake(t, faultNone))
			cfg.Next, cfg.Duration = next, time.Second
			cfg.HoldMin, cfg.HoldMax = 50*time.Millisecond, 150*time.Millisecond
			cfg.Timeout = cfg.defaultTimeout()
			res := run(context.Background(), cfg, io.Discard)
			logResult(t, res)
			if !res.OK {
				t.Fatalf("run failed: %q", res.Failures)
			}
			c := res.Churn
			if c.OwnWait.Count == 0 || c.LeftWait.Count == 0 {
				t.Fatalf("waits measured: own %d, partner's %d; want both", c.OwnWait.Count, c.LeftWait.Count)
			}
			// 10 pairs, each match held at least 50 ms: at most 10 × (1 s / 50 ms) + 10 matches
			if maxMatches := int64(10*20 + 10); c.Cycles/2 > maxMatches {
				t.Fatalf("%d matches in 1 s: the initiators did not hold their matches", c.Cycles/2)
			}
		})
	}
}

func TestHoldValidation(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "churn", "-hold-min", "2s", "-hold-max", "1s"},
		{"-mode", "burst", "-hold-max", "1s"},
		{"-mode", "churn", "-hold-min", "-1s"},
	} {
		if _, err := parseConfig(args, io.Discard); err == nil || !strings.Contains(err.Error(), "-hold") {
			t.Errorf("%q: %v, want a -hold error", args, err)
		}
	}
}
