package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// A user who resumes from another address is reported (and banned) under the new one: a
// harasser cannot take a conversation to its own line and leave the ban to a shared one.
func TestReportReachesTheAddressAResumeCameFrom(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, safetyConfig(t, func(c *Config) { c.AutobanReporters, c.MinConversation = 1, 0 })))
	abuser := dial(t, inst.wsURL(), from("198.51.100.10")) // e.g. a café / CGNAT / VPN exit
	ageNetwork(t, inst, "198.51.100.20")
	victim := dial(t, inst.wsURL(), from("198.51.100.20"))
	pair(t, abuser, victim)
	abuser.close() // drop, then come back from the abuser's own address
	a2 := dial(t, inst.wsURL()+"?resume="+abuser.hello.ResumeToken, from("203.0.113.99"))
	if !a2.hello.Resumed || a2.hello.Match == nil {
		t.Fatalf("resume: %+v", a2.hello)
	}
	say(a2, victim, "something vile")
	say(victim, a2, "go away")
	reportWith(t, victim, "insults", "something vile")
	ev, err := a2.nextEvent(2 * time.Second)
	if err != nil || ev.Event != wire.EvBanned {
		t.Errorf("the reported user (now on 203.0.113.99) was not banned: %v %v", ev, err)
	}
	rdb := rdbFor(t, url)
	if rdb.Exists(t.Context(), inst.app.Hub.mm.keys.Ban(inst.app.Hub.safety.AddrHash("198.51.100.10"))).Val() == 1 {
		t.Errorf("the address the reported user LEFT (198.51.100.10) was banned instead")
	}
}

// maxReport is the largest report validateReport accepts that fits READ_LIMIT.
func maxReport(t *testing.T) string {
	img := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1}
	img = append(img, make([]byte, wire.MaxReportFrameBytes-len(img))...) // any bytes after the SOF header
	var chat []any
	for range wire.MaxReportChatLines {
		chat = append(chat, map[string]any{"from": "stranger", "text": strings.Repeat("<", wire.MaxChatLen)})
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // a client sends '<' as one byte
	if err := enc.Encode(map[string]any{"event": wire.EvReport, "data": map[string]any{"reason": "other",
		"note": strings.Repeat("&", 500), "frame": wire.ReportFramePrefix + base64.StdEncoding.EncodeToString(img), "chat": chat}}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A report stores no more than came in (no escaping), and junk reports cannot hide a real one
// from the console (it pages through every open report).
func TestReportsStoreNoMoreThanTheyBring(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, safetyConfig(t)))
	rdb := rdbFor(t, url)
	t.Run("one report's size in Redis", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), from("192.0.2.1")), dial(t, inst.wsURL(), from("192.0.2.1")) // two own sockets
		pair(t, a, b)
		msg := maxReport(t)
		a.sendRaw(msg)
		a.expect(wire.EvReported, nil)
		var stored int
		for _, k := range rdb.Keys(t.Context(), inst.cfg.KeyPrefix+":report:*").Val() {
			for _, v := range rdb.HGetAll(t.Context(), k).Val() {
				stored += len(v)
			}
		}
		t.Logf("inbound frame %d bytes, stored %d bytes (at most REPORT_EVIDENCE_MAX=%d open reports keep evidence: %d MB)",
			len(msg), stored, inst.cfg.EvidenceMax, stored*inst.cfg.EvidenceMax>>20)
		if stored > len(msg)+256 { // the report's own fields: time, ids, address hashes
			t.Errorf("one report stores %d bytes, more than the %d bytes that came in", stored, len(msg))
		}
	})
	t.Run("junk hides a real report", func(t *testing.T) {
		x, y := dial(t, inst.wsURL(), from("198.51.100.1")), dial(t, inst.wsURL(), from("198.51.100.2"))
		pair(t, x, y)
		x.sendRaw(reportFrame(t, map[string]any{"reason": "underage", "note": "REAL"}))
		x.expect(wire.EvReported, nil)
		for i := range 200 { // 20 addresses x REPORT_RATE; two sockets of one address meet each other
			addr := fmt.Sprint("203.0.113.", i%20)
			a, b := dial(t, inst.wsURL(), from(addr)), dial(t, inst.wsURL(), from(addr))
			a.send(wire.EvFindMatch, map[string]any{"interests": []string{"junk-" + fmt.Sprint(i)}})
			a.expect(wire.EvWaiting, nil)
			b.send(wire.EvFindMatch, map[string]any{"interests": []string{"junk-" + fmt.Sprint(i)}})
			b.expect(wire.EvMatchFound, nil)
			b.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
			b.expect(wire.EvReported, nil)
			a.closeClean()
			b.closeClean()
		}
		path, seen := "/mod/api/reports", 0
		for {
			page := consoleGet[safety.ReportPage](t, inst, path)
			if page.Total != 202 { // with the one of the subtest before
				t.Fatalf("total %d open reports, want 202", page.Total)
			}
			for _, r := range page.Reports {
				seen++
				if r.Note == "REAL" {
					return
				}
			}
			if page.Next == "" {
				t.Fatalf("the real report is not among the %d the console lists", seen)
			}
			path = "/mod/api/reports?before=" + page.Next
		}
	})
}

