package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Result is everything one run measured and found. Failures lists every reason the run
// fails as a check; a run passes when it is empty.
type Result struct {
	Mode           string         `json:"mode"`
	URLs           []string       `json:"urls"`
	Clients        int            `json:"clients"`
	Connected      int            `json:"connected"`
	ConnectFailed  int            `json:"connect_failed"`
	ConnectSeconds float64        `json:"connect_seconds"`
	LoadSeconds    float64        `json:"load_seconds"`
	ErrorEvents    map[string]int `json:"error_events"`
	Unexpected     int            `json:"unexpected_events"`
	BadFrames      int64          `json:"bad_frames"`
	Disconnected   int64          `json:"disconnected"`
	BusyBefore     *float64       `json:"cpu_busy_before_pct,omitempty"` // -busy-sample: share of the machine's CPU busy just before the load (other work skews every figure)
	Skipped        string         `json:"skipped,omitempty"`             // why no load ran (-max-busy); not a result
	CPU            *CPUUse        `json:"cpu,omitempty"`                 // CPU time used during the load

	Idle  *IdleResult  `json:"idle,omitempty"`
	Burst *BurstResult `json:"burst,omitempty"`
	Relay *RelayResult `json:"relay,omitempty"`
	Churn *ChurnResult `json:"churn,omitempty"`

	Failures []string `json:"failures"`
	Examples []string `json:"examples,omitempty"`
	OK       bool     `json:"ok"`
}

// IdleResult is server memory per held connection.
type IdleResult struct {
	Processes    []ProcessMemory `json:"processes"`
	BytesPerConn float64         `json:"bytes_per_conn"`    // sum of RSS growth over all PIDs / connections
	LoadgenBytes int64           `json:"loadgen_rss_bytes"` // the load generator's own VmRSS with every connection open
}

// ProcessMemory is one server process's VmRSS before connecting and after.
type ProcessMemory struct {
	PID         int   `json:"pid"`
	BeforeBytes int64 `json:"before_bytes"`
	AfterBytes  int64 `json:"after_bytes"`
}

// BurstResult is the pair checker's verdict and the waits of a burst.
type BurstResult struct {
	Matched       int     `json:"matched"`
	Lost          int     `json:"lost"`
	DoubleBooked  int     `json:"double_booked"`
	Pairs         int     `json:"pairs"`
	CrossPairs    int     `json:"cross_instance_pairs"`
	Wait          Latency `json:"wait"`
	MatchesPerSec float64 `json:"matches_per_sec"`    // pairs / (last match_found - first find_match)
	OffPlan       int     `json:"off_plan,omitempty"` // -cross: clients not paired with the planned partner
}

// RelayResult is the relay load's throughput, latency and checker counts.
type RelayResult struct {
	Pairs         int     `json:"pairs"`
	CrossPairs    int     `json:"cross_instance_pairs"`
	TargetRate    float64 `json:"target_rate"` // 0: saturated
	RoundTrips    int64   `json:"round_trips"`
	RoundTripsSec float64 `json:"round_trips_per_sec"`
	RTT           Latency `json:"rtt"`
	Unanswered    int64   `json:"unanswered"`
	Duplicates    int64   `json:"duplicates"`
	Misrouted     int64   `json:"misrouted"`
	PairProblems  int     `json:"pair_problems"`
	OffPlan       int     `json:"off_plan,omitempty"` // -cross: clients not paired with the planned partner
}

// CPUUse is the CPU time (user + system, seconds) processes used during the load, read from
// /proc: the server processes of -pids together, the redis-server of -redis-pid, and the load
// generator itself (which shares the machine with them).
type CPUUse struct {
	ServerSeconds  *float64 `json:"server_seconds,omitempty"`
	RedisSeconds   *float64 `json:"redis_seconds,omitempty"`
	LoadgenSeconds float64  `json:"loadgen_seconds"`
}

// ChurnResult is the churn load's rate and its errors.
type ChurnResult struct {
	Next          bool    `json:"next"`
	Cycles        int64   `json:"cycles"` // match_found received by a client, each ending one find_match → match_found → leave loop
	CyclesPerSec  float64 `json:"cycles_per_sec"`
	MatchesPerSec float64 `json:"matches_per_sec"`
	Wait          Latency `json:"wait"`
	OwnWait       Latency `json:"own_wait"`        // the initiator's: from ending its match (Next, or leave + find_match) to its next match_found
	LeftWait      Latency `json:"left_wait"`       // the partner's: from its partner_left to its next match_found
	Lost          int64   `json:"lost"`            // find_match unanswered for -match-timeout
	PartnerLost   int64   `json:"partner_lost"`    // partner_left not received for -match-timeout
	Violations    int64   `json:"violations"`      // events out of place: unexpected match_found, partner_left from a stranger, wrong reason, a signal
	SelfOrForeign int64   `json:"self_or_foreign"` // matched with itself or with someone outside the load
}

