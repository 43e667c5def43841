package main

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{4}, 4},
		{"odd unsorted", []float64{9, 1, 5}, 5},
		{"even takes the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"outlier does not move it", []float64{1, 2, 1000}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.in); got != tt.want {
				t.Fatalf("median = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAggregateRuns(t *testing.T) {
	runs := []Result{
		{Relay: &RelayResult{RoundTripsSec: 300, RTT: Latency{P50: 1, P99: 9}}},
		{Relay: &RelayResult{RoundTripsSec: 100, RTT: Latency{P50: 3, P99: 7}}},
		{Relay: &RelayResult{RoundTripsSec: 200, RTT: Latency{P50: 2, P99: 8}}},
	}
	got := aggregateRuns(runs)
	want := map[string]aggregate{
		"round trips per second": {Median: 200, Min: 100, Max: 300, Runs: 3},
		"rtt p50":                {Median: 2, Min: 1, Max: 3, Runs: 3},
		"rtt p99":                {Median: 8, Min: 7, Max: 9, Runs: 3},
	}
	for _, a := range got {
		w, ok := want[a.Name]
		if !ok {
			continue
		}
		if a.Median != w.Median || a.Min != w.Min || a.Max != w.Max || a.Runs != w.Runs {
			t.Errorf("%s: got %+v, want %+v", a.Name, a, w)
		}
		delete(want, a.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing metrics %v", want)
	}
}

func TestReadResultsRoundTrip(t *testing.T) {
	var b strings.Builder
	for _, r := range []Result{{Mode: modeBurst, Burst: &BurstResult{Matched: 2}}, {Mode: modeBurst, Burst: &BurstResult{Matched: 4}}} {
		if err := r.writeJSON(&b); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := readResults(strings.NewReader(b.String() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[1].Burst.Matched != 4 {
		t.Fatalf("read back %+v", runs)
	}
	if _, err := readResults(strings.NewReader("{not json\n")); err == nil {
		t.Fatal("want an error for a bad line")
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {0.01234, "0.012"}, {1.234, "1.23"}, {12.34, "12.3"}, {1234.4, "1234"}, {-2.5, "-2.50"}}
	for _, tt := range tests {
		if got := num(tt.in); got != tt.want {
			t.Errorf("num(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
