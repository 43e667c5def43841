package main

import (
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"

	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/redistest"
)

// crashBound is the documented upper bound for telling partners of a crashed instance's users.
const crashBound = 15 * time.Second

func TestInstanceCrash(t *testing.T) {
	rs := redistest.Start(t)
	env := processEnv(rs.URL())
	a, b, c := startProc(t, env), startProc(t, env), startProc(t, env)

	x1, y1 := dial(t, a.wsURL(), nil), dial(t, b.wsURL(), nil)
	pair(t, x1, y1)
	x2, z2 := dial(t, a.wsURL(), nil), dial(t, c.wsURL(), nil)
	pair(t, x2, z2)
	ghost := dial(t, a.wsURL(), nil) // waiting on the instance that will die
	ghost.send(wire.EvFindMatch, nil)
	ghost.expect(wire.EvWaiting, nil)

	a.signal(syscall.SIGKILL)
	a.waitExit(5 * time.Second)
	killed := time.Now()
	for _, survivor := range []*wsClient{y1, z2} {
		var pl wire.PartnerLeftData
		survivor.expectWithin(crashBound-time.Since(killed), wire.EvPartnerLeft, &pl)
		if pl.Reason != wire.ReasonDisconnected {
			t.Fatalf("partner_left %+v, want reason disconnected", pl)
		}
	}
	t.Logf("partners told %v after the crash (bound %v)", time.Since(killed).Round(100*time.Millisecond), crashBound)

	// nothing of the dead instance's users outlives its TTL
	rdb := rdbFor(t, rs.URL())
	prefix := envValue(env, "KEY_PREFIX")
	for _, dead := range []*wsClient{x1, x2, ghost} {
		if ttl := rdb.TTL(t.Context(), store.NewKeys(prefix).User(dead.id())).Val(); ttl <= 0 || ttl > 10*time.Minute {
			t.Fatalf("user hash of %s on the dead instance has TTL %v, want (0, MATCH_TTL]", dead.id(), ttl)
		}
	}

	// the dead instance's waiting user is never matched: the next searcher waits instead,
	// and is then matched with a live user
	n1 := dial(t, b.wsURL(), nil)
	n1.send(wire.EvFindMatch, nil)
	n1.expect(wire.EvWaiting, nil)
	n2 := dial(t, c.wsURL(), nil)
	n2.send(wire.EvFindMatch, nil)
	var m wire.MatchFoundData
	n2.expect(wire.EvMatchFound, &m)
	if m.PartnerID != n1.id() {
		t.Fatalf("matched with %s, want the live waiting user %s (the ghost is %s)", m.PartnerID, n1.id(), ghost.id())
	}
	// the survivors can search again and find each other
	y1.send(wire.EvFindMatch, nil)
	y1.expect(wire.EvWaiting, nil)
	z2.send(wire.EvFindMatch, nil)
	z2.expect(wire.EvMatchFound, &m)
	if m.PartnerID != y1.id() {
		t.Fatalf("survivor matched with %s", m.PartnerID)
	}
}

