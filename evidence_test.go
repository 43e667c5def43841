package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 3 and the suspected memory bound: evidence and stored reports are shared
// fairly among reporters, a moderator acts on one reporter, and what a report costs Redis.

// One address filing many evidence-carrying reports does not keep a later genuine report
// from keeping its evidence.
func TestOneReporterCannotBuryEvidence(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.ReportRate, c.EvidenceMax = 100, 5 }))
	frame := jpegFrame(t, 64, 48)
	for i := range 10 {
		a, b := dial(t, insts[0].wsURL(), from("198.51.100.66")), dial(t, insts[1].wsURL(), from(fmt.Sprint("203.0.113.", 100+i)))
		pair(t, a, b)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "nudity", "frame": frame}))
		a.expect(wire.EvReported, nil)
		a.closeClean()
		b.closeClean()
	}
	g, x := dial(t, insts[1].wsURL(), from("198.51.100.77")), dial(t, insts[0].wsURL(), from("198.51.100.78"))
	pair(t, g, x)
	g.sendRaw(reportFrame(t, map[string]any{"reason": "nudity", "note": "GENUINE", "frame": frame}))
	g.expect(wire.EvReported, nil)
	page := consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports")
	kept := map[string]int{}
	for _, r := range page.Reports {
		if r.Note == "GENUINE" && (r.Frame != frame || r.Evidence != "kept") {
			t.Fatalf("the genuine report lost its still to one address's ten: %s", r.Evidence)
		}
		kept[r.Evidence]++
	}
	if kept["kept"] != 5 || kept["trimmed"] != 1 || kept["no_room"] != 5 || len(page.Reports) != 11 {
		t.Fatalf("evidence of the 11 reports: %v, want 5 kept (REPORT_EVIDENCE_MAX), 1 trimmed, 5 without room", kept)
	}
}

// The console lists reports by reporter, and a moderator dismisses all of one reporter's
// and restricts it: its next reports are acknowledged, kept apart, and not stored.
func TestModeratorActsOnAReporter(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.ReportRate = 100 }))
	partners := 0 // each report of someone new: a reporter is kept apart from whom it reported
	fileFrom := func(ip, note string) {
		t.Helper()
		partners++
		a, b := dial(t, insts[0].wsURL(), from(ip)), dial(t, insts[1].wsURL(), from(fmt.Sprint("192.0.2.", partners)))
		pair(t, a, b)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "spam", "note": note}))
		a.expect(wire.EvReported, nil)
		a.closeClean()
		b.closeClean()
	}
	for i := range 4 {
		fileFrom("203.0.113.70", fmt.Sprint("flood ", i))
	}
	fileFrom("198.51.100.71", "genuine")
	top := consoleGet[struct{ Reporters []safety.ReporterLoad }](t, insts[1], "/mod/api/reporters").Reporters
	if len(top) != 2 || top[0].Reports != 4 || top[1].Reports != 1 {
		t.Fatalf("reporters %+v", top)
	}
	flooder := top[0].Reporter
	page := consoleGet[safety.ReportPage](t, insts[1], "/mod/api/reports?reporter="+flooder)
	if page.Total != 4 || len(page.Reports) != 4 {
		t.Fatalf("the flooder's reports: %+v", page)
	}
	for _, r := range page.Reports {
		if r.Reporter != flooder || r.ReporterReports != 4 || !strings.HasPrefix(r.Note, "flood") {
			t.Fatalf("report %+v", r)
		}
	}
	consoleDo(t, insts[0], http.MethodGet, "/mod/api/reports?reporter=203.0.113.70", "", http.StatusBadRequest)
	consoleDo(t, insts[0], http.MethodPost, "/mod/api/reporters/"+flooder+"/dismiss", `{"restrict":"721h"}`, http.StatusBadRequest)
	out := consoleDo(t, insts[0], http.MethodPost, "/mod/api/reporters/"+flooder+"/dismiss", `{"restrict":"168h"}`, http.StatusOK)
	if !strings.Contains(string(out), `"dismissed":4`) || !strings.Contains(string(out), `"restricted_until"`) {
		t.Fatalf("dismissing the reporter: %s", out)
	}
	fileFrom("203.0.113.70", "after the restriction") // acknowledged all the same
	page = consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports")
	if page.Total != 1 || page.Reports[0].Note != "genuine" {
		t.Fatalf("after dismissing the reporter: %+v", page.Reports)
	}
}

// What an open report without evidence costs Redis, measured on a redis-server with MEMORY
// USAGE and used_memory: it bounds what REPORTS_MAX reports can take (README, "What is
// stored"). The figures are logged; the bound asserted is the README's.
func TestReportMemoryIsBounded(t *testing.T) {
	rdb := rdbFor(t, redistest.Start(t).URL())
	ctx := context.Background()
	sf := safety.New(safety.Config{ReportTTL: time.Hour, ReportRate: 1 << 30, ReportsMax: 1 << 30, EvidenceMax: 0,
		AutobanReporters: 3, AutobanWindow: time.Hour, AutobanDuration: time.Hour, Secret: []byte("s")},
		safety.Parts{Redis: rdb, Keys: store.NewKeys("{me}"), Calls: store.Calls{Timeout: 5 * time.Second, Metrics: metrics.NewMetrics()}, Now: time.Now})
	used := func() int64 {
		for _, l := range strings.Split(rdb.Info(ctx, "memory").Val(), "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatal("no used_memory in INFO")
		return 0
	}
	const n = 2000
	for _, note := range []string{"", strings.Repeat("𝄞", wire.MaxReportNote)} { // the largest: 500 four-byte characters
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		before := used()
		var id string
		for i := range n { // 300 reporting networks, every report of another user (the costliest spread)
			f, err := sf.File(ctx, safety.Report{Reporter: wire.ClientID(wire.NewID()), Reported: wire.ClientID(wire.NewID()),
				ReporterAddr: sf.AddrHash(fmt.Sprint("198.51.", i%300/250, ".", i%300%250)), ReportedAddr: sf.AddrHash(fmt.Sprint("192.0.", i/250, ".", i%250)),
				Match: wire.MatchID(wire.NewID()), Conversation: session.Conversation{Length: time.Minute, Exchange: true},
				ReportRequest: wire.ReportRequest{Reason: "harassment", Note: note}})
			if err != nil {
				t.Fatal(err)
			}
			id = f.ID
		}
		per := (used() - before) / n
		record := rdb.MemoryUsage(ctx, sf.Keys.Report(id), 0).Val()
		t.Logf("note of %d bytes: %d bytes of Redis per report (used_memory), the record itself %d (MEMORY USAGE)", len(note), per, record)
		if per > 5<<10 {
			t.Errorf("a report takes %d bytes; the README bounds it at 5 KiB (REPORTS_MAX x 5 KiB)", per)
		}
	}
}
