package main

import (
	"context"
	"net/netip"
	"slices"
	"sync"
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

// Watched users (issue 25, part 2), in Redis: what makes an address watched and what ends it,
// with the matchmaker and the report store on one clock the test moves (match.lua and
// report.lua/ban.lua compare entries with the now they are given). On a real redis-server
// and on miniredis, as the rest of the matchmaking tests.

// watchBed is a matchmaker and the report store on one Redis and one test clock.
type watchBed struct {
	mm  *Matchmaker
	sf  *safety.Safety
	rdb *redis.Client
	mu  sync.Mutex
	at  time.Time
}

const watchTestReportTTL = time.Hour

func newWatchBed(t *testing.T, url string, watchReporters int) *watchBed {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	b := &watchBed{rdb: redis.NewClient(opt), at: time.Now()}
	t.Cleanup(func() { b.rdb.Close() })
	keys := store.NewKeys("{w-" + wire.NewID()[:8] + "}")
	b.mm, err = NewMatchmaker(t.Context(), b.rdb, MatchmakerConfig{Keys: keys, MatchTTL: time.Minute, Timeout: 5 * time.Second,
		Now: b.now, Metrics: metrics.NewMetrics(), WatchReporters: watchReporters})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.mm.Heartbeat(t.Context(), "w", 0, wire.Searching{}, time.Hour); err != nil {
		t.Fatal(err)
	}
	b.sf = safety.New(safety.Config{ReportTTL: watchTestReportTTL, ReportRate: 100, ReportsMax: 1000, EvidenceMax: 100,
		AutobanReporters: 3, AutobanWindow: time.Hour, AutobanDuration: time.Hour, WatchReporters: watchReporters,
		WatchAfterBan: 30 * 24 * time.Hour, Secret: []byte("watch-test-secret")},
		safety.Parts{Redis: b.rdb, Keys: keys, Calls: b.mm.Calls, Now: b.now})
	return b
}

func (b *watchBed) now() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.at
}

func (b *watchBed) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.at = b.at.Add(d)
}

func (b *watchBed) addr(ip string) string {
	return b.sf.AddrHash(safety.AddressKey(netip.MustParseAddr(ip)))
}

// report files a report that counts (a real conversation, with evidence) from reporter
// against reported (both IPs), and returns it.
func (b *watchBed) report(t *testing.T, reporter, reported string) safety.Filed {
	t.Helper()
	f, err := b.sf.File(t.Context(), safety.Report{
		Reporter: wire.ClientID(wire.NewID()), Reported: wire.ClientID(wire.NewID()),
		ReporterAddr: b.addr(reporter), ReportedAddr: b.addr(reported), Match: wire.MatchID(wire.NewID()),
		Conversation:  session.Conversation{Length: time.Minute, Exchange: true},
		ReportRequest: wire.ReportRequest{Reason: "harassment", Chat: []wire.ChatLine{{From: "stranger", Text: "something vile"}}},
	})
	if err != nil || !f.Counts {
		t.Fatalf("report %s -> %s: %+v %v (want one that counts)", reporter, reported, f, err)
	}
	return f
}

// held says whether a search from ip is held back as watched: a fresh user searches (nobody
// else waits) and leaves again.
func (b *watchBed) held(t *testing.T, ip string) bool {
	t.Helper()
	id := wire.ClientID(wire.NewID())
	res, err := b.mm.Enqueue(t.Context(), EnqueueRequest{Client: id, Instance: "w", Mode: wire.ModeVideo,
		Match: wire.MatchID(wire.NewID()), Ticket: "t", Addr: b.addr(ip)})
	if err != nil || res.Outcome != OutcomeWaiting {
		t.Fatalf("search from %s: %+v %v", ip, res, err)
	}
	if _, err := b.mm.Leave(t.Context(), LeaveRequest{Client: id, Instance: "w", Forget: true}); err != nil {
		t.Fatal(err)
	}
	return res.WatchHeld
}

func (b *watchBed) expectHeld(t *testing.T, ip string, want bool, when string) {
	t.Helper()
	if got := b.held(t, ip); got != want {
		t.Fatalf("%s: %s watched = %v, want %v", when, ip, got, want)
	}
}