func TestRollingRestart(t *testing.T) {
	rs := redistest.Start(t)
	const grace, shutdown = 3 * time.Second, 5 * time.Second
	env := processEnv(rs.URL(), "RESUME_GRACE="+grace.String(), "SHUTDOWN_TIMEOUT="+shutdown.String())
	a, b := startProc(t, env), startProc(t, env)

	x, y := dial(t, a.wsURL(), nil), dial(t, b.wsURL(), nil) // a pair across instances
	mxy, _ := pair(t, x, y)
	p, q := dial(t, a.wsURL(), nil), dial(t, a.wsURL(), nil) // a pair both on the restarting instance
	mpq, _ := pair(t, p, q)
	w, v := dial(t, a.wsURL(), nil), dial(t, b.wsURL(), nil) // w will never come back
	pair(t, w, v)

	a.signal(syscall.SIGTERM)
	terminated := time.Now()
	for _, c := range []*wsClient{x, p, q, w} {
		ev, err := c.nextEvent(shutdown)
		if err != nil || ev.Event != "close" || string(ev.Data) != fmt.Sprint(websocket.CloseServiceRestart) {
			t.Fatalf("client on the restarting instance got %v %v, want close 1012", ev, err)
		}
	}
	if code := a.waitExit(shutdown + 2*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// they come back through the load balancer, i.e. the other instance, and resume
	resume := func(old *wsClient, m wire.MatchFoundData, partner *wsClient) *wsClient {
		r := dial(t, b.wsURL()+"?resume="+old.hello.ResumeToken, nil)
		if !r.hello.Resumed || r.id() != old.id() || r.hello.Match == nil || r.hello.Match.PartnerID != partner.id() || r.hello.Match.MatchID != m.MatchID {
			t.Fatalf("resume of %s: %+v", old.id(), r.hello)
		}
		return r
	}
	x2 := resume(x, mxy, y)
	p2 := resume(p, mpq, q)
	q2 := resume(q, mpq, p)

	checkNextIsMarker(t, []*wsClient{x2, p2}, []*wsClient{y, q2})

	// w's partner is told once w's grace period is over, not before (its instance is gone, so
	// v's instance decides from the deadline w's instance left in Redis)
	var pl wire.PartnerLeftData
	v.expectWithin(grace+crashBound, wire.EvPartnerLeft, &pl)
	if held := time.Since(terminated); held < grace || pl.From != w.id() || pl.Reason != wire.ReasonDisconnected {
		t.Fatalf("partner_left %+v after %v, want from %s, reason disconnected, after the %v grace", pl, held, w.id(), grace)
	}
	late := dial(t, b.wsURL()+"?resume="+w.hello.ResumeToken, nil)
	if late.hello.Resumed || late.id() == w.id() {
		t.Fatalf("a resume after the grace period must get a fresh identity: %+v", late.hello)
	}

	// Proving a negative: past the grace period and a few sweeps, none of the resumed
	// users' partners was told anything, and the pairs still talk.
	time.Sleep(time.Until(terminated.Add(grace + 3*time.Second)))
	checkNextIsMarker(t, []*wsClient{x2, p2}, []*wsClient{y, q2})
}

func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	env := processEnv(rs.URL())
	a, b := startProc(t, env), startProc(t, env)
	x, y := dial(t, a.wsURL(), nil), dial(t, a.wsURL(), nil)
	pair(t, x, y)
	goroutines := func(p *proc) float64 { return metricValue(p.metrics(), "go_goroutines", nil) }
	baseline := goroutines(a)

	rs.Stop()
	waitFor(t, 10*time.Second, "readiness down", func() bool { return a.notReady() && b.notReady() })
	// a pair on one instance keeps talking
	x.send(wire.EvChat, map[string]any{"text": "still here without Redis"})
	var chat wire.ChatRequest
	y.expect(wire.EvChat, &chat)
	// matchmaking says it is unavailable, and the connection stays usable
	z := dial(t, b.wsURL(), nil)
	z.send(wire.EvFindMatch, nil)
	z.expectError(wire.ErrUnavailable)
	z.send(wire.EvFindMatch, map[string]any{"mode": "nope"})
	z.expectError(wire.ErrBadRequest)

	rs.Restart()
	waitFor(t, 15*time.Second, "readiness back", func() bool { return a.ready() && b.ready() })
	// matching and cross-instance delivery work again, without a restart of the instances
	z.send(wire.EvFindMatch, nil)
	z.expect(wire.EvWaiting, nil)
	n := dial(t, a.wsURL(), nil)
	n.send(wire.EvFindMatch, nil)
	var m wire.MatchFoundData
	n.expect(wire.EvMatchFound, &m)
	if m.PartnerID != z.id() {
		t.Fatalf("matched with %s, want %s", m.PartnerID, z.id())
	}
	z.expect(wire.EvMatchFound, nil)
	checkNextIsMarker(t, []*wsClient{n}, []*wsClient{z})

	// no goroutines piled up: with the extra clients gone, the count returns to its baseline
	n.closeClean()
	z.closeClean()
	waitFor(t, 10*time.Second, "goroutines back to baseline", func() bool { return goroutines(a) <= baseline })
}

