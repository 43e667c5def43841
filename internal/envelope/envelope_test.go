package envelope

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

var banEnd = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// envelopes of every kind that carries something of its own
var samples = []Envelope{
	{Kind: KindRelay, To: "A", From: "B", Match: "M", Frame: []byte(`{"event":"chat","data":{"text":"hi"}}`)},
	{Kind: KindMatched, To: "A", From: "B", Instance: "i-1", Match: "M", Ticket: "T", Mode: wire.ModeText, Common: []string{"cats", "jazz music"}, Language: "pt"},
	{Kind: KindLeft, To: "A", From: "B", Match: "M", Reason: wire.ReasonNext},
	{Kind: KindMoved, To: "A", From: "B", Match: "M", Instance: "i-2"},
	{Kind: KindMatched, To: "A", From: "B", Match: "M", Ticket: "T", Addr: "0f1e2d"},
	{Kind: KindBan, Addr: "0f1e2d", Until: banEnd, Reason: "nudity"},
	{Kind: KindReplaced, To: "A", Instance: "i-2", TokenHash: "c0ffee"},
	{Kind: KindPassedOver, To: "A", Ticket: "T"},
}

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, v := range Versions {
		for _, e := range samples {
			got, err := Decode(e.Append(nil, v))
			if err != nil {
				t.Fatalf("v%d %+v: %v", v, e, err)
			}
			if len(got.Frame) == 0 {
				got.Frame = nil
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("v%d round trip:\n got %+v\nwant %+v", v, got, e)
			}
		}
	}
}

// The previous release's envelopes, byte for byte as its encoder wrote them (the release
// before envelope versions: its Ticket slot carried a ban's end and a token hash). This
// release reads them as their explicit fields, and at version 1 writes exactly these bytes,
// which is what the previous release reads.
var previousRelease = []struct {
	hex  string
	want Envelope
}{
	{"01010001410142014d03692d3100000000257b226576656e74223a2263686174222c2264617461223a7b2274657874223a226869227d7d",
		Envelope{Kind: KindRelay, To: "A", From: "B", Match: "M", Instance: "i-1", Frame: []byte(`{"event":"chat","data":{"text":"hi"}}`)}},
	{"01020101410142014d03692d3101540004746578740f636174730a6a617a7a206d757369630006306631653264",
		Envelope{Kind: KindMatched, To: "A", From: "B", Instance: "i-1", Match: "M", Ticket: "T", Mode: wire.ModeText, Common: []string{"cats", "jazz music"}, Addr: "0f1e2d"}},
	{"0107010000000014323032362d31322d30325431303a30303a30305a066e756469747900000006306631653264",
		Envelope{Kind: KindBan, Addr: "0f1e2d", Until: banEnd, Reason: "nudity"}},
	{"0106000141000003692d320663306666656500000000",
		Envelope{Kind: KindReplaced, To: "A", Instance: "i-2", TokenHash: "c0ffee"}},
}

func TestPreviousReleaseEnvelopes(t *testing.T) {
	for _, tc := range previousRelease {
		b, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.hex, err)
		}
		if len(got.Frame) == 0 {
			got.Frame = nil
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("read the previous release's %s as\n %+v\nwant %+v", tc.hex, got, tc.want)
		}
		if again := tc.want.Append(nil, V1); !bytes.Equal(again, b) {
			t.Errorf("version 1 of %+v is %x, the previous release wrote %s", tc.want, again, tc.hex)
		}
	}
}

func TestDecodeEnvelopeRejectsGarbage(t *testing.T) {
	relay := &Envelope{Kind: KindRelay, To: "A", From: "B", Match: "M", Frame: []byte("x")}
	v1, v2 := relay.Append(nil, V1), relay.Append(nil, V2)
	ban := (&Envelope{Kind: KindBan, Addr: "a", Until: banEnd}).Append(nil, V2)
	for name, b := range map[string][]byte{
		"empty":                     nil,
		"a version byte alone":      {byte(V2)},
		"unknown version":           append([]byte{9}, v2[1:]...),
		"v1 unknown kind":           append([]byte{byte(V1), 77}, v1[2:]...),
		"v2 unknown kind":           append([]byte{byte(V2), 77}, v2[2:]...),
		"v1 unknown flag":           append([]byte{byte(V1), byte(KindRelay), 4}, v1[3:]...),
		"v1 flag without its field": append([]byte{byte(V1), byte(KindRelay), flagAddr}, v1[3:]...),
		"v1 truncated":              v1[:len(v1)-1],
		"v2 truncated":              v2[:len(v2)-1],
		"v1 trailing":               append(bytes.Clone(v1), 0),
		"v2 trailing":               append(bytes.Clone(v2), 0),
		"v1 huge length":            {byte(V1), byte(KindRelay), 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"v2 huge length":            {byte(V2), byte(KindRelay), 0xff, 0xff, 0xff, 0xff, 0x0f},
		"v1 ban without its end":    {byte(V1), byte(KindBan), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"v2 ban end not a time":     bytes.Replace(ban, []byte("2026-12-02T10:00:00Z"), []byte("2026-12-02T10:00:00?"), 1),
	} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, v := range Versions {
		f.Add((&Envelope{Kind: KindMatched, To: "A", From: "B", Common: []string{"x"}}).Append(nil, v))
		f.Add((&Envelope{Kind: KindBan, Addr: "a", Until: banEnd}).Append(nil, v))
	}
	f.Add([]byte{byte(V1), 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(e.Append(nil, Version(b[0])))
		if err != nil || again.To != e.To || again.From != e.From || again.TokenHash != e.TokenHash ||
			!again.Until.Equal(e.Until) || !bytes.Equal(again.Frame, e.Frame) {
			t.Fatalf("re-encoding a decoded envelope changed it: %+v -> %+v (%v)", e, again, err)
		}
	})
}

// BenchmarkCodec is one relay envelope (a 600-byte frame) encoded and decoded, in each version.
func BenchmarkCodec(b *testing.B) {
	e := Envelope{Kind: KindRelay, To: wire.ClientID(wire.NewID()), From: wire.ClientID(wire.NewID()), Match: wire.MatchID(wire.NewID()), Frame: make([]byte, 600)}
	for _, v := range Versions {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for range b.N {
				buf = e.Append(buf[:0], v)
				if _, err := Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A ban's banned user and its own frame (with the appeal token) travel in To and Frame, slots a
// ban did not use, in both versions: an instance of the previous release reads such a ban.
func TestBanCarriesItsUsersFrame(t *testing.T) {
	ban := Envelope{Kind: KindBan, To: "A", Addr: "0f1e2d", Until: banEnd, Reason: "nudity", Frame: []byte(`{"event":"banned"}`)}
	for _, v := range Versions {
		got, err := Decode(ban.Append(nil, v))
		if err != nil || got.To != "A" || string(got.Frame) != string(ban.Frame) || !got.Until.Equal(banEnd) || got.Addr != ban.Addr {
			t.Fatalf("v%d: %+v %v", v, got, err)
		}
	}
}
