package main

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 11: 95 sockets of one address bursting typing across instances filled the
// publish queue (2 642 publish_queue_full drops in 5 s) and a bystander lost 2 of 402 chats.
// The queue is shared fairly between senders: when it is full, the sender that holds the
// most loses its own messages first. Two instances on a real redis-server, the smallest
// publish queue the settings allow, 64 sockets of one address in 32 cross-instance pairs
// bursting typing as hard as the rate limit lets them, and a bystander pair chatting
// meanwhile: the bystander loses nothing (before: it lost chats in every run).
func TestFloodingAddressCannotCrowdTheBus(t *testing.T) {
	insts, _ := startCluster(t, 2, func(c *Config) {
		c.PublishBytes = 2 * wire.MaxRelayBytes // the smallest allowed: 128 KiB
		c.TrustedProxies = mustPrefixes(t, "127.0.0.1/32")
		c.RematchCooldown = 0
		c.RateLimit, c.RateBurst, c.RateStrike = 50, 200, 50 // the defaults: the attacker stays within them
		// the default liveness: an instance busy with the flood on a shared test machine must
		// not look dead to the other (the test's own 1 s heartbeat TTL is tight for that)
		c.HeartbeatInterval, c.HeartbeatTTL = time.Second, 5*time.Second
	})
	bystander, partner := dial(t, insts[0].wsURL(), from("192.0.2.10")), dial(t, insts[1].wsURL(), from("192.0.2.20"))
	pair(t, bystander, partner)

	// the attacker: 48 cross-instance pairs of its own sockets, one address
	const pairs = 32
	attacker := from("198.51.100.66")
	var flooders []*websocket.Conn
	expectRaw := func(conn *websocket.Conn, event string) {
		var ev inEvent
		for ev.Event == "" || ev.Event == wire.EvOnline {
			if err := conn.ReadJSON(&ev); err != nil {
				t.Fatalf("attacker socket: %v, want %s", err, event)
			}
		}
		if ev.Event != event {
			t.Fatalf("attacker socket: %s %s, want %s", ev.Event, ev.Data, event)
		}
	}
	for range pairs {
		a, b := dialRaw(t, insts[0].wsURL(), attacker), dialRaw(t, insts[1].wsURL(), attacker)
		expectRaw(a, wire.EvHello)
		expectRaw(b, wire.EvHello)
		for _, conn := range []*websocket.Conn{a, b} {
			if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"find_match","data":{}}`)); err != nil {
				t.Fatal(err)
			}
			if conn == a {
				expectRaw(a, wire.EvWaiting)
			}
		}
		expectRaw(b, wire.EvMatchFound)
		expectRaw(a, wire.EvMatchFound)
		flooders = append(flooders, a, b)
	}
	dropped := func() float64 {
		return metricValue(scrapeMetrics(t, insts[0].srv.URL+"/metrics"), "gomegle_messages_dropped_total", map[string]string{"reason": "publish_queue_full"})
	}
	before := dropped()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	typing := []byte(`{"event":"typing","data":{"typing":true}}`)
	for _, conn := range flooders {
		wg.Go(func() { // discard what the partner's flood brings
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		})
		wg.Go(func() {
			// the most the rate limit lets through: a whole burst at once, then again when the
			// bucket has filled up (4 s at 50 a second); three bursts
			for burst := range 3 {
				if burst > 0 {
					select {
					case <-stop:
						return
					case <-time.After(4 * time.Second): // the bucket refills at its own pace
					}
				}
				for range 200 {
					if conn.WriteMessage(websocket.TextMessage, typing) != nil {
						return
					}
				}
			}
		})
	}
	// the bystander chats meanwhile, 40 a second (within its own limit) for 9 s
	const chats = 360
	for i := range chats {
		bystander.send(wire.EvChat, map[string]any{"text": fmt.Sprint("chat ", i)})
		time.Sleep(25 * time.Millisecond) // a person's pace, compressed; the bursts come meanwhile
	}
	for i := range chats {
		var got wire.ChatRequest
		partner.expect(wire.EvChat, &got)
		if got.Text != fmt.Sprint("chat ", i) {
			t.Fatalf("the partner got %q as chat %d: the bystander lost messages", got.Text, i)
		}
	}
	close(stop)
	for _, conn := range flooders {
		conn.Close()
	}
	wg.Wait()
	t.Logf("the flood cost the attacker %.0f publish_queue_full drops; the bystander lost none of %d chats", dropped()-before, chats)
	if dropped() == before {
		t.Fatal("the flood never filled the publish queue: the test did not test anything")
	}
}
