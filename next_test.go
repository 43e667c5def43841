package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// A Next (find_match while matched) is one match.lua run: it ends the match as Redis has it
// and searches, atomically. These are the races a Next meets, each on miniredis and on a real
// redis-server, two instances sharing it, with the guarantees a Stop (leave.lua) gives: the
// partner who was left hears partner_left {reason: "next"} exactly once, nobody is
// double-booked or lost (newcomers meet everyone left searching), the rematch cooldown holds,
// and Redis keeps nothing of the ended match.

// nextBed is two instances on one Redis, with clients from distinct networks (a report keeps
// the two networks apart).
type nextBed struct {
	insts []*testInstance
	url   string
	cfg   Config
}

func newNextBed(t *testing.T, url string, overrides ...func(*Config)) *nextBed {
	t.Helper()
	base := testConfig(t, url, safetyConfig(t, overrides...))
	b := &nextBed{url: url, cfg: base}
	for _, id := range []string{"a", "b"} {
		cfg := base
		cfg.InstanceID = wire.InstanceID("next-" + id + "-" + wire.NewID()[:6])
		b.insts = append(b.insts, startInstance(t, cfg))
	}
	return b
}

// pairAcross pairs a client on instance 0 with one on instance 1 (b initiates).
func (nb *nextBed) pairAcross(t *testing.T) (a, b *wsClient, m wire.MatchFoundData) {
	t.Helper()
	a, b = dial(t, nb.insts[0].wsURL(), from("198.51.100.7")), dial(t, nb.insts[1].wsURL(), from("203.0.113.9"))
	m, _ = pair(t, a, b)
	return a, b, m
}

// leftOnce reads c's partner_left, which must come from `from` for a Next.
func leftOnce(t *testing.T, c *wsClient, from wire.ClientID) {
	t.Helper()
	var pl wire.PartnerLeftData
	c.expect(wire.EvPartnerLeft, &pl)
	if pl.From != from || pl.Reason != wire.ReasonNext {
		t.Fatalf("client %s: partner_left %+v, want from %s reason next", c.id(), pl, from)
	}
}

// hearsNothingMore: c gets nothing but waiting notices until it has been quiet for a while (a
// second partner_left, or a match, would be a violation).
func hearsNothingMore(t *testing.T, c *wsClient) {
	t.Helper()
	drain(c, func(ev inEvent) {
		if ev.Event != wire.EvWaiting {
			t.Fatalf("client %s got %s %s after the race settled", c.id(), ev.Event, ev.Data)
		}
	})
}

// everyoneMeetsANewcomer: each of the clients left searching is matched by a newcomer, and
// with nobody else (nobody lost, nobody double-booked).
func everyoneMeetsANewcomer(t *testing.T, url string, searching ...*wsClient) {
	t.Helper()
	for range searching {
		n := dial(t, url, nil)
		n.send(wire.EvFindMatch, nil)
		var m wire.MatchFoundData
		n.expect(wire.EvMatchFound, &m)
		i := slices.IndexFunc(searching, func(c *wsClient) bool { return c.id() == m.PartnerID })
		if i < 0 {
			t.Fatalf("newcomer %s matched with %s, not one of those searching", n.id(), m.PartnerID)
		}
		c := searching[i]
		ev, err := c.nextEvent(10 * time.Second)
		for err == nil && ev.Event == wire.EvWaiting { // a notice that someone passed it over
			ev, err = c.nextEvent(10 * time.Second)
		}
		var back wire.MatchFoundData
		if err != nil || ev.Event != wire.EvMatchFound || json.Unmarshal(ev.Data, &back) != nil {
			t.Fatalf("client %s: got %s %s (%v), want match_found", c.id(), ev.Event, ev.Data, err)
		}
		if back.PartnerID != n.id() || back.MatchID != m.MatchID {
			t.Fatalf("client %s: match_found %+v, want partner %s in match %s", c.id(), back, n.id(), m.MatchID)
		}
		searching = slices.Delete(searching, i, i+1)
	}
}

// matchGone: Redis holds nothing of the ended match, and each of the two is barred from the
// other by the cooldown.
func matchGone(t *testing.T, nb *nextBed, mid wire.MatchID, a, b *wsClient) {
	t.Helper()
	rdb, keys := rdbFor(t, nb.url), store.NewKeys(nb.cfg.KeyPrefix)
	ctx := context.Background()
	if n := rdb.Exists(ctx, keys.Match(mid)).Val(); n != 0 {
		t.Fatalf("the match hash of %s outlives the Next", mid)
	}
	for _, p := range [][2]*wsClient{{a, b}, {b, a}} {
		until, err := rdb.ZScore(ctx, keys.Met(p[0].id()), string(p[1].id())).Result()
		if err != nil || until < float64(time.Now().UnixMilli()) {
			t.Fatalf("%s is not kept from %s by the cooldown: %v %v", p[0].id(), p[1].id(), until, err)
		}
	}
}

