package main

import (
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestUserCreation(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url))
	seen := map[wire.ClientID]bool{}
	for range 20 {
		c := dial(t, inst.wsURL(), nil)
		h := c.hello
		if len(h.ID) != 26 || !wire.ValidIDText(string(h.ID)) {
			t.Fatalf("id %q: want 26 random base32 characters", h.ID)
		}
		if seen[h.ID] {
			t.Fatalf("duplicate id %q", h.ID)
		}
		seen[h.ID] = true
		if !strings.HasPrefix(h.ResumeToken, string(h.ID)+".") || len(h.ResumeToken) < 60 {
			t.Fatalf("resume token %q: want <id>.<secret>", h.ResumeToken)
		}
		if h.Resumed || h.Match != nil || h.Online < 1 || h.ICEServers == nil || h.TURN {
			t.Fatalf("hello %+v: want resumed=false, no match, online>=1, ice_servers [], turn false (no TURN here)", h)
		}
	}
}

func TestRoomCreation(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	ma, _ := pair(t, a, b)

	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	m, err := rdb.HGetAll(context.Background(), keys.Match(ma.MatchID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if m["a"] != string(b.id()) || m["b"] != string(a.id()) || m["mode"] != "video" || m["created"] == "" {
		t.Fatalf("match hash %v: want a=initiator %s, b=%s, mode video, created", m, b.id(), a.id())
	}
	ttl := rdb.TTL(context.Background(), keys.Match(ma.MatchID)).Val()
	if ttl <= 0 || ttl > cfg.MatchTTL {
		t.Fatalf("match TTL %v, want (0, %v]", ttl, cfg.MatchTTL)
	}
}

func TestAddUserToRoom(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)

	a.send(wire.EvFindMatch, map[string]any{"interests": []string{" Music ", "CATS", "music"}, "mode": "text"})
	var w wire.WaitingData
	a.expect(wire.EvWaiting, &w)
	if w.Mode != wire.ModeText || strings.Join(w.Interests, ",") != "music,cats" || w.Message == "" {
		t.Fatalf("waiting %+v: want mode text and normalised, de-duplicated interests", w)
	}
	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	ctx := context.Background()
	for _, q := range []string{keys.InterestQueue(wire.ModeText, "music"), keys.InterestQueue(wire.ModeText, "cats")} {
		if !rdb.SIsMember(ctx, q, string(a.id())).Val() {
			t.Fatalf("waiting user not in %s", q)
		}
	}
	if rdb.SIsMember(ctx, keys.Queue(wire.ModeText), string(a.id())).Val() {
		t.Fatal("a user with interests must not be in the plain queue before the fallback")
	}

	b.send(wire.EvFindMatch, map[string]any{"interests": []string{"cats", "dogs"}, "mode": "text"})
	var ma, mb wire.MatchFoundData
	b.expect(wire.EvMatchFound, &mb)
	a.expect(wire.EvMatchFound, &ma)
	if strings.Join(mb.CommonInterests, ",") != "cats" || strings.Join(ma.CommonInterests, ",") != "cats" || ma.Mode != wire.ModeText {
		t.Fatalf("match_found %+v / %+v: want common [cats], mode text", ma, mb)
	}
	for _, u := range []struct{ self, partner *wsClient }{{a, b}, {b, a}} {
		h := rdb.HGetAll(ctx, keys.User(u.self.id())).Val()
		if h["state"] != "matched" || h["match"] != string(ma.MatchID) || h["partner"] != string(u.partner.id()) || h["instance"] != string(cfg.InstanceID) {
			t.Fatalf("user hash of %s: %v", u.self.id(), h)
		}
	}
	for _, q := range []string{keys.InterestQueue(wire.ModeText, "music"), keys.InterestQueue(wire.ModeText, "cats"), keys.InterestQueue(wire.ModeText, "dogs"), keys.Queue(wire.ModeText)} {
		if n := rdb.SCard(ctx, q).Val(); n != 0 {
			t.Fatalf("%s has %d members after the match, want 0", q, n)
		}
	}
}

func TestRemoveUserFromRoom(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	ma, _ := pair(t, a, b)

	a.send(wire.EvLeave, map[string]any{"target_id": b.id()})
	a.expect(wire.EvToken, nil) // a Stop replaces the resume token
	var pl wire.PartnerLeftData
	b.expect(wire.EvPartnerLeft, &pl)
	if pl.From != a.id() || pl.Reason != wire.ReasonLeft {
		t.Fatalf("partner_left %+v, want from %s reason left", pl, a.id())
	}
	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	ctx := context.Background()
	if rdb.Exists(ctx, keys.Match(ma.MatchID)).Val() != 0 {
		t.Fatal("match hash still exists after leave")
	}
	for _, c := range []*wsClient{a, b} {
		h := rdb.HGetAll(ctx, keys.User(c.id())).Val()
		if h["state"] != "idle" || h["match"] != "" || h["partner"] != "" {
			t.Fatalf("user hash of %s after leave: %v", c.id(), h)
		}
	}
	// a leave while idle is harmless, and relaying now needs a new match
	a.send(wire.EvLeave, nil)
	a.expect(wire.EvToken, nil)
	a.send(wire.EvChat, map[string]any{"text": "still there?"})
	a.expectError(wire.ErrNotMatched)
}

func TestWebSocketUpgrade(t *testing.T) {
	_, url := startMiniredis(t)
	open := startInstance(t, testConfig(t, url))
	strict := startInstance(t, testConfig(t, url, func(c *Config) { c.AllowedOrigins = []string{"https://app.example"} }))
	host := strings.TrimPrefix(open.srv.URL, "http://")
	cases := []struct {
		name   string
		inst   *testInstance
		origin string
		ok     bool
	}{
		{"no Origin (not a browser)", open, "", true},
		{"same origin", open, "http://" + host, true},
		{"foreign origin", open, "https://evil.example", false},
		{"foreign origin with our host as a prefix", open, "http://" + host + ".evil.example", false},
		{"allow-listed origin", strict, "https://app.example", true},
		{"origin not on the allow-list", strict, "http://" + strings.TrimPrefix(strict.srv.URL, "http://"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			conn, resp, err := websocket.DefaultDialer.Dial(tc.inst.wsURL(), h)
			if conn != nil {
				conn.Close()
			}
			if tc.ok && err != nil {
				t.Fatalf("upgrade refused: %v", err)
			}
			if !tc.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
				t.Fatalf("want 403, got err=%v resp=%v", err, resp)
			}
		})
	}
	resp, err := http.Get(open.srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain GET /ws: %d, want 400", resp.StatusCode)
	}
}

