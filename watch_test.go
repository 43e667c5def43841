package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

// Watched users (issue 25, part 2), end to end: two instances on a real redis-server, users
// made watched the way production does it (a report that counts, from an aged network, of a
// real conversation with evidence). watch_store_test.go has the levels' ends on a moved clock.

// watchCluster is two instances where reports count after any conversation, with WATCH_WAIT.
func watchCluster(t *testing.T, wait time.Duration) ([]*testInstance, store.Keys, string) {
	t.Helper()
	insts, rs := startCluster(t, 2, watchConfig(t, wait))
	return insts, store.NewKeys(insts[0].cfg.KeyPrefix), rs.URL()
}

func watchConfig(t *testing.T, wait time.Duration) func(*Config) {
	return safetyConfig(t, func(c *Config) { c.MinConversation, c.WatchWait = 0, wait })
}

// watchedClient connects a user from ip on inst and makes its address watched: an aged
// network (reporterIP) meets it, the two talk, and the reporter reports it (the report counts,
// and one is WATCH_REPORTERS). Nobody else may be waiting. The user is idle afterwards.
func watchedClient(t *testing.T, inst *testInstance, ip, reporterIP string) *wsClient {
	t.Helper()
	ageNetwork(t, inst, reporterIP)
	w := dial(t, inst.wsURL(), from(ip))
	r := meet(t, w, inst.wsURL(), reporterIP)
	say(w, r, "something vile")
	say(r, w, "stop")
	reportWith(t, r, "insults", "something vile")
	r.send(wire.EvLeave, nil)
	w.expect(wire.EvPartnerLeft, nil)
	r.close()
	return w
}

// searches: c sends find_match (with data) and waits.
func searches(t *testing.T, c *wsClient, data any) wire.WaitingData {
	t.Helper()
	c.send(wire.EvFindMatch, data)
	var w wire.WaitingData
	c.expect(wire.EvWaiting, &w)
	return w
}

func TestWatchedUsersMeetEachOtherFirst(t *testing.T) {
	t.Run("redis-server", func(t *testing.T) { watchedMeetEachOtherFirst(t, watchCluster) })
	t.Run("miniredis", func(t *testing.T) { watchedMeetEachOtherFirst(t, watchClusterOnMiniredis) })
}

// watchClusterOnMiniredis is watchCluster on one miniredis, as most matchmaking tests run.
func watchClusterOnMiniredis(t *testing.T, wait time.Duration) ([]*testInstance, store.Keys, string) {
	t.Helper()
	_, url := startMiniredis(t)
	base := testConfig(t, url, watchConfig(t, wait))
	var insts []*testInstance
	for _, id := range []string{"a", "b"} {
		cfg := base
		cfg.InstanceID = wire.InstanceID("watch-" + id + "-" + wire.NewID()[:6])
		insts = append(insts, startInstance(t, cfg))
	}
	return insts, store.NewKeys(base.KeyPrefix), url
}

func watchedMeetEachOtherFirst(t *testing.T, cluster func(*testing.T, time.Duration) ([]*testInstance, store.Keys, string)) {
	insts, keys, url := cluster(t, time.Hour)
	w1 := watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10")
	w2 := watchedClient(t, insts[1], "192.0.2.20", "198.51.100.20")
	n := dial(t, insts[0].wsURL(), from("203.0.113.30"))
	searches(t, n, nil)
	// a watched user does not take the normal one waiting, and waits among watched users
	searches(t, w1, nil)
	waitFor(t, 5*time.Second, "gomegle_watched_queue_length{mode=video} 1", func() bool {
		return testutil.ToFloat64(insts[1].app.Metrics.WatchedQueues.WithLabelValues(string(wire.ModeVideo))) == 1
	})
	// the second watched user, on the other instance, meets the first one, not the normal one
	w2.send(wire.EvFindMatch, nil)
	matchedWith(t, w2, w1, "", []string{})
	rdb := rdbFor(t, url)
	if st := rdb.HGet(context.Background(), keys.User(n.id()), "state").Val(); st != "waiting" {
		t.Fatalf("the normal user is %q in Redis, want waiting", st)
	}
	if ev, err := n.nextEvent(0); err == nil {
		t.Fatalf("the normal user heard %s %s, want nothing", ev.Event, ev.Data)
	}
	// and a normal newcomer meets the normal one at once
	n2 := dial(t, insts[1].wsURL(), from("203.0.113.31"))
	n2.send(wire.EvFindMatch, nil)
	matchedWith(t, n2, n, "", []string{})
}

