package main

import (
	"testing"
	"time"
)

func TestCheckPairs(t *testing.T) {
	mo := func(partner, match string, init bool) []matchObs {
		return []matchObs{{PartnerID: partner, MatchID: match, Initiator: init}}
	}
	tests := []struct {
		name string
		obs  []clientObs
		want pairReport // Problems is checked only for being non-empty when something failed
	}{
		{
			name: "one good pair on one instance",
			obs:  []clientObs{{ID: "a", Instance: 0, Matches: mo("b", "m1", true)}, {ID: "b", Instance: 0, Matches: mo("a", "m1", false)}},
			want: pairReport{Matched: 2, Pairs: 1},
		},
		{
			name: "cross-instance pair",
			obs:  []clientObs{{ID: "a", Instance: 0, Matches: mo("b", "m1", false)}, {ID: "b", Instance: 1, Matches: mo("a", "m1", true)}},
			want: pairReport{Matched: 2, Pairs: 1, CrossPairs: 1},
		},
		{
			name: "lost client",
			obs:  []clientObs{{ID: "a"}, {ID: "b"}},
			want: pairReport{Lost: 2},
		},
		{
			name: "two match_found on one client",
			obs: []clientObs{
				{ID: "a", Matches: append(mo("b", "m1", true), mo("c", "m2", true)...)},
				{ID: "b", Matches: mo("a", "m1", false)},
				{ID: "c", Matches: mo("a", "m2", false)},
			},
			want: pairReport{Matched: 3, DoubleBooked: 3},
		},
		{
			name: "asymmetric partners",
			obs: []clientObs{
				{ID: "a", Matches: mo("b", "m1", true)},
				{ID: "b", Matches: mo("c", "m2", true)},
				{ID: "c", Matches: mo("b", "m2", false)},
			},
			want: pairReport{Matched: 3, DoubleBooked: 1, Pairs: 1},
		},
		{
			name: "match id disagrees",
			obs:  []clientObs{{ID: "a", Matches: mo("b", "m1", true)}, {ID: "b", Matches: mo("a", "m2", false)}},
			want: pairReport{Matched: 2, DoubleBooked: 2},
		},
		{
			name: "both initiators",
			obs:  []clientObs{{ID: "a", Matches: mo("b", "m1", true)}, {ID: "b", Matches: mo("a", "m1", true)}},
			want: pairReport{Matched: 2, DoubleBooked: 2},
		},
		{
			name: "neither initiator",
			obs:  []clientObs{{ID: "a", Matches: mo("b", "m1", false)}, {ID: "b", Matches: mo("a", "m1", false)}},
			want: pairReport{Matched: 2, DoubleBooked: 2},
		},
		{
			name: "matched in another mode than asked",
			obs: []clientObs{
				{ID: "a", WantMode: "video", Matches: []matchObs{{PartnerID: "b", MatchID: "m1", Initiator: true, Mode: "video"}}},
				{ID: "b", WantMode: "text", Matches: []matchObs{{PartnerID: "a", MatchID: "m1", Mode: "video"}}},
			},
			want: pairReport{Matched: 2, DoubleBooked: 1, Pairs: 1},
		},
		{
			name: "matched with itself",
			obs:  []clientObs{{ID: "a", Matches: mo("a", "m1", true)}},
			want: pairReport{Matched: 1, DoubleBooked: 1},
		},
		{
			name: "matched with a stranger outside the load",
			obs:  []clientObs{{ID: "a", Matches: mo("zz", "m1", true)}},
			want: pairReport{Matched: 1, DoubleBooked: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkPairs(tt.obs)
			probs := got.Problems
			got.Problems = nil
			if got.Matched != tt.want.Matched || got.Lost != tt.want.Lost || got.DoubleBooked != tt.want.DoubleBooked ||
				got.Pairs != tt.want.Pairs || got.CrossPairs != tt.want.CrossPairs {
				t.Fatalf("checkPairs = %+v, want %+v", got, tt.want)
			}
			if bad := got.Lost + got.DoubleBooked; (bad > 0) != (len(probs) > 0) {
				t.Fatalf("%d failures but problems %q", bad, probs)
			}
		})
	}
}