// settles: after the race, neither of the two hears anything more, Redis holds nothing of
// their match mid and the cooldown bars them from each other, and once idle (the partner left
// idle, if any) searches again, newcomers meet both.
func (nb *nextBed) settles(t *testing.T, mid wire.MatchID, a, b, idle *wsClient) {
	t.Helper()
	hearsNothingMore(t, a)
	hearsNothingMore(t, b)
	matchGone(t, nb, mid, a, b)
	if idle != nil {
		idle.send(wire.EvFindMatch, nil)
		idle.expect(wire.EvWaiting, nil)
	}
	everyoneMeetsANewcomer(t, nb.insts[1].wsURL(), a, b)
}

// next: a, on instance 0, presses Next and waits; its partner b hears partner_left once; and
// the Next was one match operation on a's instance (however many runs of match.lua it took),
// and no leave.lua.
func (nb *nextBed) next(t *testing.T, a, b *wsClient) {
	t.Helper()
	leaves, matches := redisRuns(t, nb.insts[0], "leave"), redisRuns(t, nb.insts[0], "match")
	a.send(wire.EvFindMatch, nil)
	a.expect(wire.EvWaiting, nil)
	leftOnce(t, b, a.id())
	if l, n := redisRuns(t, nb.insts[0], "leave")-leaves, redisRuns(t, nb.insts[0], "match")-matches; l != 0 || n != 1 {
		t.Fatalf("a Next ran leave.lua %d times and %d match operations, want 0 and 1", l, n)
	}
}

