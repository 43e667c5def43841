package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// Regressions found in review: a resume while the old socket is still open, stale queue
// entries beyond one script run's budget, and how a connection's end is classified.

func TestResumeWhileOldSocketLingers(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url, func(c *Config) { c.ResumeGrace = 300 * time.Millisecond })
	inst := startInstance(t, cfg)
	rdb := rdbFor(t, url)
	keys := Keys{cfg.KeyPrefix}

	for _, tc := range []struct {
		name     string
		oldEnds  func(*wsClient)
		wantHeld bool
	}{
		{"the old socket then closes with a close frame", (*wsClient).closeClean, false},
		{"the old socket then drops", (*wsClient).close, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
			m, _ := pair(t, a, b)
			// the server has not noticed b's socket is gone when b comes back on a new one
			b2 := dial(t, inst.wsURL()+"?resume="+b.hello.ResumeToken, nil)
			if !b2.hello.Resumed || b2.hello.Match == nil || b2.hello.Match.MatchID != m.MatchID {
				t.Fatalf("resume: %+v", b2.hello)
			}
			tc.oldEnds(b)
			waitFor(t, 5*time.Second, "the old connection's cleanup", func() bool {
				return inst.app.Hub.ClientCount() == 2 // a and b2: the old b is gone
			})
			// past any grace period the old socket could have started
			time.Sleep(2 * cfg.ResumeGrace)
			if v := rdb.HGet(context.Background(), keys.User(b2.id()), "detached").Val(); v != "" {
				t.Fatalf("the live user carries a stale resume deadline %s", v)
			}
			checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b2}, 0) // no partner_left, and it still talks
			// and the next blip resumes as well
			b2.close()
			b3 := dial(t, inst.wsURL()+"?resume="+b.hello.ResumeToken, nil)
			if !b3.hello.Resumed || b3.hello.Match == nil {
				t.Fatalf("second resume: %+v", b3.hello)
			}
			checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b3}, 0)
		})
	}
}

func TestMatchingGetsPastManyStaleEntries(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	rdb := rdbFor(t, url)
	keys := Keys{cfg.KeyPrefix}
	ctx := context.Background()
	// the waiting users of an instance that died: far more than one script run drops
	const stale = 1000
	pipe := rdb.Pipeline()
	for i := range stale {
		id := ClientID(fmt.Sprintf("GHOST%04d", i))
		pipe.HSet(ctx, keys.User(id), "state", "waiting", "mode", "video", "instance", "dead-instance")
		pipe.SAdd(ctx, keys.Queue(ModeVideo), string(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	a.send(EvFindMatch, nil)
	a.expect(EvWaiting, nil)
	b.send(EvFindMatch, nil)
	var m MatchFoundData
	b.expect(EvMatchFound, &m)
	if m.PartnerID != a.id() {
		t.Fatalf("matched with %s, want the live user %s", m.PartnerID, a.id())
	}
	if n := rdb.SCard(ctx, keys.Queue(ModeVideo)).Val(); n != 0 {
		t.Fatalf("%d stale entries left in the queue", n)
	}
}

func TestClassifyEnd(t *testing.T) {
	_, url := startMiniredis(t)
	app, err := NewApp(context.Background(), testConfig(t, url), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	for _, tc := range []struct {
		name  string
		close int // -1: not closed by us
		hold  bool
	}{
		{"the network dropped under the reader", -1, true},
		{"a write failed (the writer closed with no code)", 0, true},
		{"a restart", CloseServiceRestart, true},
		{"a policy close", ClosePolicy, false},
		{"a frame too large", CloseTooBig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient("X", "h", "127.0.0.1", app.Hub, nil, app.log, app.Metrics, ClientLimits{SendQueue: 8})
			c.writing = true // no connection and no writer in this test
			if tc.close >= 0 {
				c.Close(tc.close, "")
			}
			if got := c.classifyEnd(io.ErrUnexpectedEOF); got != tc.hold {
				t.Fatalf("hold = %v, want %v", got, tc.hold)
			}
		})
	}
}

func TestWaitingClientsAreReconciledWithRedis(t *testing.T) {
	mr, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	keys := Keys{cfg.KeyPrefix}

	t.Run("a search Redis forgot (a restart) is queued again", func(t *testing.T) {
		a := dial(t, inst.wsURL(), nil)
		a.send(EvFindMatch, nil)
		a.expect(EvWaiting, nil)
		mr.Del(keys.User(a.id()))
		mr.Del(keys.Queue(ModeVideo))
		b := dial(t, inst.wsURL(), nil)
		b.send(EvFindMatch, nil)
		// b waits (a is nowhere in Redis) until the sweep queues a's search again, which
		// then finds b
		var ma, mb MatchFoundData
		a.expect(EvMatchFound, &ma)
		b.expect(EvWaiting, nil)
		b.expect(EvMatchFound, &mb)
		if ma.PartnerID != b.id() || mb.PartnerID != a.id() || ma.MatchID != mb.MatchID {
			t.Fatalf("%+v / %+v", ma, mb)
		}
		a.send(EvLeave, nil)
		b.expect(EvPartnerLeft, nil)
		if n := metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_reconciled_total", map[string]string{"kind": "requeued"}); n < 1 {
			t.Fatalf("reconciled_total{requeued} = %v", n)
		}
	})
	t.Run("a match whose notice was lost is applied", func(t *testing.T) {
		a, p := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		a.send(EvFindMatch, map[string]any{"interests": []string{"lost"}})
		a.expect(EvWaiting, nil)
		// what match.lua does when p pops a, without the notice to a's instance
		ticket := mr.HGet(keys.User(a.id()), "ticket")
		if ticket == "" {
			t.Fatal("no ticket in a's user hash")
		}
		mid := MatchID("LOSTNOTICE")
		mr.HSet(keys.Match(mid), "a", string(p.id()), "b", string(a.id()), "mode", "video", "common", "lost")
		mr.HSet(keys.User(a.id()), "state", "matched", "match", string(mid), "partner", string(p.id()))
		mr.HSet(keys.User(p.id()), "state", "matched", "match", string(mid), "partner", string(a.id()), "instance", string(cfg.InstanceID))
		mr.SRem(keys.InterestQueue(ModeVideo, "lost"), string(a.id()))
		var m MatchFoundData
		a.expect(EvMatchFound, &m)
		if m.PartnerID != p.id() || m.MatchID != mid || m.Initiator || len(m.CommonInterests) != 1 {
			t.Fatalf("recovered match_found %+v", m)
		}
		if n := metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_reconciled_total", map[string]string{"kind": "match_applied"}); n != 1 {
			t.Fatalf("reconciled_total{match_applied} = %v", n)
		}
	})
}
