package main

import (
	"context"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/redistest"
)

// startCluster runs n instances in this process sharing one real redis-server.
func startCluster(t *testing.T, n int, overrides ...func(*Config)) ([]*testInstance, *redistest.Server) {
	t.Helper()
	rs := redistest.Start(t)
	base := testConfig(t, rs.URL(), overrides...)
	insts := make([]*testInstance, n)
	for i := range insts {
		cfg := base
		cfg.InstanceID = InstanceID("inst-" + string(rune('a'+i)) + "-" + newID()[:6])
		insts[i] = startInstance(t, cfg)
	}
	return insts, rs
}

// crossPair pairs a client on inst[0] with one on inst[1]; b is the initiator.
func crossPair(t *testing.T, insts []*testInstance) (a, b *wsClient, m MatchFoundData) {
	t.Helper()
	a, b = dial(t, insts[0].wsURL(), nil), dial(t, insts[1].wsURL(), nil)
	m, _ = pair(t, a, b)
	return a, b, m
}

func TestMultiInstanceMatchBurst(t *testing.T) {
	insts, _ := startCluster(t, 2, func(c *Config) { c.RedisTimeout = 30 * time.Second })
	const n = 1000
	clients := dialMany(t, n, func(i int) string { return insts[i%2].wsURL() })
	results := findAllAtOnce(t, clients)
	checkPairing(t, clients, results)
	cross := 0
	for i, r := range results {
		if len(r) == 1 && i%2 == 0 {
			for j, c := range clients {
				if c.id() == r[0].PartnerID && j%2 == 1 {
					cross++
				}
			}
		}
	}
	if cross == 0 {
		t.Fatal("no pair spans the two instances")
	}
	t.Logf("%d of %d pairs span the two instances", cross, n/2)
}

func TestMultiInstanceRelay(t *testing.T) {
	insts, _ := startCluster(t, 2)
	a, b, _ := crossPair(t, insts)
	c, d, _ := crossPair(t, insts)

	t.Run("offer and answer cross exactly once", func(t *testing.T) {
		b.send(EvSignal, map[string]any{"type": "offer", "payload": map[string]string{"sdp": "offer-1"}})
		var sig SignalData
		a.expect(EvSignal, &sig)
		if sig.SenderID != b.id() || sig.Type != "offer" || string(sig.Payload) != `{"sdp":"offer-1"}` {
			t.Fatalf("offer arrived as %+v", sig)
		}
		a.send(EvSignal, map[string]any{"type": "answer", "payload": map[string]string{"sdp": "answer-1"}})
		b.expect(EvSignal, &sig)
		if sig.SenderID != a.id() || sig.Type != "answer" {
			t.Fatalf("answer arrived as %+v", sig)
		}
		// one publisher and one subscriber per instance keep order: a duplicate would come
		// before these markers
		checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b}, 0)
	})
	t.Run("a spoofed target_id reaches nobody but the partner", func(t *testing.T) {
		a.send(EvSignal, map[string]any{"type": "offer", "payload": "evil", "target_id": d.id()})
		a.send(EvChat, map[string]any{"text": "hello d?", "target_id": c.id()})
		var sig SignalData
		b.expect(EvSignal, &sig)
		b.expect(EvChat, nil)
		checkNextIsMarker(t, []*wsClient{c}, []*wsClient{d}, 0)
	})
	t.Run("chat and typing cross both ways", func(t *testing.T) {
		a.send(EvTyping, map[string]any{"typing": true})
		var ty TypingData
		b.expect(EvTyping, &ty)
		b.send(EvChat, map[string]any{"text": "hi from instance b"})
		var chat ChatData
		a.expect(EvChat, &chat)
		if !ty.Typing || chat.Text != "hi from instance b" {
			t.Fatalf("typing %+v chat %+v", ty, chat)
		}
	})
	t.Run("partner_left crosses", func(t *testing.T) {
		b.send(EvLeave, nil)
		var pl PartnerLeftData
		a.expect(EvPartnerLeft, &pl)
		if pl.From != b.id() || pl.Reason != ReasonLeft {
			t.Fatalf("partner_left %+v", pl)
		}
		c.closeClean()
		d.expect(EvPartnerLeft, &pl)
		if pl.Reason != ReasonDisconnected {
			t.Fatalf("partner_left %+v", pl)
		}
	})
}

func TestMultiInstanceResume(t *testing.T) {
	insts, rs := startCluster(t, 2)
	a, b, ma := crossPair(t, insts)

	a.conn.UnderlyingConn().Close() // the network drops, no close frame
	// a comes back through the other instance, as a load balancer may send it
	r := dial(t, insts[1].wsURL()+"?resume="+a.hello.ResumeToken, nil)
	if !r.hello.Resumed || r.id() != a.id() || r.hello.Match == nil {
		t.Fatalf("hello after resume: %+v", r.hello)
	}
	if m := r.hello.Match; m.PartnerID != b.id() || m.MatchID != ma.MatchID || m.Initiator {
		t.Fatalf("resumed match %+v, want partner %s match %s initiator false", m, b.id(), ma.MatchID)
	}
	// messages flow both ways again, and b was told nothing
	checkNextIsMarker(t, []*wsClient{r}, []*wsClient{b}, 0)
	if st := rdbFor(t, rs.URL()).HGet(context.Background(), Keys{insts[0].cfg.KeyPrefix}.User(a.id()), "instance").Val(); st != string(insts[1].cfg.InstanceID) {
		t.Fatalf("user hash names instance %q after the resume", st)
	}

	t.Run("a wrong token gets a fresh identity", func(t *testing.T) {
		bad := dial(t, insts[0].wsURL()+"?resume="+string(a.id())+".forged", nil)
		if bad.hello.Resumed || bad.id() == a.id() {
			t.Fatalf("forged token resumed: %+v", bad.hello)
		}
		garbage := dial(t, insts[0].wsURL()+"?resume=%00%ff", nil)
		if garbage.hello.Resumed {
			t.Fatal("garbage token resumed")
		}
	})
}