func TestSignalCheckerOffers(t *testing.T) {
	type step struct {
		sender string
		p      relayPayload
		want   verdict
	}
	good := func(seq uint64) relayPayload { return relayPayload{Seq: seq, From: "a", Match: "m"} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{{"a", good(1), verdictOK}, {"a", good(2), verdictOK}}},
		{"out of order is fine", []step{{"a", good(2), verdictOK}, {"a", good(1), verdictOK}}},
		{"repeat seq", []step{{"a", good(1), verdictOK}, {"a", good(1), verdictDuplicate}}},
		{"sender is not the partner", []step{{"x", relayPayload{Seq: 1, From: "x", Match: "m"}, verdictMisrouted}}},
		{"payload of another sender", []step{{"a", relayPayload{Seq: 1, From: "x", Match: "m"}, verdictMisrouted}}},
		{"payload of another match", []step{{"a", relayPayload{Seq: 1, From: "a", Match: "other"}, verdictMisrouted}}},
		{"misrouted does not poison the seq", []step{{"x", relayPayload{Seq: 1, From: "x", Match: "m"}, verdictMisrouted}, {"a", good(1), verdictOK}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSignalChecker("b", "a", "m")
			for i, s := range tt.steps {
				if got, msg := c.gotOffer(s.sender, s.p); got != s.want {
					t.Fatalf("step %d: gotOffer = %v (%s), want %v", i, got, msg, s.want)
				}
			}
		})
	}
}

func TestSignalCheckerAnswers(t *testing.T) {
	t0 := time.Unix(100, 0)
	type step struct {
		send   bool // send an offer instead of receiving an answer
		sender string
		p      relayPayload
		want   verdict
		rtt    time.Duration
	}
	ans := func(seq uint64) relayPayload { return relayPayload{Seq: seq, Match: "m"} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"round trip", []step{{send: true}, {sender: "b", p: ans(1), want: verdictOK, rtt: 3 * time.Millisecond}}},
		{"answered twice", []step{{send: true}, {sender: "b", p: ans(1), rtt: 3 * time.Millisecond}, {sender: "b", p: ans(1), want: verdictDuplicate}}},
		{"answer to an offer never sent", []step{{send: true}, {sender: "b", p: ans(2), want: verdictMisrouted}}},
		{"answer with seq 0", []step{{sender: "b", p: ans(0), want: verdictMisrouted}}},
		{"answer from a stranger", []step{{send: true}, {sender: "x", p: ans(1), want: verdictMisrouted}}},
		{"answer of another match", []step{{send: true}, {sender: "b", p: relayPayload{Seq: 1, Match: "z"}, want: verdictMisrouted}}},
		{"two in flight", []step{{send: true}, {send: true}, {sender: "b", p: ans(2), rtt: 3 * time.Millisecond}, {sender: "b", p: ans(1), rtt: 3 * time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSignalChecker("a", "b", "m")
			for i, s := range tt.steps {
				if s.send {
					c.sentOffer(t0)
					continue
				}
				got, rtt, msg := c.gotAnswer(s.sender, s.p, t0.Add(3*time.Millisecond))
				if got != s.want || rtt != s.rtt {
					t.Fatalf("step %d: gotAnswer = %v, %v (%s), want %v, %v", i, got, rtt, msg, s.want, s.rtt)
				}
			}
		})
	}
}

func TestSignalEncoder(t *testing.T) {
	enc, err := newSignalEncoder(`we"ird`, "m1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ      string
		seq      uint64
		withFrom bool
		want     string
	}{
		{sigOffer, 7, true, `{"event":"signal","data":{"type":"offer","payload":{"seq":7,"from":"we\"ird","match":"m1"}}}`},
		{sigAnswer, 18446744073709551615, false, `{"event":"signal","data":{"type":"answer","payload":{"seq":18446744073709551615,"match":"m1"}}}`},
	}
	for _, tt := range tests {
		if got := string(enc.appendSignal(nil, tt.typ, tt.seq, tt.withFrom)); got != tt.want {
			t.Errorf("appendSignal = %s, want %s", got, tt.want)
		}
	}
}