func (r *Result) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// finish records the common checks and sets OK.
func (r *Result) finish(t *tally) {
	t.mu.Lock()
	r.ErrorEvents = maps.Clone(t.errorCodes)
	r.Unexpected = t.unexpected
	r.Examples = append(r.Examples, t.errSamples.list...)
	r.Examples = append(r.Examples, t.unexpSample.list...)
	r.Examples = append(r.Examples, t.dropSample.list...)
	t.mu.Unlock()
	r.BadFrames = t.badFrames.Load()
	r.Disconnected = t.disconnected.Load()
	if r.ConnectFailed > 0 {
		r.fail("%d clients could not connect", r.ConnectFailed)
	}
	for _, code := range slices.Sorted(maps.Keys(r.ErrorEvents)) {
		r.fail("%d error events %q", r.ErrorEvents[code], code)
	}
	if r.Unexpected > 0 {
		r.fail("%d unexpected events", r.Unexpected)
	}
	if r.BadFrames > 0 {
		r.fail("%d undecodable frames", r.BadFrames)
	}
	if r.Disconnected > 0 {
		r.fail("%d connections dropped by the server", r.Disconnected)
	}
	r.OK = len(r.Failures) == 0
}

// writeJSON prints the result as one JSON object.
func (r Result) writeJSON(w io.Writer) error {
	if r.Failures == nil {
		r.Failures = []string{}
	}
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// writeSummary prints the result for a human.
func (r Result) writeSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "mode %s: %d clients over %d instance(s), %d connected in %.2fs\n",
		r.Mode, r.Clients, len(r.URLs), r.Connected, r.ConnectSeconds)
	if r.BusyBefore != nil {
		fmt.Fprintf(&b, "  machine CPU busy just before the load: %.0f %%\n", *r.BusyBefore)
	}
	if r.Skipped != "" {
		fmt.Fprintf(&b, "SKIPPED: %s\n", r.Skipped)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.Idle != nil {
		for _, p := range r.Idle.Processes {
			fmt.Fprintf(&b, "  pid %d: VmRSS %.1f MiB -> %.1f MiB\n", p.PID, mib(p.BeforeBytes), mib(p.AfterBytes))
		}
		if r.Idle.LoadgenBytes > 0 {
			fmt.Fprintf(&b, "  load generator VmRSS %.1f MiB (%.1f KiB per client)\n", mib(r.Idle.LoadgenBytes), float64(r.Idle.LoadgenBytes)/1024/float64(max(1, r.Connected)))
		}
		if len(r.Idle.Processes) > 0 {
			fmt.Fprintf(&b, "  server memory per idle connection: %.0f B (%.2f KiB)\n", r.Idle.BytesPerConn, r.Idle.BytesPerConn/1024)
		}
	}
	if s := r.Burst; s != nil {
		fmt.Fprintf(&b, "  matched %d, lost %d, double-booked %d, pairs %d (%d across instances), %.0f matches/s\n",
			s.Matched, s.Lost, s.DoubleBooked, s.Pairs, s.CrossPairs, s.MatchesPerSec)
		fmt.Fprintf(&b, "  wait %s\n", s.Wait)
		if s.OffPlan > 0 {
			fmt.Fprintf(&b, "  -cross: %d clients not paired with the partner sharing their interest\n", s.OffPlan)
		}
	}
	if s := r.Relay; s != nil {
		rate := "saturated"
		if s.TargetRate > 0 {
			rate = fmt.Sprintf("paced at %.0f/s", s.TargetRate)
		}
		fmt.Fprintf(&b, "  %d pairs (%d across instances), %s: %d round trips in %.2fs = %.0f/s\n",
			s.Pairs, s.CrossPairs, rate, s.RoundTrips, r.LoadSeconds, s.RoundTripsSec)
		if s.OffPlan > 0 {
			fmt.Fprintf(&b, "  -cross: %d clients not paired with the partner sharing their interest\n", s.OffPlan)
		}
		fmt.Fprintf(&b, "  rtt %s\n", s.RTT)
		fmt.Fprintf(&b, "  duplicates %d, misrouted %d, unanswered %d\n", s.Duplicates, s.Misrouted, s.Unanswered)
	}
	if s := r.Churn; s != nil {
		how := "leave + find_match"
		if s.Next {
			how = "next (find_match while matched)"
		}
		fmt.Fprintf(&b, "  %s: %d cycles in %.2fs = %.0f cycles/s (%.0f matches/s)\n", how, s.Cycles, r.LoadSeconds, s.CyclesPerSec, s.MatchesPerSec)
		fmt.Fprintf(&b, "  wait %s\n", s.Wait)
		fmt.Fprintf(&b, "  the one who ended it, to its next stranger: %s\n", s.OwnWait)
		fmt.Fprintf(&b, "  the partner, from partner_left to its next stranger: %s\n", s.LeftWait)
		fmt.Fprintf(&b, "  lost %d, partner_left missing %d, violations %d, self/foreign matches %d\n", s.Lost, s.PartnerLost, s.Violations, s.SelfOrForeign)
		if u := r.CPU; u != nil && s.Cycles > 0 {
			perMatch := func(secs float64) float64 { return secs * 1e6 / (float64(s.Cycles) / 2) }
			fmt.Fprintf(&b, "  CPU per match: load generator %.1f µs", perMatch(u.LoadgenSeconds))
			if u.ServerSeconds != nil {
				fmt.Fprintf(&b, ", servers %.1f µs", perMatch(*u.ServerSeconds))
			}
			if u.RedisSeconds != nil {
				fmt.Fprintf(&b, ", Redis %.1f µs", perMatch(*u.RedisSeconds))
			}
			b.WriteString("\n")
		}
	}
	if r.OK {
		b.WriteString("PASS\n")
	} else {
		b.WriteString("FAIL\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	for _, e := range r.Examples {
		fmt.Fprintf(&b, "  e.g. %s\n", e)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

func (l Latency) String() string {
	return fmt.Sprintf("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (n=%d)", l.P50, l.P90, l.P99, l.Max, l.Count)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