// When the "replaced" notice to the old socket's instance is lost (pub/sub is at-most-once),
// the sweep still finds that the identity lives elsewhere and closes the superseded socket,
// and the partner is told nothing (its conversation lives on with the newer socket).
func TestSupersededSocketIsClosedWhenItsNoticeIsLost(t *testing.T) {
	insts, _ := startCluster(t, 2)
	a, b, _ := crossPair(t, insts) // a on inst 0, b on inst 1
	// what Attach on instance 1 does for a resume of a, without the notice to instance 0
	next := session.NewResumeToken(a.id())
	if _, ok, err := insts[1].app.Hub.mm.Resume(t.Context(), a.id(), session.HashToken(a.hello.ResumeToken), session.HashToken(next),
		insts[1].cfg.InstanceID, "addr"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ev, err := a.nextEvent(5 * time.Second)
	if err != nil || ev.Event != "close" || string(ev.Data) != "4001" {
		t.Fatalf("the superseded socket got %v %v, want close 4001 from the sweep", ev, err)
	}
	if n := metricValue(scrapeMetrics(t, insts[0].srv.URL+"/metrics"), "gomegle_reconciled_total", map[string]string{"kind": "superseded"}); n != 1 {
		t.Fatalf("reconciled_total{superseded} = %v", n)
	}
	b.send(wire.EvTyping, map[string]any{"typing": true}) // b is still matched: no partner_left came
	if ev, err := b.nextEvent(300 * time.Millisecond); err == nil {
		t.Fatalf("the partner got %s %s", ev.Event, ev.Data)
	}
}

// Live waiting users the caller met recently are passed over at a bounded cost: 300 of them
// (an attacker's sockets that met X once) must not make X's find_match run match.lua again
// and again.
func TestPassingOverMetUsersIsBounded(t *testing.T) {
	insts, rs := startCluster(t, 1)
	rdb := rdbFor(t, rs.URL())
	keys, self := store.NewKeys(insts[0].cfg.KeyPrefix), string(insts[0].cfg.InstanceID)
	x := dial(t, insts[0].wsURL(), nil)
	until := time.Now().Add(time.Hour).UnixMilli()
	for i := range 300 {
		id := wire.ClientID(fmt.Sprintf("SYBIL%03d", i))
		rdb.HSet(t.Context(), keys.User(id), "state", "waiting", "mode", "video", "instance", self, "ticket", "t")
		rdb.SAdd(t.Context(), keys.Queue(wire.ModeVideo), string(id))
		rdb.ZAdd(t.Context(), keys.Met(x.id()), redisZ(float64(until), string(id)))
	}
	rdb.Do(t.Context(), "CONFIG", "RESETSTAT")
	x.send(wire.EvFindMatch, nil)
	x.expect(wire.EvWaiting, nil)
	info := rdb.Info(t.Context(), "commandstats").Val()
	var spops, evals, usec int
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, "cmdstat_spop:") {
			fmt.Sscanf(strings.TrimPrefix(line, "cmdstat_spop:"), "calls=%d", &spops)
		}
		if strings.HasPrefix(line, "cmdstat_evalsha:") {
			fmt.Sscanf(strings.TrimPrefix(line, "cmdstat_evalsha:"), "calls=%d,usec=%d", &evals, &usec)
		}
	}
	t.Logf("one find_match: %d match.lua runs, %d SPOPs, %d µs of Redis", evals, spops, usec)
	if spops > 600 {
		t.Errorf("one find_match ran %d SPOPs (the queue holds 300)", spops)
	}
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }

// Connections that close while Redis is away are released there at the next sync: an address
// is not locked out for connsTTL.
func TestAddressCountsHealAfterAnOutage(t *testing.T) {
	insts, rs := startCluster(t, 1, func(c *Config) {
		c.MaxConnsPerIP, c.TrustedProxies, c.BanSecret = 2, mustPrefixes(t, "127.0.0.1/32"), "s"
		c.RedisTimeout = 500 * time.Millisecond
	})
	rdb := rdbFor(t, rs.URL())
	hdr := from("203.0.113.50")
	one, two := dial(t, insts[0].wsURL(), hdr), dial(t, insts[0].wsURL(), hdr)
	pauseRedis(t, rdb, 1500*time.Millisecond)
	one.closeClean()
	two.closeClean()
	waitFor(t, 10*time.Second, "ready", func() bool { ok, _ := insts[0].app.Hub.Ready(); return ok })
	insts[0].app.Server.Addrs.Sync(t.Context()) // what the per-minute sync does
	if _, err := tryDial(t, insts[0].wsURL(), hdr); err != nil {
		key := insts[0].app.Hub.mm.keys.Conns(safety.AddressHash([]byte("s"), "203.0.113.50"))
		t.Errorf("an address with no connection is refused (%v); Redis holds %v for another %v, and the sync will not fix it (local %v)",
			err, rdb.HGetAll(t.Context(), key).Val(), rdb.TTL(t.Context(), key).Val(), insts[0].app.Server.Addrs.Local)
	}
}

