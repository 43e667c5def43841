package main

import (
	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"fmt"
	"io"
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
	keys := store.NewKeys(cfg.KeyPrefix)

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
			checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b2}) // no partner_left, and it still talks
			// and the next blip resumes as well, with the token the resume handed out
			b2.close()
			b3 := dial(t, inst.wsURL()+"?resume="+b2.hello.ResumeToken, nil)
			if !b3.hello.Resumed || b3.hello.Match == nil {
				t.Fatalf("second resume: %+v", b3.hello)
			}
			checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b3})
		})
	}
}

func TestMatchingGetsPastManyStaleEntries(t *testing.T) {
	_, url := startMiniredis(t)
	// miniredis runs Lua slowly under -race on a busy machine: the 32 script runs that get
	// past 1000 stale entries may take longer than the default timeout
	cfg := testConfig(t, url, func(c *Config) { c.RedisTimeout = 30 * time.Second })
	inst := startInstance(t, cfg)
	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	ctx := context.Background()
	// the waiting users of an instance that died: far more than one script run drops
	const stale = 1000
	pipe := rdb.Pipeline()
	for i := range stale {
		id := wire.ClientID(fmt.Sprintf("GHOST%04d", i))
		pipe.HSet(ctx, keys.User(id), "state", "waiting", "mode", "video", "instance", "dead-instance")
		pipe.SAdd(ctx, keys.Queue(wire.ModeVideo), string(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	a.send(wire.EvFindMatch, nil)
	a.expect(wire.EvWaiting, nil)
	b.send(wire.EvFindMatch, nil)
	var m wire.MatchFoundData
	b.expect(wire.EvMatchFound, &m)
	if m.PartnerID != a.id() {
		t.Fatalf("matched with %s, want the live user %s", m.PartnerID, a.id())
	}
	if n := rdb.SCard(ctx, keys.Queue(wire.ModeVideo)).Val(); n != 0 {
		t.Fatalf("%d stale entries left in the queue", n)
	}
}

func TestEndCause(t *testing.T) {
	for _, tc := range []struct {
		name       string
		closedByUs bool
		code       int
		err        error
		cause      string
		hold       bool
	}{
		{"the network dropped under the reader", false, 0, io.ErrUnexpectedEOF, "dropped", true},
		{"no close frame, only a reset", false, 0, &websocket.CloseError{Code: websocket.CloseAbnormalClosure}, "dropped", true},
		{"the client closed with a close frame", false, 0, &websocket.CloseError{Code: websocket.CloseGoingAway}, "client_closed", false},
		{"a frame over the read limit", false, 0, websocket.ErrReadLimit, "too_large", false},
		{"a write failed (the writer closed with no code)", true, 0, io.ErrUnexpectedEOF, "server_closed", true},
		{"a restart", true, wire.CloseServiceRestart, &websocket.CloseError{Code: wire.CloseServiceRestart}, "server_closed", true},
		{"a policy close", true, wire.ClosePolicy, io.ErrUnexpectedEOF, "server_closed", false},
		{"a frame too large, closed by us", true, wire.CloseTooBig, io.ErrUnexpectedEOF, "server_closed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause, hold := endCause(tc.closedByUs, tc.code, tc.err)
			if cause != tc.cause || hold != tc.hold {
				t.Fatalf("endCause = %q, hold %v; want %q, hold %v", cause, hold, tc.cause, tc.hold)
			}
		})
	}
}

func TestWaitingClientsAreReconciledWithRedis(t *testing.T) {
	mr, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	keys := store.NewKeys(cfg.KeyPrefix)

	t.Run("a search Redis forgot (a restart) is queued again", func(t *testing.T) {
		a := dial(t, inst.wsURL(), nil)
		a.send(wire.EvFindMatch, nil)
		a.expect(wire.EvWaiting, nil)
		mr.Del(keys.User(a.id()))
		mr.Del(keys.Queue(wire.ModeVideo))
		b := dial(t, inst.wsURL(), nil)
		b.send(wire.EvFindMatch, nil)
		// b waits (a is nowhere in Redis) until the sweep queues a's search again, which
		// then finds b
		var ma, mb wire.MatchFoundData
		a.expect(wire.EvMatchFound, &ma)
		b.expect(wire.EvWaiting, nil)
		b.expect(wire.EvMatchFound, &mb)
		if ma.PartnerID != b.id() || mb.PartnerID != a.id() || ma.MatchID != mb.MatchID {
			t.Fatalf("%+v / %+v", ma, mb)
		}
		a.send(wire.EvLeave, nil)
		b.expect(wire.EvPartnerLeft, nil)
		if n := metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_reconciled_total", map[string]string{"kind": "requeued"}); n < 1 {
			t.Fatalf("reconciled_total{requeued} = %v", n)
		}
	})
	t.Run("a match whose notice was lost is applied", func(t *testing.T) {
		a, p := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		a.send(wire.EvFindMatch, map[string]any{"interests": []string{"lost"}})
		a.expect(wire.EvWaiting, nil)
		// what match.lua does when p pops a, without the notice to a's instance
		ticket := mr.HGet(keys.User(a.id()), "ticket")
		if ticket == "" {
			t.Fatal("no ticket in a's user hash")
		}
		mid := wire.MatchID("LOSTNOTICE")
		mr.HSet(keys.Match(mid), "a", string(p.id()), "b", string(a.id()), "mode", "video", "common", "lost")
		mr.HSet(keys.User(a.id()), "state", "matched", "match", string(mid), "partner", string(p.id()))
		mr.HSet(keys.User(p.id()), "state", "matched", "match", string(mid), "partner", string(a.id()), "instance", string(cfg.InstanceID))
		mr.SRem(keys.InterestQueue(wire.ModeVideo, "lost"), string(a.id()))
		var m wire.MatchFoundData
		a.expect(wire.EvMatchFound, &m)
		if m.PartnerID != p.id() || m.MatchID != mid || m.Initiator || len(m.CommonInterests) != 1 {
			t.Fatalf("recovered match_found %+v", m)
		}
		if n := metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_reconciled_total", map[string]string{"kind": "match_applied"}); n != 1 {
			t.Fatalf("reconciled_total{match_applied} = %v", n)
		}
	})
}
