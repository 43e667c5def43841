package main

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 1: an automatic ban must not be cheap to aim. Reports count towards it only
// when the reporter talked with the user, carries evidence, and is neither new nor reported
// nor banned nor on the same network (report.lua); a moderator sees why a ban happened and
// undoes it in one step.

// ageNetwork makes the network of ip first seen two days ago, as a returning visitor's is.
func ageNetwork(t *testing.T, inst *testInstance, ip string) {
	t.Helper()
	addr := inst.app.Hub.safety.AddrHash(safety.AddressKey(netip.MustParseAddr(ip)))
	key := store.NewKeys(inst.cfg.KeyPrefix).Seen(safety.NetworkOf(addr))
	if err := inst.app.Redis.Set(t.Context(), key, time.Now().Add(-48*time.Hour).UnixMilli(), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
}

// meet queues the waiting user w and pairs a newcomer from ip on url with it.
func meet(t *testing.T, w *wsClient, url, ip string) *wsClient {
	t.Helper()
	w.send(wire.EvFindMatch, nil)
	w.expect(wire.EvWaiting, nil)
	r := dial(t, url, from(ip))
	r.send(wire.EvFindMatch, nil)
	var m wire.MatchFoundData
	r.expect(wire.EvMatchFound, &m)
	w.expect(wire.EvMatchFound, nil)
	if m.PartnerID != w.id() {
		t.Fatalf("%s met %s, want %s", ip, m.PartnerID, w.id())
	}
	return r
}

// say sends a chat line from one to the other, who reads it.
func say(from, to *wsClient, text string) {
	from.send(wire.EvChat, map[string]any{"text": text})
	to.expect(wire.EvChat, nil)
}

// reportWith files a report from r with the chat lines it holds (lines of the reported user
// are "stranger") and waits for the answer.
func reportWith(t *testing.T, r *wsClient, note string, lines ...string) {
	t.Helper()
	var chat []any
	for _, l := range lines {
		chat = append(chat, map[string]any{"from": "stranger", "text": l})
	}
	r.sendRaw(reportFrame(t, map[string]any{"reason": "harassment", "note": note, "chat": chat}))
	r.expect(wire.EvReported, nil)
}

// notBanned requires that c, whatever else it hears, is not banned within a moment.
func notBanned(t *testing.T, c *wsClient) {
	t.Helper()
	drain(c, func(ev inEvent) {
		if ev.Event == wire.EvBanned {
			t.Fatalf("%s was banned: %s", c.id(), ev.Data)
		}
	})
}

func TestColludingAddressesCannotBanAnInnocent(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.ReportRate = 100 })) // the shipped rules otherwise
	victim := dial(t, insts[1].wsURL(), from("192.0.2.50"))
	attack := func(ips []string, victimAnswers bool) {
		t.Helper()
		for _, ip := range ips {
			a := meet(t, victim, insts[0].wsURL(), ip)
			say(a, victim, "hi")
			if victimAnswers {
				say(victim, a, "hello")
			}
			a.send(wire.EvRTCStats, map[string]any{"outcome": "connected", "setup_ms": 900}) // its own page's word: worth nothing
			reportWith(t, a, "made up", "a line it made up")
			a.send(wire.EvLeave, nil)
			victim.expect(wire.EvPartnerLeft, nil)
		}
		notBanned(t, victim)
	}
	// three fresh addresses, to whom the victim never wrote: each report fails three rules
	attack([]string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, false)
	// three addresses that were here yesterday, and to whom the victim wrote back: a few
	// seconds are not a conversation
	for _, ip := range []string{"203.0.113.4", "203.0.113.5", "203.0.113.6"} {
		ageNetwork(t, insts[0], ip)
	}
	attack([]string{"203.0.113.4", "203.0.113.5", "203.0.113.6"}, true)

	page := consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports")
	if len(page.Reports) != 6 {
		t.Fatalf("%d reports, want 6", len(page.Reports))
	}
	for i, r := range page.Reports { // newest first
		want := []string{"new_reporter", "short", "no_exchange"}
		if i < 3 {
			want = []string{"short"}
		}
		if r.Counts || r.Reporters != 0 || !slices.Equal(r.Why, want) {
			t.Fatalf("report %d: counts %v (%d networks), why %v; want %v", i, r.Counts, r.Reporters, r.Why, want)
		}
	}
}