// redisRuns is how many times the instance ran op against Redis.
func redisRuns(t *testing.T, ti *testInstance, op string) uint64 {
	t.Helper()
	var m dto.Metric
	if err := ti.app.Metrics.RedisDuration.WithLabelValues(op).(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// nextBackend is the Redis a race runs on; expired makes a key expire as its TTL would
// (miniredis's clock stands still unless told) and returns once it has.
type nextBackend struct {
	url     string
	expired func(t *testing.T, key string)
}

var nextRaces = []struct {
	name string
	run  func(t *testing.T, be nextBackend)
}{
	{"Next while the partner presses Next", func(t *testing.T, be nextBackend) {
		nb := newNextBed(t, be.url)
		a, b, m := nb.pairAcross(t)
		a.send(wire.EvFindMatch, nil)
		b.send(wire.EvFindMatch, nil)
		// Each pressed Next: a partner_left may reach one that has not started its own search
		// yet (then once, reason next, before its waiting), never after it.
		for _, p := range [][2]*wsClient{{a, b}, {b, a}} {
			c := p[0]
			ev, err := c.nextEvent(10 * time.Second)
			if err != nil {
				t.Fatalf("client %s: %v", c.id(), err)
			}
			if ev.Event == wire.EvPartnerLeft {
				var pl wire.PartnerLeftData
				if err := json.Unmarshal(ev.Data, &pl); err != nil || pl.From != p[1].id() || pl.Reason != wire.ReasonNext {
					t.Fatalf("client %s: partner_left %s, want from %s reason next (%v)", c.id(), ev.Data, p[1].id(), err)
				}
				c.expect(wire.EvWaiting, nil)
			} else if ev.Event != wire.EvWaiting {
				t.Fatalf("client %s got %s %s, want waiting", c.id(), ev.Event, ev.Data)
			}
		}
		nb.settles(t, m.MatchID, a, b, nil)
	}},
	{"Next while the partner's instance is gone", func(t *testing.T, be nextBackend) {
		url := be.url
		env := processEnv(url)
		cfg := testConfig(t, url, func(c *Config) { c.KeyPrefix = envValue(env, "KEY_PREFIX") })
		cfg.InstanceID = wire.InstanceID("next-live-" + wire.NewID()[:6])
		live := startInstance(t, cfg)
		doomed := startProc(t, env)
		a, b := dial(t, live.wsURL(), nil), dial(t, doomed.wsURL(), nil)
		m, _ := pair(t, a, b)
		doomed.signal(syscall.SIGKILL)
		doomed.waitExit(5 * time.Second)
		// a presses Next before anyone has noticed: the dead partner is ended in Redis (its
		// notice goes nowhere), and a searches on
		a.send(wire.EvFindMatch, nil)
		a.expect(wire.EvWaiting, nil)
		rdb, keys := rdbFor(t, url), store.NewKeys(cfg.KeyPrefix)
		ctx := context.Background()
		if st := rdb.HGet(ctx, keys.User(b.id()), "state").Val(); st != "idle" {
			t.Fatalf("the gone partner's state is %q, want idle", st)
		}
		if rdb.Exists(ctx, keys.Match(m.MatchID)).Val() != 0 {
			t.Fatal("the match hash outlives the Next")
		}
		// the sweep, once the dead instance's heartbeat has expired, has nothing to tell a
		be.expired(t, keys.Instance(doomed.id))
		hearsNothingMore(t, a)
		everyoneMeetsANewcomer(t, live.wsURL(), a)
	}},
	{"Next right after a resume", func(t *testing.T, be nextBackend) {
		nb := newNextBed(t, be.url, func(c *Config) { c.ResumeGrace = time.Second })
		a, b, m := nb.pairAcross(t)
		b.conn.UnderlyingConn().Close() // the network drops: b is held on instance 1
		r := dial(t, nb.insts[0].wsURL()+"?resume="+b.hello.ResumeToken, from("203.0.113.9"))
		if !r.hello.Resumed || r.hello.Match == nil || r.hello.Match.MatchID != m.MatchID {
			t.Fatalf("hello after resume: %+v", r.hello)
		}
		r.send(wire.EvFindMatch, nil) // at once, under the resumed token
		r.expect(wire.EvWaiting, nil)
		leftOnce(t, a, b.id())
		// the hold on instance 1 runs out, and must end nothing
		hub := nb.insts[1].app.Hub
		waitFor(t, 10*time.Second, "the hold to run out", func() bool {
			hub.mu.Lock()
			defer hub.mu.Unlock()
			return len(hub.held) == 0
		})
		nb.settles(t, m.MatchID, a, r, a) // a searches, kept from r by the cooldown
	}},
	{"Next by the partner of one who has just resumed", func(t *testing.T, be nextBackend) {
		nb := newNextBed(t, be.url)
		a, b, m := nb.pairAcross(t)
		b.conn.UnderlyingConn().Close()
		r := dial(t, nb.insts[0].wsURL()+"?resume="+b.hello.ResumeToken, from("203.0.113.9"))
		if !r.hello.Resumed {
			t.Fatalf("hello after resume: %+v", r.hello)
		}
		// a may not have heard yet that b lives on instance 0 now (the notice crosses the bus
		// from another instance): Redis says where it does, and the partner_left goes there
		s := nb.insts[0].app.Hub.lookup(a.id())
		nb.insts[0].app.Hub.record(s.PartnerMoved(m.MatchID, wire.Peer{ID: b.id(), Instance: nb.insts[1].cfg.InstanceID}))
		a.send(wire.EvFindMatch, nil)
		a.expect(wire.EvWaiting, nil)
		leftOnce(t, r, a.id())
		nb.settles(t, m.MatchID, a, r, r)
	}},
	{"Next past many stale queue entries (the script runs again)", func(t *testing.T, be nextBackend) {
		// miniredis runs Lua slowly under -race: a few runs past 600 entries may take a while
		nb := newNextBed(t, be.url, func(c *Config) { c.RedisTimeout = 30 * time.Second })
		a, b, m := nb.pairAcross(t)
		rdb, keys := rdbFor(t, nb.url), store.NewKeys(nb.cfg.KeyPrefix)
		ctx := context.Background()
		pipe := rdb.Pipeline()
		for i := range 600 { // the waiting users of an instance that died: more than one run drops
			id := wire.ClientID(fmt.Sprintf("GHOST%04d", i))
			pipe.HSet(ctx, keys.User(id), "state", "waiting", "mode", "video", "instance", "dead-instance")
			pipe.SAdd(ctx, keys.Queue(wire.ModeVideo), string(id))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		nb.next(t, a, b) // b is told once, although match.lua runs three times
		if n := rdb.SCard(ctx, keys.Queue(wire.ModeVideo)).Val(); n != 1 {
			t.Fatalf("%d entries in the queue, want a's alone", n)
		}
		if st := rdb.HGet(ctx, keys.User(b.id()), "state").Val(); st != "idle" {
			t.Fatalf("the partner left is %q in Redis, want idle", st)
		}
		nb.settles(t, m.MatchID, a, b, b)
	}},
	{"a Next is one script run; both Next again during the cooldown", func(t *testing.T, be nextBackend) {
		nb := newNextBed(t, be.url)
		a, b, m := nb.pairAcross(t)
		nb.next(t, a, b)
		// b presses Next too: a waits, but they met a moment ago: b is not paired with a
		waitsForSomeoneNew(t, b)
		// and a, still searching, presses Next again: it ends nothing, and is not paired with b
		waitsForSomeoneNew(t, a)
		nb.settles(t, m.MatchID, a, b, nil)
	}},
	{"Next while a report is open", func(t *testing.T, be nextBackend) {
		nb := newNextBed(t, be.url, func(c *Config) { c.RematchCooldown = 0 }) // only the report keeps them apart
		a, b, m := nb.pairAcross(t)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "harassment"}))
		var rep wire.ReportedData
		a.expect(wire.EvReported, &rep)
		if rep.MatchID != m.MatchID {
			t.Fatalf("reported %+v", rep)
		}
		// the reported user presses Next: a hears it once, and the two never meet again
		b.send(wire.EvFindMatch, nil)
		b.expect(wire.EvWaiting, nil)
		leftOnce(t, a, b.id())
		waitsForSomeoneNew(t, a)
		hearsNothingMore(t, a)
		hearsNothingMore(t, b)
		if n := rdbFor(t, nb.url).Exists(context.Background(), store.NewKeys(nb.cfg.KeyPrefix).Match(m.MatchID)).Val(); n != 0 {
			t.Fatal("the match hash outlives the Next")
		}
		everyoneMeetsANewcomer(t, nb.insts[0].wsURL(), a, b)
	}},
}

