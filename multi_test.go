package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"testing"
	"time"
)

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
		b.send(wire.EvSignal, map[string]any{"type": "offer", "payload": map[string]string{"sdp": "offer-1"}})
		var sig wire.SignalData
		a.expect(wire.EvSignal, &sig)
		if sig.SenderID != b.id() || sig.Type != "offer" || string(sig.Payload) != `{"sdp":"offer-1"}` {
			t.Fatalf("offer arrived as %+v", sig)
		}
		a.send(wire.EvSignal, map[string]any{"type": "answer", "payload": map[string]string{"sdp": "answer-1"}})
		b.expect(wire.EvSignal, &sig)
		if sig.SenderID != a.id() || sig.Type != "answer" {
			t.Fatalf("answer arrived as %+v", sig)
		}
		// one publisher and one subscriber per instance keep order: a duplicate would come
		// before these markers
		checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b})
	})
	t.Run("a spoofed target_id reaches nobody but the partner", func(t *testing.T) {
		a.send(wire.EvSignal, map[string]any{"type": "offer", "payload": "evil", "target_id": d.id()})
		a.send(wire.EvChat, map[string]any{"text": "hello d?", "target_id": c.id()})
		var sig wire.SignalData
		b.expect(wire.EvSignal, &sig)
		b.expect(wire.EvChat, nil)
		checkNextIsMarker(t, []*wsClient{c}, []*wsClient{d})
	})
	t.Run("chat and typing cross both ways", func(t *testing.T) {
		a.send(wire.EvTyping, map[string]any{"typing": true})
		var ty wire.TypingData
		b.expect(wire.EvTyping, &ty)
		b.send(wire.EvChat, map[string]any{"text": "hi from instance b"})
		var chat wire.ChatRequest
		a.expect(wire.EvChat, &chat)
		if !ty.Typing || chat.Text != "hi from instance b" {
			t.Fatalf("typing %+v chat %+v", ty, chat)
		}
	})
	t.Run("partner_left crosses", func(t *testing.T) {
		b.send(wire.EvLeave, nil)
		var pl wire.PartnerLeftData
		a.expect(wire.EvPartnerLeft, &pl)
		if pl.From != b.id() || pl.Reason != wire.ReasonLeft {
			t.Fatalf("partner_left %+v", pl)
		}
		c.closeClean()
		d.expect(wire.EvPartnerLeft, &pl)
		if pl.Reason != wire.ReasonDisconnected {
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
	checkNextIsMarker(t, []*wsClient{r}, []*wsClient{b})
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