// Between resume.lua on the new instance and the "replaced" notice reaching the old one, the
// old socket's leave ends nothing: Redis answers "moved", and the partner is not told.
func TestSupersededSocketEndsNothing(t *testing.T) {
	insts, rs := startCluster(t, 2)
	rdb := rdbFor(t, rs.URL())
	a, b, m := crossPair(t, insts)
	next := session.NewResumeToken(a.id())
	// what Attach on instance 1 has done when its KindReplaced is still on the wire
	if _, ok, err := insts[1].app.Hub.mm.Resume(t.Context(), a.id(), session.HashToken(a.hello.ResumeToken), session.HashToken(next), insts[1].cfg.InstanceID, "addr"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	a.send(wire.EvLeave, nil)
	if ev, err := b.nextEvent(2 * time.Second); err == nil && ev.Event == wire.EvPartnerLeft {
		t.Errorf("partner told partner_left by the superseded socket; Redis still has the match: %v",
			rdb.Exists(t.Context(), insts[0].app.Hub.mm.keys.Match(m.MatchID)).Val() == 1)
	}
}

// Reporters are counted per IPv6 /48: one home line with many /64s is one reporter, and
// cannot ban anyone on its own; once it reported someone, none of its /64s meets that one
// again while the report is open (the networks are kept apart).
func TestOneIPv6SubscriberIsOneReporter(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, safetyConfig(t, func(c *Config) { c.MinConversation = 0 })))
	ageNetwork(t, inst, "2001:db8:aa:1::1")
	victim := dial(t, inst.wsURL(), from("192.0.2.77"))
	r := meet(t, victim, inst.wsURL(), "2001:db8:aa:1::1")
	say(r, victim, "hi")
	say(victim, r, "something vile")
	reportWith(t, r, "insults", "something vile")
	r.send(wire.EvLeave, nil)
	victim.expect(wire.EvPartnerLeft, nil)
	victim.send(wire.EvFindMatch, nil)
	victim.expect(wire.EvWaiting, nil)
	waitsForSomeoneNew(t, dial(t, inst.wsURL(), from("2001:db8:aa:ff::1"))) // another /64 of the /48: kept apart
	// its reports of others from any of its /64s count as one network's
	page := consoleGet[safety.ReportPage](t, inst, "/mod/api/reports")
	if len(page.Reports) != 1 || !page.Reports[0].Counts || page.Reports[0].Reporters != 1 {
		t.Fatalf("reports %+v", page.Reports)
	}
	notBanned(t, victim)
}

// The sweep reads its match checks without the sessions' locks. A user who pressed Next
// between that read and its use has a new resume token (every leave hands one out), so the
// token Redis had looks like another socket's: the sweep must not close a churning user as
// superseded (under the churn bench, several connections a run were closed with 4001).
func TestSweepDoesNotSupersedeAUserWhoMovedOn(t *testing.T) {
	_, url := startMiniredis(t)
	hub := quietApp(t, testConfig(t, url)).Hub
	a, ac := attachFake(hub)
	b, _ := attachFake(hub)
	hub.FindMatch(a, wire.ModeVideo, wire.Wish{}, "")
	hub.FindMatch(b, wire.ModeVideo, wire.Wish{}, "")
	partner, inst, mid, ok := a.PartnerRoute()
	if !ok || partner != b.ID {
		t.Fatal("a and b were not matched")
	}
	// the sweep's read, before a's leave
	states, err := hub.mm.MatchStates(t.Context(), []MatchCheck{{User: a.ID, Match: mid, Partner: partner}})
	if err != nil || !states[0].Exists || states[0].Token == "" {
		t.Fatalf("match state %+v, %v", states, err)
	}
	before := a.Token()
	hub.Leave(a)
	if a.Token() == before {
		t.Fatal("a leave handed out no new token: the test no longer tests the race it is for")
	}
	hub.correct(a, partner, inst, mid, states[0]) // the sweep applies its (now stale) read
	ac.mu.Lock()
	closed := ac.closed
	ac.mu.Unlock()
	if closed != 0 {
		t.Fatalf("a user who pressed Next was closed with %d by a stale sweep read", closed)
	}
	hub.FindMatch(a, wire.ModeVideo, wire.Wish{}, "") // and it can search again
	if _, _, ok := a.WaitingSince(); !ok {
		t.Fatal("a cannot search after the sweep")
	}
}