func TestHandleMessage(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url))

	bad := []struct {
		name, frame, code string
	}{
		{"malformed JSON", `{"event":`, wire.ErrBadJSON},
		{"not an object", `[1,2,3]`, wire.ErrBadJSON},
		{"invalid UTF-8", "{\"event\":\"chat\",\"data\":{\"text\":\"\xff\xfe\"}}", wire.ErrBadJSON},
		{"unknown event", `{"event":"format_disk","data":{}}`, wire.ErrUnknownEvent},
		{"missing event", `{"data":{}}`, wire.ErrUnknownEvent},
		{"interests of the wrong type", `{"event":"find_match","data":{"interests":"music"}}`, wire.ErrBadRequest},
		{"data of the wrong type", `{"event":"find_match","data":"video"}`, wire.ErrBadRequest},
		{"too many interests", `{"event":"find_match","data":{"interests":["a","b","c","d","e","f","g","h","i","j","k"]}}`, wire.ErrBadRequest},
		{"too long an interest", `{"event":"find_match","data":{"interests":["` + strings.Repeat("x", 33) + `"]}}`, wire.ErrBadRequest},
		{"empty interest", `{"event":"find_match","data":{"interests":["  "]}}`, wire.ErrBadRequest},
		{"control character in interest", `{"event":"find_match","data":{"interests":["a\u0007b"]}}`, wire.ErrBadRequest},
		{"unknown mode", `{"event":"find_match","data":{"mode":"audio"}}`, wire.ErrBadRequest},
		{"chat while unmatched", `{"event":"chat","data":{"text":"hi"}}`, wire.ErrNotMatched},
		{"signal while unmatched", `{"event":"signal","data":{"type":"offer","payload":{"sdp":"x"}}}`, wire.ErrNotMatched},
		{"typing while unmatched", `{"event":"typing","data":{"typing":true}}`, wire.ErrNotMatched},
		{"signal without type", `{"event":"signal","data":{"payload":{}}}`, wire.ErrBadRequest},
		{"signal without payload", `{"event":"signal","data":{"type":"offer"}}`, wire.ErrBadRequest},
		{"typing of the wrong type", `{"event":"typing","data":{"typing":"yes"}}`, wire.ErrBadRequest},
		{"media_state while unmatched", `{"event":"media_state","data":{"camera":false,"mic":true}}`, wire.ErrNotMatched},
		{"media_state of the wrong type", `{"event":"media_state","data":{"camera":"off","mic":true}}`, wire.ErrBadRequest},
		{"media_state without mic", `{"event":"media_state","data":{"camera":false}}`, wire.ErrBadRequest},
		{"media_state with a null camera", `{"event":"media_state","data":{"camera":null,"mic":false}}`, wire.ErrBadRequest},
		{"media_state that is not an object", `{"event":"media_state","data":[true,true]}`, wire.ErrBadRequest},
		{"chat of the wrong type", `{"event":"chat","data":{"text":42}}`, wire.ErrBadRequest},
		{"leave of the wrong type", `{"event":"leave","data":[1]}`, wire.ErrBadRequest},
		{"rtc_stats with an unknown outcome", `{"event":"rtc_stats","data":{"outcome":"great","setup_ms":10}}`, wire.ErrBadRequest},
		{"rtc_stats with a negative setup time", `{"event":"rtc_stats","data":{"outcome":"connected","setup_ms":-1,"candidate":"host"}}`, wire.ErrBadRequest},
		{"rtc_stats with a setup time over ten minutes", `{"event":"rtc_stats","data":{"outcome":"failed","setup_ms":600001}}`, wire.ErrBadRequest},
		{"rtc_stats with an unknown candidate type", `{"event":"rtc_stats","data":{"outcome":"connected","setup_ms":5,"candidate":"carrier-pigeon"}}`, wire.ErrBadRequest},
		{"rtc_stats of the wrong type", `{"event":"rtc_stats","data":{"outcome":"connected","setup_ms":"fast"}}`, wire.ErrBadRequest},
	}
	// stillUsable: the connection answers the next message as usual
	stillUsable := func(c *wsClient) {
		c.t.Helper()
		c.send(wire.EvTyping, map[string]any{"typing": false})
		c.expectError(wire.ErrNotMatched)
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, inst.wsURL(), nil)
			c.sendRaw(tc.frame)
			c.expectError(tc.code)
			stillUsable(c)
		})
	}
	t.Run("binary frame", func(t *testing.T) {
		c := dial(t, inst.wsURL(), nil)
		if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"event":"leave"}`)); err != nil {
			t.Fatal(err)
		}
		c.expectError(wire.ErrBadRequest)
		stillUsable(c)
	})

	t.Run("after all of that bad input, every event works", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		for _, tc := range bad { // one connection takes every bad frame in a row
			a.sendRaw(tc.frame)
			a.expectError(tc.code)
		}
		_, mb := pair(t, a, b)
		if !mb.Initiator {
			t.Fatal("b should initiate")
		}
		b.send(wire.EvSignal, map[string]any{"type": "offer", "payload": map[string]any{"sdp": "v=0 offer"}, "target_id": "somebody-else"})
		var sig wire.SignalData
		a.expect(wire.EvSignal, &sig)
		if sig.SenderID != b.id() || sig.Type != "offer" || string(sig.Payload) != `{"sdp":"v=0 offer"}` {
			t.Fatalf("relayed signal %+v", sig)
		}
		a.send(wire.EvSignal, map[string]any{"type": "candidate", "payload": nil})
		b.expect(wire.EvSignal, &sig)
		if sig.SenderID != a.id() || sig.Type != "candidate" || string(sig.Payload) != "null" {
			t.Fatalf("relayed candidate %+v", sig)
		}
		checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b}) // nothing went back to the sender

		a.send(wire.EvChat, map[string]any{"text": ""})
		a.expectError(wire.ErrBadRequest)
		a.send(wire.EvChat, map[string]any{"text": "   "})
		a.expectError(wire.ErrBadRequest)
		a.send(wire.EvChat, map[string]any{"text": strings.Repeat("é", wire.MaxChatLen+1)})
		a.expectError(wire.ErrBadRequest)
		a.send(wire.EvChat, map[string]any{"text": strings.Repeat("é", wire.MaxChatLen)})
		var chat wire.ChatRequest
		b.expect(wire.EvChat, &chat)
		if chat.Text != strings.Repeat("é", wire.MaxChatLen) {
			t.Fatal("a 2000-character chat did not arrive whole")
		}

		a.send(wire.EvTyping, map[string]any{"typing": true})
		var ty wire.TypingData
		b.expect(wire.EvTyping, &ty)
		if !ty.Typing {
			t.Fatal("typing not relayed")
		}
		// the camera and microphone state, relayed as a frame of its own making (an unknown
		// field, or a target_id, does not travel)
		a.send(wire.EvMedia, map[string]any{"camera": false, "mic": true, "target_id": "somebody-else", "extra": strings.Repeat("y", 1000)})
		b.send(wire.EvMedia, map[string]any{"camera": true, "mic": false})
		for _, c := range []struct {
			to   *wsClient
			want string
		}{{b, `{"camera":false,"mic":true}`}, {a, `{"camera":true,"mic":false}`}} {
			ev, err := c.to.nextEvent(5 * time.Second)
			if err != nil || ev.Event != wire.EvMedia || string(ev.Data) != c.want {
				t.Fatalf("%s got %v %s (%v), want media_state %s", c.to.id(), ev.Event, ev.Data, err, c.want)
			}
		}
		checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b}) // and nothing went back to either sender
		// over the relay limit (only a matched connection may send a message this large at all:
		// an unmatched one is held to a few KiB, issue 21)
		a.sendRaw(`{"event":"media_state","data":{"camera":true,"mic":true,"pad":"` + strings.Repeat("x", wire.MaxRelayBytes) + `"}}`)
		a.expectError(wire.ErrBadRequest)
		checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b}) // nothing reached b
		b.send(wire.EvLeave, map[string]any{})
		var pl wire.PartnerLeftData
		a.expect(wire.EvPartnerLeft, &pl)
		if pl.Reason != wire.ReasonLeft {
			t.Fatalf("reason %q", pl.Reason)
		}
	})

	t.Run("frame over the read limit closes that socket with 1009", func(t *testing.T) {
		c, other := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		// the server may close before the client has written it all: that write may fail
		_ = c.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"chat","data":{"text":"`+strings.Repeat("x", int(inst.cfg.ReadLimit))+`"}}`))
		ev, err := c.nextEvent(5 * time.Second)
		if err != nil || ev.Event != "close" || string(ev.Data) != fmt.Sprint(websocket.CloseMessageTooBig) {
			t.Fatalf("got %v %v, want close 1009", ev, err)
		}
		stillUsable(other) // everyone else is unaffected, matchmaking included
		other.send(wire.EvFindMatch, nil)
		other.expect(wire.EvWaiting, nil)
	})
}

