package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// The report store (internal/safety: report.lua, ban.lua, safety.go, moderation.go) on a real redis-server,
// driven directly: what makes a report count, the fair shares, the moderators' actions.

// testStore is a Safety on a real redis-server with a key space of its own.
type testStore struct {
	*safety.Safety
	rdb  *redis.Client
	keys store.Keys
}

// storeFor makes a store; cfg's zero fields get roomy test values, and now nil is the clock.
func storeFor(t *testing.T, cfg safety.Config, now func() time.Time) testStore {
	t.Helper()
	rdb := rdbFor(t, redistest.Start(t).URL())
	keys := store.NewKeys("{st-" + strings.ToLower(wire.NewID()[:6]) + "}")
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.ReportRate, 1000)
	def(&cfg.ReportsMax, 1000)
	def(&cfg.EvidenceMax, 100)
	for _, d := range []*time.Duration{&cfg.ReportTTL, &cfg.AutobanWindow, &cfg.AutobanDuration} {
		if *d == 0 {
			*d = time.Hour
		}
	}
	if cfg.Secret == nil {
		cfg.Secret = []byte("test-secret")
	}
	if now == nil {
		now = time.Now
	}
	return testStore{safety.New(cfg, safety.Parts{Redis: rdb, Keys: keys, Calls: store.Calls{Timeout: 5 * time.Second, Metrics: metrics.NewMetrics()}, Now: now}), rdb, keys}
}

// addr is the address hash of a client at ip, as Attach computes it.
func (st testStore) addr(ip string) string {
	return st.AddrHash(safety.AddressKey(netip.MustParseAddr(ip)))
}

// genuine is a report that counts by every rule but the reporter's age: the two talked for a
// minute and wrote to each other, and it carries a line of the reported user's.
func (st testStore) genuine(reporterIP, reportedIP string) safety.Report {
	return safety.Report{Reporter: wire.ClientID(wire.NewID()), Reported: wire.ClientID(wire.NewID()),
		ReporterAddr: st.addr(reporterIP), ReportedAddr: st.addr(reportedIP), Match: wire.MatchID(wire.NewID()),
		Conversation: session.Conversation{Length: time.Minute, Exchange: true},
		ReportRequest: wire.ReportRequest{Reason: "harassment", Note: "insults",
			Chat: []wire.ChatLine{{From: "you", Text: "hi"}, {From: "stranger", Text: "something vile"}}}}
}