func TestWatchedUserMeetsEveryoneAfterTheWait(t *testing.T) {
	insts, keys, url := watchCluster(t, 300*time.Millisecond)
	w := watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10")

	// a normal user waiting before: the watched one is held back, then its wait ends and it
	// takes the normal one (its own search runs again on its instance)
	n1 := dial(t, insts[1].wsURL(), from("203.0.113.1"))
	searches(t, n1, nil)
	searches(t, w, nil) // waiting, not matched: held back
	var m wire.MatchFoundData
	w.expectWithin(10*time.Second, wire.EvMatchFound, &m)
	n1.expectWithin(10*time.Second, wire.EvMatchFound, nil)
	if m.PartnerID != n1.id() {
		t.Fatalf("the watched user met %s, want %s", m.PartnerID, n1.id())
	}
	w.send(wire.EvLeave, nil)
	w.expect(wire.EvToken, nil) // a leave replaces the resume token
	n1.expect(wire.EvPartnerLeft, nil)

	// once its wait is over it waits where everyone looks: a normal newcomer takes it at once
	searches(t, w, map[string]any{"interests": []string{"chess"}})
	rdb := rdbFor(t, url)
	waitFor(t, 10*time.Second, "the watched user waits in the plain queue too", func() bool {
		return rdb.SIsMember(context.Background(), keys.InterestQueue(wire.ModeVideo, "chess"), string(w.id())).Val()
	})
	n3 := dial(t, insts[1].wsURL(), from("203.0.113.3"))
	n3.send(wire.EvFindMatch, map[string]any{"interests": []string{"chess"}})
	matchedWith(t, n3, w, "", []string{"chess"})
	for _, q := range []string{keys.WatchedQueue(wire.ModeVideo), keys.InterestQueue(wire.ModeVideo, "chess"), keys.Queue(wire.ModeVideo)} {
		if rdb.SIsMember(context.Background(), q, string(w.id())).Val() {
			t.Fatalf("the matched watched user is still in %s", q)
		}
	}
}

// The level is the server's: a client cannot read it or set it. A forged find_match field is
// ignored (the decoder knows only find_match's own fields), and a watched user's waiting says
// exactly what anyone's does.
func TestWatchCannotBeReadOrSetByTheClient(t *testing.T) {
	insts, _, _ := watchCluster(t, time.Hour)
	w := watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10")
	n := dial(t, insts[1].wsURL(), from("203.0.113.1"))
	normal := searches(t, n, nil)
	forged := searches(t, w, map[string]any{"watched": false, "trusted": true, "level": "normal", "watch": 0})
	if ev, err := n.nextEvent(0); err == nil {
		t.Fatalf("the normal user heard %s %s: the forged fields let the watched one through", ev.Event, ev.Data)
	}
	if !slices.Equal(jsonKeys(t, forged), jsonKeys(t, normal)) || forged.Message != normal.Message {
		t.Fatalf("a watched user's waiting %+v differs from a normal one's %+v", forged, normal)
	}
}

func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

// No double booking: watched users (waiting in the watched queue and, past the wait, in their
// usual queues too) and normal users search at once on two instances; everyone is matched
// exactly once, with one partner who has it as its partner, and leaves every queue it was in.
func TestWatchedNoDoubleBooking(t *testing.T) {
	for _, wait := range []time.Duration{0, 200 * time.Millisecond} {
		t.Run("WATCH_WAIT="+wait.String(), func(t *testing.T) {
			insts, keys, url := watchCluster(t, wait)
			seed := watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10") // its address is watched now
			clients := []*wsClient{seed}
			for i := range 6 { // 7 watched users (one address), on both instances
				clients = append(clients, dial(t, insts[i%2].wsURL(), from("192.0.2.10")))
			}
			for i := range 9 { // 9 normal users
				clients = append(clients, dial(t, insts[i%2].wsURL(), from("203.0.113."+string(rune('1'+i)))))
			}
			checkPairing(t, clients, findAllAtOnce(t, clients))
			// and nobody matched is left in a queue, where a later search would have to drop it
			rdb := rdbFor(t, url)
			for _, q := range []string{keys.WatchedQueue(wire.ModeVideo), keys.Queue(wire.ModeVideo)} {
				if left := rdb.SMembers(context.Background(), q).Val(); len(left) > 0 {
					t.Errorf("%s still holds %v, all of them matched", q, left)
				}
			}
		})
	}
}