func TestHandleDisconnection(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url, func(c *Config) { c.ResumeGrace = 300 * time.Millisecond })
	inst := startInstance(t, cfg)
	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	ctx := context.Background()

	t.Run("a closed tab ends the match at once", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		ma, _ := pair(t, a, b)
		a.closeClean()
		var pl wire.PartnerLeftData
		b.expect(wire.EvPartnerLeft, &pl)
		if pl.From != a.id() || pl.Reason != wire.ReasonDisconnected {
			t.Fatalf("partner_left %+v", pl)
		}
		if rdb.Exists(ctx, keys.User(a.id()), keys.Match(ma.MatchID)).Val() != 0 {
			t.Fatal("user or match hash left behind")
		}
	})
	t.Run("a dropped socket is held for the grace period, then ends", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		ma, _ := pair(t, a, b)
		dropped := time.Now()
		a.conn.UnderlyingConn().Close() // no close frame: a network drop
		var pl wire.PartnerLeftData
		b.expect(wire.EvPartnerLeft, &pl)
		if held := time.Since(dropped); held < cfg.ResumeGrace {
			t.Fatalf("partner_left after %v, before the %v grace period", held, cfg.ResumeGrace)
		}
		if pl.Reason != wire.ReasonDisconnected {
			t.Fatalf("reason %q", pl.Reason)
		}
		if rdb.Exists(ctx, keys.User(a.id()), keys.Match(ma.MatchID)).Val() != 0 {
			t.Fatal("user or match hash left behind")
		}
		late := dial(t, inst.wsURL()+"?resume="+a.hello.ResumeToken, nil)
		if late.hello.Resumed || late.id() == a.id() {
			t.Fatalf("a resume after the grace period must get a fresh identity: %+v", late.hello)
		}
	})
	t.Run("a waiting user that leaves is out of every queue", func(t *testing.T) {
		c := dial(t, inst.wsURL(), nil)
		c.send(wire.EvFindMatch, map[string]any{"interests": []string{"chess"}})
		c.expect(wire.EvWaiting, nil)
		c.closeClean()
		waitFor(t, 5*time.Second, "queue cleanup", func() bool {
			return rdb.SCard(ctx, keys.InterestQueue(wire.ModeVideo, "chess")).Val() == 0 && rdb.Exists(ctx, keys.User(c.id())).Val() == 0
		})
	})
}

