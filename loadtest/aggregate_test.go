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

func TestRateRatio(t *testing.T) {
	churn := func(rate float64, ok bool) Result { return Result{Churn: &ChurnResult{MatchesPerSec: rate}, OK: ok} }
	runs := []Result{churn(60, true), churn(50, true), churn(90, false), churn(70, true)}
	base := []Result{churn(100, true), churn(100, true), churn(100, true)}
	got, ok := rateRatio(runs, base, "the ceiling")
	if !ok {
		t.Fatal("no ratio")
	}
	// the failed run and the run without a partner do not count
	if got.Runs != 2 || got.Min != 0.5 || got.Max != 0.6 || got.Median != 0.55 || got.Unit != "×" {
		t.Fatalf("ratio %+v", got)
	}
	if want := "matches per second ÷ the ceiling's, same run"; got.Name != want {
		t.Fatalf("name %q, want %q", got.Name, want)
	}
	if _, ok := rateRatio([]Result{{Idle: &IdleResult{}, OK: true}}, base, "x"); ok {
		t.Fatal("a ratio of idle runs")
	}
}
