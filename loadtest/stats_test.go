package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single p50", []time.Duration{7}, 50, 7},
		{"single p99", []time.Duration{7}, 99, 7},
		{"two p50 is lower", []time.Duration{1, 2}, 50, 1},
		{"two p51 is upper", []time.Duration{1, 2}, 51, 2},
		{"hundred p50", hundred, 50, 50 * time.Millisecond},
		{"hundred p90", hundred, 90, 90 * time.Millisecond},
		{"hundred p99", hundred, 99, 99 * time.Millisecond},
		{"hundred p100", hundred, 100, 100 * time.Millisecond},
		{"tiny p clamps to first", hundred, 0.0001, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		want    Latency
	}{
		{"none", nil, Latency{}},
		{
			"unsorted input",
			[]time.Duration{3 * time.Millisecond, 1 * time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond},
			Latency{Count: 4, P50: 2, P90: 10, P99: 10, Max: 10, Mean: 4},
		},
		{
			"sub-millisecond keeps microseconds",
			[]time.Duration{1500 * time.Microsecond},
			Latency{Count: 1, P50: 1.5, P90: 1.5, P99: 1.5, Max: 1.5, Mean: 1.5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.samples); got != tt.want {
				t.Fatalf("summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}
