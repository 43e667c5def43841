package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"
)

// FuzzHandleMessage feeds arbitrary frames to a matched client's event dispatch: nothing may
// panic, every reply must be a well-formed server event, and nothing may reach anyone but
// the partner. The seed corpus is in testdata/fuzz/FuzzHandleMessage.
func FuzzHandleMessage(f *testing.F) {
	for _, seed := range []string{
		`{"event":"find_match","data":{"interests":["music"],"mode":"text"}}`,
		`{"event":"signal","data":{"type":"offer","payload":{"sdp":"v=0"},"target_id":"x"}}`,
		`{"event":"chat","data":{"text":"hi"}}`,
		`{"event":"typing","data":{"typing":true}}`,
		`{"event":"leave","data":null}`,
		`{"event":"chat","data":{"text":"\ud800"}}`,
		"\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	_, url := startMiniredis(f)
	cfg := testConfig(f, url, func(c *Config) { c.InterestFallback = 0 })
	app, err := NewApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(app.Close)
	hub := app.Hub
	limits := ClientLimits{ReadLimit: cfg.ReadLimit, SendQueue: 64, PingInterval: time.Hour}
	newTestClient := func() *Client {
		id := ClientID(newID())
		c := newClient(id, "hash", "127.0.0.1", hub, nil, app.log, app.Metrics, limits)
		c.writing = true // no connection: the test drains the queue instead of a writer
		hub.Register(c)
		return c
	}
	a, b, bystander := newTestClient(), newTestClient(), newTestClient()
	hub.FindMatch(a, ModeVideo, nil)
	hub.FindMatch(b, ModeVideo, nil)
	known := map[string]bool{EvHello: true, EvWaiting: true, EvMatchFound: true, EvSignal: true, EvChat: true,
		EvTyping: true, EvPartnerLeft: true, EvOnline: true, EvError: true}

	f.Fuzz(func(t *testing.T, frame []byte) {
		a.handle(frame)
		for _, c := range []*Client{a, b, bystander} {
			c.qmu.Lock()
			queued := c.queue
			c.queue = nil
			c.qmu.Unlock()
			for _, out := range queued {
				var ev struct {
					Event string          `json:"event"`
					Data  json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal(out, &ev); err != nil || !known[ev.Event] {
					t.Fatalf("client got a malformed frame %q (%v)", out, err)
				}
				if c == bystander && ev.Event != EvOnline {
					t.Fatalf("a bystander received %s", out)
				}
			}
		}
		// only a and b ever search, so a can only ever be matched with b; keep them matched
		a.mu.Lock()
		matched, partner := a.state == stateMatched, a.partner
		a.mu.Unlock()
		if matched && partner != b.id {
			t.Fatalf("a is matched with %q, not b", partner)
		}
		if !matched {
			hub.FindMatch(a, ModeVideo, nil)
			hub.FindMatch(b, ModeVideo, nil)
		}
	})
}
