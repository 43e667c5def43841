package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"bytes"
	"reflect"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	cases := []Envelope{
		{Kind: KindRelay, To: "A", From: "B", Match: "M", Frame: []byte(`{"event":"chat","data":{"text":"hi"}}`)},
		{Kind: KindMatched, To: "A", From: "B", Instance: "i-1", Match: "M", Ticket: "T", Mode: wire.ModeText, Common: []string{"cats", "jazz music"}},
		{Kind: KindLeft, To: "A", From: "B", Match: "M", Reason: wire.ReasonNext},
		{Kind: KindMoved, To: "A", From: "B", Match: "M", Instance: "i-2"},
		{Kind: KindMatched, To: "A", From: "B", Match: "M", Ticket: "T", Addr: "0f1e2d"},
		{Kind: KindBan, Addr: "0f1e2d", Ticket: "2026-12-02T10:00:00Z", Reason: "nudity"},
	}
	for _, e := range cases {
		got, err := DecodeEnvelope(e.AppendBinary(nil))
		if err != nil {
			t.Fatalf("%+v: %v", e, err)
		}
		if len(got.Frame) == 0 {
			got.Frame = nil
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
		}
	}
}

func TestDecodeEnvelopeRejectsGarbage(t *testing.T) {
	good := (&Envelope{Kind: KindRelay, To: "A", From: "B", Match: "M", Frame: []byte("x")}).AppendBinary(nil)
	for name, b := range map[string][]byte{
		"empty":                  nil,
		"wrong version":          append([]byte{9}, good[1:]...),
		"unknown kind":           append([]byte{envelopeVersion, 77}, good[2:]...),
		"unknown flag":           append([]byte{envelopeVersion, byte(KindRelay), 4}, good[3:]...),
		"flag without its field": append([]byte{envelopeVersion, byte(KindRelay), flagAddr}, good[3:]...),
		"truncated":              good[:len(good)-1],
		"trailing":               append(bytes.Clone(good), 0),
		"huge length":            {envelopeVersion, byte(KindRelay), 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := DecodeEnvelope(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add((&Envelope{Kind: KindMatched, To: "A", From: "B", Common: []string{"x"}}).AppendBinary(nil))
	f.Add([]byte{envelopeVersion, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEnvelope(b)
		if err != nil {
			return
		}
		again, err := DecodeEnvelope(e.AppendBinary(nil))
		if err != nil || again.To != e.To || again.From != e.From || !bytes.Equal(again.Frame, e.Frame) {
			t.Fatalf("re-encoding a decoded envelope changed it: %+v -> %+v (%v)", e, again, err)
		}
	})
}
