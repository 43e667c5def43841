package main

import (
	"context"
	"testing"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// A rolling deploy: instances that write the previous envelope version (BUS_ENVELOPE_VERSION=1,
// the default, which the release before envelope versions reads) and instances that write the
// current one share a Redis, and every envelope is delivered whichever way it goes. Before
// envelope versions, an instance dropped every envelope of a version other than its own.
func TestEnvelopeVersionsMixDuringARollingDeploy(t *testing.T) {
	rs := redistest.Start(t)
	base := testConfig(t, rs.URL()) // one key prefix for both
	var insts []*testInstance
	for _, v := range []envelope.Version{envelope.V1, envelope.V2} {
		cfg := base
		cfg.EnvelopeVersion = int(v)
		cfg.InstanceID = wire.InstanceID("v" + string(rune('0'+v)) + "-" + wire.NewID()[:6])
		insts = append(insts, startInstance(t, cfg))
	}
	older, newer := insts[0], insts[1]
	a, b, m := crossPair(t, insts) // a on the instance that writes version 1, b on the one that writes 2

	// version 1 to an instance that writes 2, and version 2 back
	a.send(wire.EvChat, wire.ChatRequest{Text: "written in version 1"})
	var chat wire.ChatRequest
	b.expect(wire.EvChat, &chat)
	if chat.Text != "written in version 1" {
		t.Fatalf("b got %q", chat.Text)
	}
	b.send(wire.EvChat, wire.ChatRequest{Text: "written in version 2"})
	a.expect(wire.EvChat, &chat)
	if chat.Text != "written in version 2" {
		t.Fatalf("a got %q", chat.Text)
	}

	// an envelope exactly as the previous release writes it (internal/envelope holds version 1
	// byte for byte to that release's encoder), published straight onto b's instance's channel
	old := envelope.Envelope{Kind: envelope.KindRelay, To: b.id(), From: a.id(), Match: m.MatchID, Instance: older.cfg.InstanceID,
		Frame: wire.MustEncode(wire.EvChat, wire.ChatData{Text: []byte(`"from the previous release"`)})}
	channel := store.NewKeys(newer.cfg.KeyPrefix).Channel(newer.cfg.InstanceID)
	if err := rdbFor(t, rs.URL()).Publish(context.Background(), channel, old.Append(nil, envelope.V1)).Err(); err != nil {
		t.Fatal(err)
	}
	b.expect(wire.EvChat, &chat)
	if chat.Text != "from the previous release" {
		t.Fatalf("b got %q", chat.Text)
	}

	// the end of the match crosses in version 2 to the instance that writes version 1
	b.send(wire.EvLeave, struct{}{})
	var left wire.PartnerLeftData
	a.expect(wire.EvPartnerLeft, &left)
	if left.From != b.id() || left.Reason != wire.ReasonLeft {
		t.Fatalf("a got partner_left %+v", left)
	}
}