func TestMatchUsers(t *testing.T) {
	_, url := startMiniredis(t)
	// miniredis runs Lua slowly under -race, and CI machines are shared: generous timeouts
	inst := startInstance(t, testConfig(t, url, func(c *Config) { c.RedisTimeout = 30 * time.Second }))
	const n = 1000
	clients := dialMany(t, n, func(int) string { return inst.wsURL() })
	results := findAllAtOnce(t, clients)
	checkPairing(t, clients, results)
}

func TestBroadcastMessage(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url))
	var as, bs []*wsClient
	for range 3 {
		a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		pair(t, a, b)
		as, bs = append(as, a), append(bs, b)
	}
	as[0].send(wire.EvChat, map[string]any{"text": "only for my partner", "target_id": as[1].id()})
	var chat wire.ChatRequest
	bs[0].expect(wire.EvChat, &chat)
	if chat.Text != "only for my partner" {
		t.Fatalf("chat %q", chat.Text)
	}
	// Local delivery is synchronous: had the chat gone anywhere else, it would sit in that
	// client's queue ahead of this marker from its own partner.
	checkNextIsMarker(t, as, bs)
}

func TestLeaveChatSession(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url, func(c *Config) { c.RematchCooldown = 0 }) // the same two meet again below
	inst := startInstance(t, cfg)
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	first, _ := pair(t, a, b)

	// "next": find_match while matched leaves the match first
	a.send(wire.EvFindMatch, nil)
	var pl wire.PartnerLeftData
	b.expect(wire.EvPartnerLeft, &pl)
	if pl.Reason != wire.ReasonNext || pl.From != a.id() {
		t.Fatalf("partner_left %+v, want reason next", pl)
	}
	a.expect(wire.EvWaiting, nil)
	// the two meet again in a new match
	b.send(wire.EvFindMatch, nil)
	var again wire.MatchFoundData
	b.expect(wire.EvMatchFound, &again)
	a.expect(wire.EvMatchFound, nil)
	if again.MatchID == first.MatchID || again.PartnerID != a.id() {
		t.Fatalf("second match %+v", again)
	}
	// leave from a waiting state takes the user out of the queue
	b.send(wire.EvLeave, nil)
	a.expect(wire.EvPartnerLeft, nil)
	a.send(wire.EvFindMatch, nil)
	a.expect(wire.EvWaiting, nil)
	a.send(wire.EvLeave, nil)
	rdb := rdbFor(t, url)
	keys := store.NewKeys(cfg.KeyPrefix)
	waitFor(t, 5*time.Second, "empty queue", func() bool {
		return rdb.SCard(context.Background(), keys.Queue(wire.ModeVideo)).Val() == 0
	})
	for _, c := range []*wsClient{a, b} {
		if st := rdb.HGet(context.Background(), keys.User(c.id()), "state").Val(); st != "idle" {
			t.Fatalf("state of %s: %q", c.id(), st)
		}
	}
}

