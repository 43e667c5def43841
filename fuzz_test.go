package main

import (
	"github.com/go-megle/go-megle/internal/inbound"
	"github.com/go-megle/go-megle/internal/wire"

	"encoding/json"
	"testing"
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
		`{"event":"media_state","data":{"camera":false,"mic":true}}`,
		`{"event":"leave","data":null}`,
		`{"event":"chat","data":{"text":"\ud800"}}`,
		"\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	_, url := startMiniredis(f)
	cfg := testConfig(f, url, func(c *Config) { c.InterestFallback = 0 })
	hub := quietApp(f, cfg).Hub
	a, ca := attachFake(hub)
	b, cb := attachFake(hub)
	_, cby := attachFake(hub)
	hub.FindMatch(a, wire.ModeVideo, wire.Wish{}, "")
	hub.FindMatch(b, wire.ModeVideo, wire.Wish{}, "")
	known := map[string]bool{wire.EvHello: true, wire.EvWaiting: true, wire.EvMatchFound: true, wire.EvSignal: true, wire.EvChat: true,
		wire.EvTyping: true, wire.EvMedia: true, wire.EvPartnerLeft: true, wire.EvOnline: true, wire.EvError: true, wire.EvToken: true}

	f.Fuzz(func(t *testing.T, frame []byte) {
		inbound.Receive(hub, a, frame, nil) // what the read pump does with a text frame
		for _, c := range []*fakeConn{ca, cb, cby} {
			for _, out := range c.take() {
				var ev wire.Inbound
				if err := json.Unmarshal(out, &ev); err != nil || !known[ev.Event] {
					t.Fatalf("client got a malformed frame %q (%v)", out, err)
				}
				if c == cby && ev.Event != wire.EvOnline {
					t.Fatalf("a bystander received %s", out)
				}
			}
		}
		// only a and b ever search, so a can only ever be matched with b; keep them matched
		partner, _, _, matched := a.PartnerRoute()
		if matched && partner != b.ID {
			t.Fatalf("a is matched with %q, not b", partner)
		}
		if !matched {
			hub.FindMatch(a, wire.ModeVideo, wire.Wish{}, "")
			hub.FindMatch(b, wire.ModeVideo, wire.Wish{}, "")
		}
	})
}