// The console shows the level: for each report, whether the reported address is watched now,
// why and until when; for each ban, until when its address stays watched after it.
func TestConsoleShowsTheWatch(t *testing.T) {
	insts, _, _ := watchCluster(t, time.Hour)
	watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10")
	var reports struct {
		Reports []struct {
			ID      string `json:"id"`
			Watched struct {
				Now   bool      `json:"now"`
				Why   []string  `json:"why"`
				Until time.Time `json:"until"`
			} `json:"watched"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(consoleDo(t, insts[1], http.MethodGet, "/mod/api/reports", "", http.StatusOK), &reports); err != nil {
		t.Fatal(err)
	}
	if len(reports.Reports) != 1 {
		t.Fatalf("reports %+v", reports)
	}
	r := reports.Reports[0]
	ttl := insts[0].cfg.ReportTTL
	if w := r.Watched; !w.Now || !slices.Equal(w.Why, []string{"reports"}) || time.Until(w.Until) < ttl-time.Minute || time.Until(w.Until) > ttl {
		t.Fatalf("the report shows %+v, want watched for reports until the report ends (in %v)", w, ttl)
	}
	consoleDo(t, insts[1], http.MethodPost, "/mod/api/reports/"+r.ID+"/ban", `{"duration":"1h","reason":"insults"}`, http.StatusOK)
	bans := consoleGet[struct{ Bans []web.BanView }](t, insts[0], "/mod/api/bans")
	if len(bans.Bans) != 1 || !bans.Bans[0].WatchedUntil.Equal(bans.Bans[0].Until.Add(insts[0].cfg.WatchAfterBan)) {
		t.Fatalf("bans %+v, want the address watched until 30 days after the ban", bans.Bans)
	}
}

// The level ends with its reports: a moderator dismisses the report (on the other instance),
// and the next search of the once-watched user takes the normal user waiting at once.
func TestWatchEndsWhenItsReportIsDismissed(t *testing.T) {
	insts, _, _ := watchCluster(t, time.Hour)
	w := watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10")
	n := dial(t, insts[1].wsURL(), from("203.0.113.1"))
	searches(t, n, nil)
	searches(t, w, nil) // held back
	w.send(wire.EvLeave, nil)
	w.expect(wire.EvToken, nil)
	page := consoleGet[struct{ Reports []struct{ ID string } }](t, insts[1], "/mod/api/reports")
	if len(page.Reports) != 1 {
		t.Fatalf("reports %+v", page)
	}
	consoleDo(t, insts[1], http.MethodPost, "/mod/api/reports/"+page.Reports[0].ID+"/dismiss", "", http.StatusNoContent)
	w.send(wire.EvFindMatch, nil)
	matchedWith(t, w, n, "", []string{})
}

// In the watched queue, two watched users meet only as the usual queues would pair them: a
// shared interest or language at once, nothing shared only once both search for anyone (past
// the interest fallback). A match made at once with nothing shared would tell both that they
// are watched (review of issue 25 part 2).
func TestWatchedUsersMeetOnlyAsTheUsualQueuesWould(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) {
		c.MinConversation, c.WatchWait, c.InterestFallback = 0, time.Hour, time.Second
	}))
	w1 := watchedClient(t, insts[0], "192.0.2.10", "198.51.100.10")
	w2 := watchedClient(t, insts[1], "192.0.2.20", "198.51.100.20")
	w3 := watchedClient(t, insts[1], "192.0.2.30", "198.51.100.30")

	// a shared interest: at once, and match_found says so
	searches(t, w1, map[string]any{"interests": []string{"music"}, "languages": []string{"ja"}})
	w3.send(wire.EvFindMatch, map[string]any{"interests": []string{"music"}})
	matchedWith(t, w3, w1, "", []string{"music"})
	w3.send(wire.EvLeave, nil)
	w1.expect(wire.EvPartnerLeft, nil)

	// nothing shared: the newcomer waits (it is not paired at once) ...
	searches(t, w2, map[string]any{"interests": []string{"chess"}, "languages": []string{"de"}})
	searches(t, w1, map[string]any{"interests": []string{"music"}, "languages": []string{"ja"}})
	// ... until both search for anyone, as two users who are not watched would
	var m wire.MatchFoundData
	w1.expectWithin(10*time.Second, wire.EvMatchFound, &m)
	w2.expectWithin(10*time.Second, wire.EvMatchFound, nil)
	if m.PartnerID != w2.id() || m.Language != "" || len(m.CommonInterests) != 0 {
		t.Fatalf("match_found %+v, want %s with nothing shared", m, w2.id())
	}
}
