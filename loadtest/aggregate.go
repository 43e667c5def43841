package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// metric is one headline figure of a run.
type metric struct {
	Name  string
	Unit  string
	Value float64
}

// metrics lists a run's headline figures, the ones BENCHMARKS.md tabulates.
func (r Result) metrics() []metric {
	var ms []metric
	add := func(name, unit string, v float64) { ms = append(ms, metric{name, unit, v}) }
	if s := r.Idle; s != nil {
		add("server memory per idle connection", "KiB", s.BytesPerConn/1024)
		var after int64
		for _, p := range s.Processes {
			after += p.AfterBytes
		}
		add("server RSS with all connections", "MiB", mib(after))
		add("connect time", "s", r.ConnectSeconds)
	}
	if s := r.Burst; s != nil {
		add("matches per second", "1/s", s.MatchesPerSec)
		add("wait p50", "ms", s.Wait.P50)
		add("wait p90", "ms", s.Wait.P90)
		add("wait p99", "ms", s.Wait.P99)
		add("wait max", "ms", s.Wait.Max)
		add("lost", "clients", float64(s.Lost))
		add("double-booked", "clients", float64(s.DoubleBooked))
		add("cross-instance pairs", "pairs", float64(s.CrossPairs))
	}
	if s := r.Relay; s != nil {
		add("round trips per second", "1/s", s.RoundTripsSec)
		add("rtt p50", "ms", s.RTT.P50)
		add("rtt p99", "ms", s.RTT.P99)
		add("duplicated + misrouted", "signals", float64(s.Duplicates+s.Misrouted))
	}
	if s := r.Churn; s != nil {
		add("cycles per second", "1/s", s.CyclesPerSec)
		add("matches per second", "1/s", s.MatchesPerSec)
		add("wait p50", "ms", s.Wait.P50)
		add("wait p99", "ms", s.Wait.P99)
		add("the one who ended it, to its next stranger: p50", "ms", s.OwnWait.P50)
		add("the one who ended it, to its next stranger: p99", "ms", s.OwnWait.P99)
		add("the partner, partner_left to its next stranger: p50", "ms", s.LeftWait.P50)
		add("the partner, partner_left to its next stranger: p99", "ms", s.LeftWait.P99)
		add("errors", "events", float64(s.Lost+s.PartnerLost+s.Violations))
		if u := r.CPU; u != nil && s.Cycles > 0 {
			perMatch := func(secs float64) float64 { return secs * 1e6 / (float64(s.Cycles) / 2) }
			if u.ServerSeconds != nil {
				add("server CPU per match, all instances", "µs", perMatch(*u.ServerSeconds))
			}
			if u.RedisSeconds != nil {
				add("Redis CPU per 1 000 matches", "ms", perMatch(*u.RedisSeconds)) // µs per match = ms per 1000
			}
			add("load generator CPU per match", "µs", perMatch(u.LoadgenSeconds))
		}
	}
	var errs int
	for _, n := range r.ErrorEvents {
		errs += n
	}
	add("protocol error events", "events", float64(errs))
	if r.BusyBefore != nil {
		add("machine CPU busy just before the load", "%", *r.BusyBefore)
	}
	return ms
}

// aggregate is one metric over several runs.
type aggregate struct {
	Name   string  `json:"name"`
	Unit   string  `json:"unit"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

// median of values; values is sorted in place. The mean of the middle two for an even count.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}

// aggregateRuns summarises each metric over the runs, in the order of the first run.
func aggregateRuns(runs []Result) []aggregate {
	var order []string
	units := map[string]string{}
	values := map[string][]float64{}
	for _, r := range runs {
		for _, m := range r.metrics() {
			if _, seen := values[m.Name]; !seen {
				order = append(order, m.Name)
				units[m.Name] = m.Unit
			}
			values[m.Name] = append(values[m.Name], m.Value)
		}
	}
	out := make([]aggregate, 0, len(order))
	for _, name := range order {
		v := values[name]
		med := median(v) // sorts v
		out = append(out, aggregate{Name: name, Unit: units[name], Median: med, Min: v[0], Max: v[len(v)-1], Runs: len(v)})
	}
	return out
}

// rate is a run's headline throughput and its name: matches (burst, churn) or round trips
// (relay) per second; ok is false for a load without one (idle).
func (r Result) rate() (name string, v float64, ok bool) {
	switch {
	case r.Churn != nil:
		return "matches per second", r.Churn.MatchesPerSec, true
	case r.Burst != nil:
		return "matches per second", r.Burst.MatchesPerSec, true
	case r.Relay != nil:
		return "round trips per second", r.Relay.RoundTripsSec, true
	}
	return "", 0, false
}

// rateRatio is the ratio of each run's rate to that of the run of base with the same number
// (run i of both files ran back to back, so they shared the machine's state), over every
// pair in which both runs passed the checker.
func rateRatio(runs, base []Result, baseName string) (aggregate, bool) {
	var ratios []float64
	var name string
	for i := range min(len(runs), len(base)) {
		n, v, ok := runs[i].rate()
		_, bv, bok := base[i].rate()
		if !ok || !bok || bv <= 0 || !runs[i].OK || !base[i].OK {
			continue
		}
		name = n
		ratios = append(ratios, v/bv)
	}
	if len(ratios) == 0 {
		return aggregate{}, false
	}
	med := median(ratios) // sorts
	return aggregate{Name: name + " ÷ " + baseName + "'s, same run", Unit: "×", Median: med,
		Min: ratios[0], Max: ratios[len(ratios)-1], Runs: len(ratios)}, true
}

// readResultsFile reads the -json results in a file.
func readResultsFile(path string) ([]Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	runs, err := readResults(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return runs, nil
}

// readResults reads one JSON Result per line, as written by -json.
func readResults(r io.Reader) ([]Result, error) {
	var runs []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(text), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		runs = append(runs, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return runs, nil
}

// writeMarkdown prints the aggregates as rows of a Markdown table
// (| load | metric | median | min – max | runs |), labelled with label.
func writeMarkdown(w io.Writer, label string, aggs []aggregate, failed int) error {
	var b strings.Builder
	for _, a := range aggs {
		fmt.Fprintf(&b, "| %s | %s (%s) | %s | %s – %s | %d |\n", label, a.Name, a.Unit, num(a.Median), num(a.Min), num(a.Max), a.Runs)
	}
	if failed > 0 {
		fmt.Fprintf(&b, "| %s | **runs that failed the checker** | %d | | |\n", label, failed)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// num prints a figure with about three significant digits, without an exponent.
func num(v float64) string {
	switch a := max(v, -v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