// consoleWatch is what the console shows of the reported address of report id.
func (b *watchBed) consoleWatch(t *testing.T, id string) safety.Watch {
	t.Helper()
	page, err := b.sf.OpenReports(t.Context(), safety.Cursor{}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Reports {
		if r.ID == id {
			return r.Watched
		}
	}
	t.Fatalf("report %s is not listed", id)
	return safety.Watch{}
}

func (b *watchBed) ban(t *testing.T, id string) safety.Ban {
	t.Helper()
	page, err := b.sf.Bans(t.Context(), safety.BanQuery{Text: id})
	if err != nil || len(page.Bans) != 1 {
		t.Fatalf("ban %s: %+v %v", id, page, err)
	}
	return page.Bans[0]
}

func forEachRedis(t *testing.T, run func(t *testing.T, url string)) {
	t.Run("redis-server", func(t *testing.T) { run(t, redistest.Start(t).URL()) })
	t.Run("miniredis", func(t *testing.T) {
		_, url := startMiniredis(t)
		run(t, url)
	})
}

func TestWatchedByReportsUntilTheyEnd(t *testing.T) {
	forEachRedis(t, func(t *testing.T, url string) {
		b := newWatchBed(t, url, 1)
		b.expectHeld(t, "192.0.2.1", false, "before any report")
		f := b.report(t, "198.51.100.1", "192.0.2.1")
		b.expectHeld(t, "192.0.2.1", true, "with an open report that counts")
		b.expectHeld(t, "192.0.2.2", false, "another address") // the address, not its neighbours
		w := b.consoleWatch(t, f.ID)
		if !w.Now || !slices.Equal(w.Why, []string{"reports"}) || !w.Until.Equal(b.now().Add(watchTestReportTTL).Truncate(time.Millisecond)) {
			t.Fatalf("console shows %+v, want watched for reports until the report ends (%v)", w, b.now().Add(watchTestReportTTL))
		}
		b.advance(watchTestReportTTL - time.Second)
		b.expectHeld(t, "192.0.2.1", true, "a second before the report ends")
		b.advance(2 * time.Second)
		b.expectHeld(t, "192.0.2.1", false, "once the report has ended")

		f = b.report(t, "198.51.100.1", "192.0.2.1")
		b.expectHeld(t, "192.0.2.1", true, "with a new report")
		if err := b.sf.Dismiss(t.Context(), f.ID); err != nil {
			t.Fatal(err)
		}
		b.expectHeld(t, "192.0.2.1", false, "once a moderator dismissed it")
	})
}

// A report that does not count (a fresh reporter network, no conversation, no evidence: the
// rules of the automatic ban) makes nobody watched.
func TestWatchedOnlyByReportsThatCount(t *testing.T) {
	b := newWatchBed(t, redistest.Start(t).URL(), 1)
	f, err := b.sf.File(t.Context(), safety.Report{Reporter: "r", Reported: "v", ReporterAddr: b.addr("198.51.100.7"),
		ReportedAddr: b.addr("192.0.2.7"), Match: "m", ReportRequest: wire.ReportRequest{Reason: "harassment", Note: "made up"}})
	if err != nil || f.Counts {
		t.Fatalf("%+v %v: want a stored report that does not count", f, err)
	}
	b.expectHeld(t, "192.0.2.7", false, "after a report that does not count")
}

func TestWatchReportersIsDistinctNetworks(t *testing.T) {
	b := newWatchBed(t, redistest.Start(t).URL(), 2)
	b.report(t, "2001:db8:1:1::1", "192.0.2.3")
	b.expectHeld(t, "192.0.2.3", false, "one network's report, with WATCH_REPORTERS 2")
	b.report(t, "2001:db8:1:2::1", "192.0.2.3") // another /64 of the same /48: the same network
	b.expectHeld(t, "192.0.2.3", false, "two reports from one network")
	b.report(t, "198.51.100.3", "192.0.2.3")
	b.expectHeld(t, "192.0.2.3", true, "reports from two networks")
}

func TestWatchedAfterABanEndsButNotAfterALift(t *testing.T) {
	forEachRedis(t, func(t *testing.T, url string) {
		b := newWatchBed(t, url, 1)
		// a moderator's ban on a report, ended by its time: watched for 30 days after
		f := b.report(t, "198.51.100.1", "192.0.2.1")
		ban, err := b.sf.BanReported(t.Context(), f.ID, time.Hour, "insults")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := b.ban(t, ban.ID).WatchedUntil, ban.Until.Add(30*24*time.Hour).Truncate(time.Millisecond); !got.Equal(want) {
			t.Fatalf("the console shows the ban's address watched until %v, want %v", got, want)
		}
		b.advance(2 * time.Hour)
		b.expectHeld(t, "192.0.2.1", true, "an hour after the ban ended")
		b.advance(30*24*time.Hour - 2*time.Hour)
		b.expectHeld(t, "192.0.2.1", true, "just under 30 days after the ban ended")
		b.advance(2 * time.Hour)
		b.expectHeld(t, "192.0.2.1", false, "30 days after the ban ended")

		// a moderator's Lift: the ban was a mistake, nothing of it stays
		f = b.report(t, "198.51.100.1", "192.0.2.5")
		ban, err = b.sf.BanReported(t.Context(), f.ID, time.Hour, "insults")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.sf.Lift(t.Context(), ban.ID); err != nil {
			t.Fatal(err)
		}
		b.expectHeld(t, "192.0.2.5", false, "after a moderator lifted the ban")

		// a ban replaced by a second one, then lifted: the first leaves nothing either
		f = b.report(t, "198.51.100.1", "192.0.2.6")
		if _, err := b.sf.BanReported(t.Context(), f.ID, 24*time.Hour, "insults"); err != nil {
			t.Fatal(err)
		}
		f = b.report(t, "198.51.100.2", "192.0.2.6")
		if ban, err = b.sf.BanReported(t.Context(), f.ID, time.Hour, "insults, shorter"); err != nil {
			t.Fatal(err)
		}
		if err := b.sf.Lift(t.Context(), ban.ID); err != nil {
			t.Fatal(err)
		}
		b.expectHeld(t, "192.0.2.6", false, "after a moderator lifted the ban that replaced another")

		// an automatic ban lifted: the reports that made it (still open) no longer watch either
		for _, r := range []string{"198.51.100.11", "198.51.100.12", "198.51.100.13"} {
			f = b.report(t, r, "192.0.2.9")
		}
		if f.Ban == nil {
			t.Fatalf("three counting reports did not ban: %+v", f)
		}
		// moderators act hours later: the counted set (AUTOBAN_WINDOW, an hour after the last
		// report) has expired by then, the reports (REPORT_TTL, 7 days) have not; Redis's own
		// expiry, which the bed's clock does not drive, is this DEL
		if err := b.rdb.Del(t.Context(), b.mm.keys.Counted(b.addr("192.0.2.9"))).Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.sf.Lift(t.Context(), f.Ban.ID); err != nil {
			t.Fatal(err)
		}
		b.expectHeld(t, "192.0.2.9", false, "after a moderator lifted the automatic ban")
		if w := b.consoleWatch(t, f.ID); w.Now {
			t.Fatalf("the console shows the lifted address watched: %+v", w)
		}
	})
}

// Every key the watch writes expires by itself.
func TestWatchKeysExpire(t *testing.T) {
	b := newWatchBed(t, redistest.Start(t).URL(), 1)
	f := b.report(t, "198.51.100.1", "192.0.2.1")
	if _, err := b.sf.BanReported(t.Context(), f.ID, time.Hour, "x"); err != nil {
		t.Fatal(err)
	}
	b.report(t, "198.51.100.2", "192.0.2.2")
	queueWatched(t, b, "192.0.2.2")
	ctx := context.Background()
	for _, key := range []string{b.mm.keys.Watch(b.addr("192.0.2.1")), b.mm.keys.Watch(b.addr("192.0.2.2")), b.mm.keys.WatchedQueue(wire.ModeVideo)} {
		if ttl := b.rdb.TTL(ctx, key).Val(); ttl <= 0 {
			t.Errorf("%s has TTL %v", key, ttl)
		}
	}
	if ttl := b.rdb.TTL(ctx, b.mm.keys.Watch(b.addr("192.0.2.1"))).Val(); ttl < 30*24*time.Hour {
		t.Errorf("the ban's watch key lives %v, want the ban and 30 days", ttl)
	}
}

// queueWatched queues a watched user from ip (held among watched users) and returns its id.
func queueWatched(t *testing.T, b *watchBed, ip string) wire.ClientID {
	t.Helper()
	id := wire.ClientID(wire.NewID())
	res, err := b.mm.Enqueue(t.Context(), EnqueueRequest{Client: id, Instance: "w", Mode: wire.ModeVideo,
		Match: wire.MatchID(wire.NewID()), Ticket: "t", Addr: b.addr(ip)})
	if err != nil || !res.WatchHeld {
		t.Fatalf("%+v %v: want a watched user waiting", res, err)
	}
	return id
}