func TestSlowClientAloneIsDropped(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url))

	// the slow client never reads, and its socket buffer is small
	slowConn, err := dialSlowReader(inst.wsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer slowConn.Close()
	if _, _, err := slowConn.ReadMessage(); err != nil { // hello
		t.Fatal(err)
	}
	if err := slowConn.WriteJSON(map[string]any{"event": wire.EvFindMatch, "data": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := slowConn.ReadMessage(); err != nil || !strings.Contains(string(msg), wire.EvWaiting) {
		t.Fatalf("slow client: %s %v, want waiting", msg, err) // from here on it never reads
	}
	flooder := dial(t, inst.wsURL(), nil)
	flooder.send(wire.EvFindMatch, nil)
	flooder.expect(wire.EvMatchFound, nil)

	g, h := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	pair(t, g, h)

	// Flood in batches of 50 (fewer than the send queue holds, so the not_matched answers to
	// the chats still in flight after the drop cannot overflow the flooder's own queue).
	big := strings.Repeat("x", wire.MaxChatLen)
	dropped := false
	for i := 0; i < 20000 && !dropped; i++ {
		flooder.send(wire.EvChat, map[string]any{"text": big})
		if i%50 == 0 {
			// the other pair's relay keeps working while the slow client is stuck
			g.send(wire.EvChat, map[string]any{"text": fmt.Sprint("ping ", i)})
			var c wire.ChatRequest
			h.expect(wire.EvChat, &c)
			if c.Text != fmt.Sprint("ping ", i) {
				t.Fatalf("got %q", c.Text)
			}
		}
		select {
		case ev := <-flooder.events:
			if ev.Event != wire.EvPartnerLeft {
				t.Fatalf("flooder got %s %s", ev.Event, ev.Data)
			}
			dropped = true
		default:
		}
	}
	if !dropped {
		flooder.expect(wire.EvPartnerLeft, nil)
	}
	// the slow client alone was disconnected: the others still talk
	checkNextIsMarker(t, []*wsClient{g}, []*wsClient{h})
	// chats the flooder sent after the drop were refused as not_matched; it can search again
	flooder.send(wire.EvFindMatch, nil)
	for {
		ev, err := flooder.nextEvent(5 * time.Second)
		if err != nil {
			t.Fatalf("flooder: %v", err)
		}
		if ev.Event == wire.EvWaiting {
			break
		}
		if ev.Event != wire.EvError || !strings.Contains(string(ev.Data), wire.ErrNotMatched) {
			t.Fatalf("flooder got %s %s", ev.Event, ev.Data)
		}
	}
}

func TestAbuseLimits(t *testing.T) {
	_, url := startMiniredis(t)
	t.Run("a sustained flood is refused, then closed with 1008", func(t *testing.T) {
		inst := startInstance(t, testConfig(t, url, func(c *Config) { c.RateLimit, c.RateBurst, c.RateStrike = 5, 10, 20 }))
		c := dial(t, inst.wsURL(), nil)
		for range 100 {
			// the server may close the socket (1008) before the flood is out: stop writing then
			if c.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"typing","data":{"typing":true}}`)) != nil {
				break
			}
		}
		sawLimited := false
		for {
			ev, err := c.nextEvent(5 * time.Second)
			if err != nil {
				t.Fatalf("no close after the flood: %v", err)
			}
			if ev.Event == wire.EvError && strings.Contains(string(ev.Data), wire.ErrRateLimited) {
				sawLimited = true
			}
			if ev.Event == "close" {
				if string(ev.Data) != fmt.Sprint(websocket.ClosePolicyViolation) || !sawLimited {
					t.Fatalf("closed with %s after rate_limited=%v", ev.Data, sawLimited)
				}
				break
			}
		}
	})
	t.Run("per-IP cap, with forwarded addresses trusted only from proxies", func(t *testing.T) {
		inst := startInstance(t, testConfig(t, url, func(c *Config) {
			c.MaxConnsPerIP = 2
			c.TrustedProxies = mustPrefixes(t, "127.0.0.1/32")
		}))
		untrusting := startInstance(t, testConfig(t, url, func(c *Config) { c.MaxConnsPerIP = 2 }))
		xff := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
		dial(t, inst.wsURL(), xff("203.0.113.7"))
		dial(t, inst.wsURL(), xff("203.0.113.7"))
		if _, err := tryDial(t, inst.wsURL(), xff("203.0.113.7")); err == nil {
			t.Fatal("third connection from one forwarded address was accepted")
		}
		dial(t, inst.wsURL(), xff("203.0.113.8")) // another user behind the same proxy
		// without trust, X-Forwarded-For is ignored: the peer address counts
		dial(t, untrusting.wsURL(), xff("198.51.100.1"))
		dial(t, untrusting.wsURL(), xff("198.51.100.2"))
		if _, err := tryDial(t, untrusting.wsURL(), xff("198.51.100.3")); err == nil {
			t.Fatal("a spoofed X-Forwarded-For escaped the cap")
		}
	})
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	rs := redistest.Start(t)
	// with Redis gone and long timeouts, a graceful shutdown with matched users is slow...
	p := startProc(t, processEnv(rs.URL(), "REDIS_TIMEOUT=20s", "SHUTDOWN_TIMEOUT=60s"))
	a, b := dial(t, p.wsURL(), nil), dial(t, p.wsURL(), nil)
	pair(t, a, b)
	rs.Stop()
	p.signal(syscall.SIGTERM)
	for _, c := range []*wsClient{a, b} {
		ev, err := c.nextEvent(5 * time.Second)
		if err != nil || ev.Event != "close" {
			t.Fatalf("got %v %v, want the 1012 close", ev, err)
		}
	}
	select {
	case <-p.exited:
		t.Fatal("the graceful shutdown did not wait for its cleanup")
	default:
	}
	// ...and the operator's second signal ends it at once
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(3 * time.Second); code != 1 {
		t.Fatalf("exit code %d after the second signal, want 1", code)
	}
}

func TestLongCallKeepsItsKeys(t *testing.T) {
	mr, url := startMiniredis(t)
	const ttl = 1500 * time.Millisecond
	cfg := testConfig(t, url, func(c *Config) { c.MatchTTL = ttl })
	inst := startInstance(t, cfg)
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	m, _ := pair(t, a, b)
	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	// A conversation several TTLs long: miniredis's clock is moved by hand, a third of the
	// TTL at a time, each step after the instance's refresh loop (every TTL/3) has run.
	refreshes := func() float64 {
		return metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_redis_duration_seconds", map[string]string{"op": "refresh"})
	}
	for range 9 {
		n := refreshes()
		waitFor(t, 5*time.Second, "a refresh", func() bool { return refreshes() > n })
		for _, k := range []string{keys.Match(m.MatchID), keys.User(a.id()), keys.User(b.id())} {
			if got := rdb.TTL(t.Context(), k).Val(); got <= 0 {
				t.Fatalf("%s has TTL %v during the call", k, got)
			}
		}
		mr.FastForward(ttl / 3)
	}
	checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b})
}