func TestGenuineRepeatedReportsStillBan(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.MinConversation = 0 }))
	victim := dial(t, insts[1].wsURL(), from("192.0.2.66"))
	reporters := []string{"203.0.113.11", "2001:db8:11::5", "203.0.113.13", "203.0.113.14"}
	for _, ip := range reporters {
		ageNetwork(t, insts[0], ip)
	}
	// two conversations in words, one in a video call the victim's own page reported
	for _, ip := range reporters[:2] {
		r := meet(t, victim, insts[0].wsURL(), ip)
		say(r, victim, "hi")
		say(victim, r, "something vile")
		reportWith(t, r, "insults", "something vile")
		r.send(wire.EvLeave, nil)
		victim.expect(wire.EvPartnerLeft, nil)
	}
	r := meet(t, victim, insts[0].wsURL(), reporters[2])
	victim.send(wire.EvRTCStats, map[string]any{"outcome": "connected", "setup_ms": 1200, "candidate": "host"})
	say(victim, r, "marker") // behind the call's notice on the bus: r's instance has it (and r wrote nothing)
	r.sendRaw(reportFrame(t, map[string]any{"reason": "nudity", "frame": jpegFrame(t, 64, 48)}))
	r.expect(wire.EvReported, nil)
	ban := expectBanned(t, victim)
	until, err := time.Parse(time.RFC3339, ban.Until)
	if err != nil || time.Until(until) < 23*time.Hour || time.Until(until) > 25*time.Hour || ban.Reason != "reported by 3 people" {
		t.Fatalf("ban %+v (%v): want about 24 h from now", ban, err)
	}

	// the console shows why: the three reports that counted, by their reporters' labels
	reports := consoleGet[safety.ReportPage](t, insts[1], "/mod/api/reports").Reports
	bans := consoleGet[struct{ Bans []web.BanView }](t, insts[1], "/mod/api/bans?source=auto").Bans
	if len(reports) != 3 || len(bans) != 1 || bans[0].Why == nil || bans[0].Why.Reporters != 3 || len(bans[0].Why.Reports) != 3 {
		t.Fatalf("reports %d, bans %+v", len(reports), bans)
	}
	for i, w := range bans[0].Why.Reports {
		r := reports[len(reports)-1-i] // oldest first there, newest first here
		if w.ID != r.ID || w.Reporter != r.Reporter || !r.Counts || w.Reason != r.Reason {
			t.Fatalf("why %+v, report %+v", w, r)
		}
	}
	if bans[0].Why.Reports[2].Evidence != "kept" || bans[0].Why.Reports[2].Reason != "nudity" {
		t.Fatalf("why %+v", bans[0].Why.Reports)
	}
	// lifting undoes it in one step: the address is let in, and those reports count no more
	consoleDo(t, insts[0], http.MethodDelete, "/mod/api/bans/"+bans[0].ID, "", http.StatusNoContent)
	victim = dial(t, insts[1].wsURL(), from("192.0.2.66"))
	r = meet(t, victim, insts[0].wsURL(), reporters[3])
	say(r, victim, "hi")
	say(victim, r, "something vile")
	reportWith(t, r, "insults", "something vile")
	notBanned(t, victim)
	after := consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports").Reports
	if len(after) != 4 || !after[0].Counts || after[0].Reporters != 1 {
		t.Fatalf("after the lift the newest report counts as the first: %+v", after[0])
	}
	if n := metricValue(scrapeMetrics(t, insts[0].srv.URL+"/metrics"), "gomegle_bans_total", map[string]string{"source": "auto"}); n != 1 {
		t.Fatalf("bans_total{auto} = %v, want 1", n)
	}
}