func TestNextRaces(t *testing.T) {
	backends := []struct {
		name  string
		start func(t *testing.T) nextBackend
	}{
		{"miniredis", func(t *testing.T) nextBackend {
			m, url := startMiniredis(t)
			return nextBackend{url: url, expired: func(t *testing.T, key string) { m.Del(key) }}
		}},
		{"redis-server", func(t *testing.T) nextBackend {
			url := redistest.Start(t).URL()
			return nextBackend{url: url, expired: func(t *testing.T, key string) {
				rdb := rdbFor(t, url)
				waitFor(t, 15*time.Second, key+" to expire", func() bool { return rdb.Exists(context.Background(), key).Val() == 0 })
			}}
		}},
	}
	for _, be := range backends {
		for _, race := range nextRaces {
			t.Run(be.name+"/"+race.name, func(t *testing.T) { race.run(t, be.start(t)) })
		}
	}
}

// match.lua's answer starts with the match a new search ended; the parser keeps it whatever
// the search did, and refuses an answer without it.
func TestParseMatchReplyEnded(t *testing.T) {
	ended := LeaveResult{Ended: true, Partner: "P", PartnerInstance: "i2", Match: "M"}
	for _, tc := range []struct {
		reply   []string
		want    EnqueueResult
		again   bool
		invalid bool
	}{
		{reply: []string{"P", "i2", "M", "waiting", "", ""}, want: EnqueueResult{Outcome: OutcomeWaiting, Ended: ended}},
		{reply: []string{"", "", "", "waiting", "", "w"}, want: EnqueueResult{Outcome: OutcomeWaiting, WatchHeld: true}},
		{reply: []string{"", "", "", "waiting", "new", "", "W", "i3", "t"}, want: EnqueueResult{Outcome: OutcomeWaiting, PassedOver: true,
			Skipped: []Waiter{{Client: "W", Instance: "i3", Ticket: "t"}}}},
		{reply: []string{"P", "i2", "M", "matched", "Q", "i1", "tq", "addr", "pt", "music"}, want: EnqueueResult{Outcome: OutcomeMatched,
			Partner: wire.Peer{ID: "Q", Instance: "i1", Addr: "addr"}, PartnerTicket: "tq", Language: "pt", Common: []string{"music"}, Ended: ended}},
		{reply: []string{"", "", "", "matched", "Q", "i1", "tq", "addr", ""}, want: EnqueueResult{Outcome: OutcomeMatched,
			Partner: wire.Peer{ID: "Q", Instance: "i1", Addr: "addr"}, PartnerTicket: "tq", Common: []string{}}},
		{reply: []string{"P", "i2", "M", "retry"}, want: EnqueueResult{Ended: ended}, again: true},
		{reply: []string{"", "", "", "moved"}, want: EnqueueResult{Outcome: OutcomeMoved}},
		{reply: []string{"waiting", ""}, invalid: true},
		{reply: []string{"", "", "", "waiting", ""}, invalid: true}, // no watched slot
		{reply: []string{"P", "i2", "M", "matched", "Q"}, invalid: true},
		{reply: []string{"P", "i2", "M", "matched", "Q", "i1", "tq", "addr"}, invalid: true}, // no language slot
	} {
		res, again, err := parseMatchReply(tc.reply)
		if tc.invalid {
			if err == nil {
				t.Errorf("%q: no error", tc.reply)
			}
			continue
		}
		if err != nil || again != tc.again || fmt.Sprint(res) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %+v again=%v err=%v, want %+v again=%v", tc.reply, res, again, err, tc.want, tc.again)
		}
	}
}