func TestCallStats(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, func(c *Config) { c.RematchCooldown = 0 }))
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	loner := dial(t, inst.wsURL(), nil)
	loner.send(wire.EvRTCStats, map[string]any{"outcome": "connected", "setup_ms": 900, "candidate": "relay"}) // outside a match: ignored
	pair(t, a, b)
	for range 3 { // once per match counts
		a.send(wire.EvRTCStats, map[string]any{"outcome": "connected", "setup_ms": 1500, "candidate": "host"})
	}
	b.send(wire.EvRTCStats, map[string]any{"outcome": "failed", "setup_ms": 15000})
	checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b}) // no error came back to anyone, and the reports are in
	loner.send(wire.EvTyping, map[string]any{"typing": true})
	loner.expectError(wire.ErrNotMatched) // its report got no answer before this one

	m := scrapeMetrics(t, inst.srv.URL+"/metrics")
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"outcome": "connected", "candidate": "host"}, 1},
		{map[string]string{"outcome": "failed", "candidate": "none"}, 1},
		{map[string]string{"candidate": "relay"}, 0},
	} {
		if got := metricValue(m, "gomegle_calls_total", c.labels); got != c.want {
			t.Errorf("calls_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if n := metricValue(m, "gomegle_call_setup_seconds", nil); n != 1 {
		t.Errorf("call_setup_seconds has %v observations, want 1 (the connected call)", n)
	}
	// a new match takes a new report
	a.send(wire.EvFindMatch, nil)
	b.expect(wire.EvPartnerLeft, nil)
	a.expect(wire.EvWaiting, nil)
	b.send(wire.EvFindMatch, nil)
	b.expect(wire.EvMatchFound, nil)
	a.expect(wire.EvMatchFound, nil)
	a.send(wire.EvRTCStats, map[string]any{"outcome": "connected", "setup_ms": 700, "candidate": "host"})
	checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b})
	if got := metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_calls_total", map[string]string{"outcome": "connected"}); got != 2 {
		t.Errorf("calls_total{connected} = %v after a second match, want 2", got)
	}
}
