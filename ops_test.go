package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"os/exec"
	"testing"
	"time"
)

func TestMetricsMove(t *testing.T) {
	insts, _ := startCluster(t, 2)
	scrape := func(i int) func(name string, labels map[string]string) float64 {
		fams := scrapeMetrics(t, insts[i].srv.URL+"/metrics")
		return func(name string, labels map[string]string) float64 { return metricValue(fams, name, labels) }
	}
	before := scrape(0)
	if before("gomegle_matches_total", nil) != 0 || before("gomegle_clients_connected", nil) != 0 {
		t.Fatal("a fresh instance has matches or clients")
	}

	// a local pair on instance 0 with interests, a cross-instance pair, some relaying, a leave
	a, b := dial(t, insts[0].wsURL(), nil), dial(t, insts[0].wsURL(), nil)
	a.send(wire.EvFindMatch, map[string]any{"interests": []string{"go"}})
	a.expect(wire.EvWaiting, nil)
	b.send(wire.EvFindMatch, map[string]any{"interests": []string{"go"}})
	b.expect(wire.EvMatchFound, nil)
	a.expect(wire.EvMatchFound, nil)
	b.send(wire.EvSignal, map[string]any{"type": "offer", "payload": "x"})
	a.expect(wire.EvSignal, nil)
	c, d, _ := crossPair(t, insts)
	c.send(wire.EvChat, map[string]any{"text": "hi"})
	d.expect(wire.EvChat, nil)
	a.send(wire.EvLeave, nil)
	b.expect(wire.EvPartnerLeft, nil)

	m := scrape(0)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gomegle_clients_connected", nil, 3},
		{"gomegle_matches_total", map[string]string{"kind": "interest"}, 1},
		{"gomegle_matches_total", map[string]string{"kind": "random"}, 0}, // the cross pair was made on instance 1
		{"gomegle_match_wait_seconds", nil, 3},                            // a, b, and c (paired by instance 1)
		{"gomegle_messages_relayed_total", map[string]string{"event": "signal", "path": "local"}, 1},
		{"gomegle_messages_relayed_total", map[string]string{"event": "chat", "path": "remote"}, 1},
		{"gomegle_partner_left_total", map[string]string{"reason": "left"}, 1},
		{"gomegle_users_waiting", nil, 0},
	}
	for _, c := range checks {
		if got := m(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if m("gomegle_redis_duration_seconds", map[string]string{"op": "match"}) < 2 {
		t.Error("Redis latency of the match script not observed")
	}
	if got := scrape(1)("gomegle_matches_total", map[string]string{"kind": "random"}); got != 1 {
		t.Errorf("instance 1 made %v random matches, want 1", got)
	}
	waitFor(t, 5*time.Second, "instances_alive", func() bool {
		return scrape(0)("gomegle_instances_alive", nil) == 2
	})
	if m("go_goroutines", nil) == 0 || m("process_resident_memory_bytes", nil) == 0 {
		t.Error("the Go and process collectors are missing")
	}
}

func TestHealthcheckCommand(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url))
	bin := serverBinary(t)
	if out, err := exec.Command(bin, "healthcheck", inst.srv.URL+"/healthz").CombinedOutput(); err != nil {
		t.Fatalf("healthcheck of a live instance: %v %s", err, out)
	}
	err := exec.Command(bin, "healthcheck", inst.srv.URL+"/no-such-endpoint").Run()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
		t.Fatalf("healthcheck of a wrong endpoint: %v, want exit code 1", err)
	}
}