// seenSince makes the network of ip first seen at t (as connecting from it then would have).
func (st testStore) seenSince(t *testing.T, ip string, at time.Time) {
	t.Helper()
	if err := st.rdb.Set(context.Background(), st.keys.Seen(safety.NetworkOf(st.addr(ip))), at.UnixMilli(), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
}

func (st testStore) file(t *testing.T, r safety.Report) safety.Filed {
	t.Helper()
	f, err := st.File(context.Background(), r)
	if err != nil {
		t.Fatalf("file: %v", err)
	}
	return f
}

// record reads a stored report's fields.
func (st testStore) record(t *testing.T, id string) map[string]string {
	t.Helper()
	return st.rdb.HGetAll(context.Background(), st.keys.Report(id)).Val()
}

// Each rule of what counts towards an automatic ban, one at a time, against a report that
// counts by all of them.
func TestWhatMakesAReportCount(t *testing.T) {
	st := storeFor(t, safety.Config{AutobanReporters: 100, MinConversation: 10 * time.Second, ReporterAge: 24 * time.Hour}, nil)
	old := time.Now().Add(-48 * time.Hour)
	ip := 0
	fresh := func() string { ip++; return fmt.Sprint("198.51.100.", ip) } // an aged reporter network of its own
	aged := func() string { a := fresh(); st.seenSince(t, a, old); return a }

	// a moderator's ban of 2001:db8:66:1::/64, and a counted report against 192.0.2.77
	banned := st.file(t, st.genuine(aged(), "2001:db8:66:1::1"))
	if _, err := st.BanReported(context.Background(), banned.ID, time.Hour, "spam"); err != nil {
		t.Fatal(err)
	}
	st.seenSince(t, "2001:db8:66:2::1", old)
	if f := st.file(t, st.genuine(aged(), "192.0.2.77")); !f.Counts {
		t.Fatalf("a genuine report against 192.0.2.77 did not count: %+v", f)
	}
	st.seenSince(t, "192.0.2.77", old)

	for _, tc := range []struct {
		name, why string
		change    func(r *safety.Report)
	}{
		{"by every rule", "", func(r *safety.Report) {}},
		{"a reporter on another /64 of the reported user's /48", "shared_address", func(r *safety.Report) {
			st.seenSince(t, "2001:db8:70:1::1", old)
			r.ReporterAddr, r.ReportedAddr = st.addr("2001:db8:70:1::1"), st.addr("2001:db8:70:2::1")
		}},
		{"a reporter on the IPv4 address it reports", "shared_address", func(r *safety.Report) { r.ReportedAddr = r.ReporterAddr }},
		{"a new reporter", "new_reporter", func(r *safety.Report) { r.ReporterAddr = st.addr(fresh()) }},
		{"a reporter whose network holds a banned /64", "banned_reporter", func(r *safety.Report) { r.ReporterAddr = st.addr("2001:db8:66:2::1") }},
		{"a reporter reported itself", "reported_reporter", func(r *safety.Report) { r.ReporterAddr = st.addr("192.0.2.77") }},
		{"a short conversation", "short", func(r *safety.Report) { r.Conversation.Length = 9 * time.Second }},
		{"a reported user who took no part", "no_exchange", func(r *safety.Report) { r.Conversation.Exchange = false }},
		{"no evidence", "no_evidence", func(r *safety.Report) { r.Chat = []wire.ChatLine{{From: "you", Text: "hello?"}} }},
		{"a still is evidence", "", func(r *safety.Report) { r.Chat, r.Frame = nil, jpegFrame(t, 32, 24) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := st.genuine(aged(), fmt.Sprint("203.0.113.", ip))
			tc.change(&r)
			f := st.file(t, r)
			rec := st.record(t, f.ID)
			if f.Counts != (tc.why == "") || rec["why"] != tc.why || rec["counts"] != safety.Bit(f.Counts) {
				t.Fatalf("counts %v, why %q; want why %q", f.Counts, rec["why"], tc.why)
			}
		})
	}
}

// Three networks that report one address, each once, ban it when their reports count; reports
// that do not count, a second report from one network, and one from another /64 of a
// reporter's /48 do not add to the count.
func TestAutomaticBanCountsNetworks(t *testing.T) {
	st := storeFor(t, safety.Config{AutobanReporters: 3}, nil)
	const victim = "192.0.2.66"
	steps := []struct {
		reporter string
		counts   bool
		want     int
	}{
		{"203.0.113.1", true, 1},
		{"203.0.113.1", true, 1},     // the same network again
		{"2001:db8:5:1::1", true, 2}, // an IPv6 reporter
		{"2001:db8:5:2::1", true, 2}, // another /64 of its /48: the same network
		{"203.0.113.2", false, 2},    // a report that does not count
		{"203.0.113.3", true, 3},     // the third network: banned
	}
	for i, s := range steps {
		r := st.genuine(s.reporter, victim)
		if !s.counts {
			r.Conversation.Exchange = false
		}
		f := st.file(t, r)
		if f.Reporters != s.want || (f.Ban != nil) != (i == len(steps)-1) {
			t.Fatalf("report %d from %s: %d networks, ban %+v; want %d", i, s.reporter, f.Reporters, f.Ban, s.want)
		}
		if i == len(steps)-1 {
			b, err := st.Arrive(context.Background(), st.addr(victim), "")
			if err != nil || b == nil || b.ID != f.Ban.ID || b.Why == nil || b.Why.Reporters != 3 || len(b.Why.Reports) != 5 {
				t.Fatalf("the ban as a new connection finds it: %+v %v", b, err)
			}
		}
	}
	if left := keysWithoutTTL(t, st.rdb, st.keys.Prefix()); len(left) != 0 {
		t.Fatalf("keys without a TTL: %v", left)
	}
}

// Each further automatic ban of an address in 30 days lasts twice as long, unless a moderator
// lifted the one before: lifting undoes it (its reports count no more, and it does not double
// the next one).
func TestAutomaticBanDoublesUnlessLifted(t *testing.T) {
	st := storeFor(t, safety.Config{AutobanReporters: 2, AutobanDuration: time.Second}, nil)
	const victim = "192.0.2.67"
	ctx := context.Background()
	reportFrom := func(ip string) safety.Filed { return st.file(t, st.genuine(ip, victim)) }
	length := func(b *safety.Ban) time.Duration { return b.Until.Sub(b.Created).Round(time.Second) }

	reportFrom("203.0.113.1")
	first := reportFrom("203.0.113.2").Ban
	if first == nil || length(first) != time.Second {
		t.Fatalf("first automatic ban %+v, want 1 s", first)
	}
	waitFor(t, 5*time.Second, "the first ban to end", func() bool { b, err := st.Arrive(ctx, st.addr(victim), ""); return err == nil && b == nil })
	second := reportFrom("203.0.113.3").Ban // the earlier two still count: at once
	if second == nil || length(second) != 2*time.Second {
		t.Fatalf("second automatic ban %+v, want 2 s", second)
	}
	if err := st.Lift(ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	if f := reportFrom("203.0.113.4"); f.Reporters != 1 || f.Ban != nil {
		t.Fatalf("after the lift the earlier reports still counted: %+v", f)
	}
	third := reportFrom("203.0.113.5").Ban
	if third == nil || length(third) != 2*time.Second {
		t.Fatalf("after a lifted second ban the next lasts %+v, want 2 s (the second is undone, the first is not)", third)
	}
}

// Evidence slots are shared: when they are all taken, a reporter keeps a still only by taking
// the oldest slot of the reporter with the largest load, if that is larger than its own; and
// a reporter not in good standing (new, reported, or banned) counts three times per slot, so
// its slots go first.
func TestEvidenceIsSharedFairly(t *testing.T) {
	clock := time.Now()
	st := storeFor(t, safety.Config{EvidenceMax: 4, ReporterAge: time.Hour}, func() time.Time {
		clock = clock.Add(time.Millisecond) // each report its own time: "oldest" is well defined
		return clock
	})
	old := time.Now().Add(-2 * time.Hour)
	frame := jpegFrame(t, 32, 24)
	withStill := func(reporter string) safety.Filed {
		r := st.genuine(reporter, "192.0.2.10")
		r.Frame = frame
		return st.file(t, r)
	}
	for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		st.seenSince(t, ip, old)
	}
	good1, good2 := withStill("198.51.100.1"), withStill("198.51.100.2")
	var flood []safety.Filed
	for range 6 { // a new address files six: it holds the two free slots, and no more
		flood = append(flood, withStill("203.0.113.9"))
	}
	want := map[string]string{good1.ID: "kept", good2.ID: "kept", flood[0].ID: "kept", flood[1].ID: "kept"}
	for _, f := range flood[2:] {
		want[f.ID] = "no_room"
	}
	check := func(when string) {
		t.Helper()
		for id, ev := range want {
			rec := st.record(t, id)
			if rec["evidence"] != ev || (rec["frame"] != "") != (ev == "kept") {
				t.Fatalf("%s: report %s: evidence %q (frame %d bytes), want %s", when, id, rec["evidence"], len(rec["frame"]), ev)
			}
		}
	}
	check("after the flood")
	// a genuine newcomer (new too) takes the flooder's oldest slot
	late := withStill("198.51.100.3")
	want[late.ID], want[flood[0].ID] = "kept", "trimmed"
	check("after a newcomer")
	// a good reporter's second still takes the slot of one of the two new ones, never a good one's
	second := withStill("198.51.100.2")
	if second.Evidence != "kept" {
		t.Fatalf("a good reporter's second still: %s", second.Evidence)
	}
	if a, b := st.record(t, flood[1].ID)["evidence"], st.record(t, late.ID)["evidence"]; (a == "trimmed") == (b == "trimmed") {
		t.Fatalf("the new reporters' slots: %s and %s, want one of them trimmed", a, b)
	}
	delete(want, flood[1].ID)
	delete(want, late.ID)
	check("after a good reporter's second")
	if n := st.rdb.ZCard(context.Background(), st.keys.Prefix()+":evidence").Val(); n != 4 {
		t.Fatalf("%d reports hold evidence, want REPORT_EVIDENCE_MAX = 4", n)
	}
}

// Stored reports are bounded by REPORTS_MAX: when it is full a reporter stores a report only
// by deleting the oldest of the reporter with the most; one who has as many as anyone is told
// no (rate_limited).
func TestStoredReportsAreBounded(t *testing.T) {
	st := storeFor(t, safety.Config{ReportsMax: 10}, nil)
	var flood []safety.Filed
	for range 10 {
		flood = append(flood, st.file(t, st.genuine("203.0.113.50", "192.0.2.1")))
	}
	if _, err := st.File(context.Background(), st.genuine("203.0.113.50", "192.0.2.1")); err != safety.ErrReportLimit {
		t.Fatalf("the flooder's eleventh: %v, want ErrReportLimit", err)
	}
	g := st.file(t, st.genuine("198.51.100.7", "192.0.2.2"))
	if len(st.record(t, g.ID)) == 0 || len(st.record(t, flood[0].ID)) != 0 {
		t.Fatalf("the genuine report was not stored in the place of the flooder's oldest")
	}
	if n := st.rdb.ZCard(context.Background(), st.keys.ReportsOpen()).Val(); n != 10 {
		t.Fatalf("%d open reports, want REPORTS_MAX = 10", n)
	}
	// the flooder's oldest no longer counts towards a ban either
	if n := st.rdb.ZCard(context.Background(), st.keys.Counted(st.addr("192.0.2.1"))).Val(); n != 9 {
		t.Fatalf("%d reports count against 192.0.2.1, want 9", n)
	}
}

// A moderator dismisses every report of one reporter, and restricts it: its reports are then
// acknowledged but not stored, until the restriction ends.
func TestDismissingAReporter(t *testing.T) {
	st := storeFor(t, safety.Config{}, nil)
	ctx := context.Background()
	for range 3 {
		st.file(t, st.genuine("203.0.113.60", "192.0.2.3"))
	}
	other := st.file(t, st.genuine("198.51.100.60", "192.0.2.3"))
	label := st.ReporterLabel(st.addr("203.0.113.60"))
	top, err := st.TopReporters(ctx)
	if err != nil || len(top) != 2 || top[0] != (safety.ReporterLoad{Reporter: label, Reports: 3}) {
		t.Fatalf("top reporters %+v %v", top, err)
	}
	page, err := st.OpenReports(ctx, safety.Cursor{}, label)
	if err != nil || page.Total != 3 || len(page.Reports) != 3 || page.Reports[0].Reporter != label || page.Reports[0].ReporterReports != 3 {
		t.Fatalf("the reporter's reports: %+v %v", page, err)
	}
	if n, until, err := st.DismissReporter(ctx, label, time.Hour); err != nil || n != 3 || time.Until(until) < 59*time.Minute {
		t.Fatalf("dismissed %d until %v: %v", n, until, err)
	}
	if ttl := st.rdb.TTL(ctx, st.keys.Restricted(label)).Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("the restriction lives %v, want an hour", ttl)
	}
	if f := st.file(t, st.genuine("203.0.113.60", "192.0.2.4")); len(st.record(t, f.ID)) != 0 {
		t.Fatalf("a restricted reporter's report was stored")
	}
	page, err = st.OpenReports(ctx, safety.Cursor{}, "")
	if err != nil || page.Total != 1 || page.Reports[0].ID != other.ID {
		t.Fatalf("after dismissing the reporter: %+v %v", page, err)
	}
	if n := st.rdb.ZCard(ctx, st.keys.Counted(st.addr("192.0.2.3"))).Val(); n != 1 {
		t.Fatalf("%d reports count against 192.0.2.3 after the dismissal, want 1", n)
	}
	if left := keysWithoutTTL(t, st.rdb, st.keys.Prefix()); len(left) != 0 {
		t.Fatalf("keys without a TTL: %v", left)
	}
	// the one report left, dismissed: nothing of reports is left but the restriction, the
	// networks seen, and the rate counters
	if err := st.Dismiss(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range st.rdb.Keys(ctx, st.keys.Prefix()+":*").Val() {
		rest := strings.TrimPrefix(k, st.keys.Prefix()+":")
		if !strings.HasPrefix(rest, "restricted:") && !strings.HasPrefix(rest, "reportrate:") {
			t.Errorf("left behind by closed reports: %s", k)
		}
	}
}

// Paging through open reports skips none and repeats none, however many were filed in one
// millisecond.
func TestReportPagingSkipsNothing(t *testing.T) {
	at := time.Now()
	st := storeFor(t, safety.Config{}, func() time.Time { return at })
	want := map[string]bool{}
	for i := range 2*safety.MaxListed + 7 {
		want[st.file(t, st.genuine(fmt.Sprint("198.51.100.", i), "192.0.2.5")).ID] = true
	}
	seen := map[string]bool{}
	var c safety.Cursor
	for pages := 0; ; pages++ {
		page, err := st.OpenReports(context.Background(), c, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reports {
			if seen[r.ID] {
				t.Fatalf("report %s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		if page.Next == "" {
			break
		}
		if c, err = safety.ParseCursor(page.Next); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("paging listed %d of %d reports filed in one millisecond", len(seen), len(want))
	}
}

// Every ban is listed, a page at a time, and found by its reason or id and its source.
func TestEveryBanIsListed(t *testing.T) {
	st := storeFor(t, safety.Config{}, nil)
	ctx := context.Background()
	var long safety.Ban
	for i := range 2*safety.MaxListed + 3 {
		f := st.file(t, st.genuine("198.51.100.1", fmt.Sprint("192.0.2.", i)))
		d := 24 * time.Hour
		if i == 0 {
			d = safety.MaxBan // the one that ends last: the last page
		}
		b, err := st.BanReported(ctx, f.ID, d, fmt.Sprint("reason number ", i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			long = b
		}
	}
	var all []string
	var c safety.Cursor
	for {
		page, err := st.Bans(ctx, safety.BanQuery{After: c})
		if err != nil || page.Total != 2*safety.MaxListed+3 {
			t.Fatalf("bans page: %d %v", page.Total, err)
		}
		for _, b := range page.Bans {
			all = append(all, b.ID)
		}
		if page.Next == "" {
			break
		}
		c, _ = safety.ParseCursor(page.Next)
	}
	if len(all) != 2*safety.MaxListed+3 || all[len(all)-1] != long.ID || len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
		t.Fatalf("listed %d bans (the 30-day one last: %v)", len(all), all[len(all)-1] == long.ID)
	}
	for _, q := range []safety.BanQuery{{Text: "REASON NUMBER 0"}, {Text: strings.ToLower(long.ID)}, {Text: "number 0", Source: "moderator"}} {
		page, err := st.Bans(ctx, q)
		if err != nil || len(page.Bans) != 1 || page.Bans[0].ID != long.ID {
			t.Fatalf("finding %+v: %+v %v", q, page.Bans, err)
		}
	}
	if page, err := st.Bans(ctx, safety.BanQuery{Source: "auto"}); err != nil || len(page.Bans) != 0 || page.Next != "" {
		t.Fatalf("automatic bans: %+v %v", page, err)
	}
	if err := st.Lift(ctx, long.ID); err != nil {
		t.Fatal(err)
	}
	if b, err := st.Arrive(ctx, st.addr("192.0.2.0"), ""); err != nil || b != nil {
		t.Fatalf("the lifted 30-day ban still holds: %+v %v", b, err)
	}
}
