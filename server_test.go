package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestUserCreation(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url))
	seen := map[ClientID]bool{}
	for range 20 {
		c := dial(t, inst.wsURL(), nil)
		h := c.hello
		if len(h.ID) != 26 || !validIDText(string(h.ID)) {
			t.Fatalf("id %q: want 26 random base32 characters", h.ID)
		}
		if seen[h.ID] {
			t.Fatalf("duplicate id %q", h.ID)
		}
		seen[h.ID] = true
		if !strings.HasPrefix(h.ResumeToken, string(h.ID)+".") || len(h.ResumeToken) < 60 {
			t.Fatalf("resume token %q: want <id>.<secret>", h.ResumeToken)
		}
		if h.Resumed || h.Match != nil || h.Online < 1 || h.ICEServers == nil {
			t.Fatalf("hello %+v: want resumed=false, no match, online>=1, ice_servers []", h)
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
	keys := Keys{prefix: cfg.KeyPrefix}
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

	a.send(EvFindMatch, map[string]any{"interests": []string{" Music ", "CATS", "music"}, "mode": "text"})
	var w WaitingData
	a.expect(EvWaiting, &w)
	if w.Mode != ModeText || strings.Join(w.Interests, ",") != "music,cats" || w.Message == "" {
		t.Fatalf("waiting %+v: want mode text and normalised, de-duplicated interests", w)
	}
	rdb := rdbFor(t, url)
	keys := Keys{prefix: cfg.KeyPrefix}
	ctx := context.Background()
	for _, q := range []string{keys.InterestQueue(ModeText, "music"), keys.InterestQueue(ModeText, "cats")} {
		if !rdb.SIsMember(ctx, q, string(a.id())).Val() {
			t.Fatalf("waiting user not in %s", q)
		}
	}
	if rdb.SIsMember(ctx, keys.Queue(ModeText), string(a.id())).Val() {
		t.Fatal("a user with interests must not be in the plain queue before the fallback")
	}

	b.send(EvFindMatch, map[string]any{"interests": []string{"cats", "dogs"}, "mode": "text"})
	var ma, mb MatchFoundData
	b.expect(EvMatchFound, &mb)
	a.expect(EvMatchFound, &ma)
	if strings.Join(mb.CommonInterests, ",") != "cats" || strings.Join(ma.CommonInterests, ",") != "cats" || ma.Mode != ModeText {
		t.Fatalf("match_found %+v / %+v: want common [cats], mode text", ma, mb)
	}
	for _, u := range []struct{ self, partner *wsClient }{{a, b}, {b, a}} {
		h := rdb.HGetAll(ctx, keys.User(u.self.id())).Val()
		if h["state"] != "matched" || h["match"] != string(ma.MatchID) || h["partner"] != string(u.partner.id()) || h["instance"] != string(cfg.InstanceID) {
			t.Fatalf("user hash of %s: %v", u.self.id(), h)
		}
	}
	for _, q := range []string{keys.InterestQueue(ModeText, "music"), keys.InterestQueue(ModeText, "cats"), keys.InterestQueue(ModeText, "dogs"), keys.Queue(ModeText)} {
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

	a.send(EvLeave, map[string]any{"target_id": b.id()})
	var pl PartnerLeftData
	b.expect(EvPartnerLeft, &pl)
	if pl.From != a.id() || pl.Reason != ReasonLeft {
		t.Fatalf("partner_left %+v, want from %s reason left", pl, a.id())
	}
	rdb := rdbFor(t, url)
	keys := Keys{prefix: cfg.KeyPrefix}
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
	a.send(EvLeave, nil)
	a.send(EvChat, map[string]any{"text": "still there?"})
	a.expectError(ErrNotMatched)
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
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)

	bad := []struct {
		name, frame, code string
	}{
		{"malformed JSON", `{"event":`, ErrBadJSON},
		{"not an object", `[1,2,3]`, ErrBadJSON},
		{"invalid UTF-8", "{\"event\":\"chat\",\"data\":{\"text\":\"\xff\xfe\"}}", ErrBadJSON},
		{"unknown event", `{"event":"format_disk","data":{}}`, ErrUnknownEvent},
		{"missing event", `{"data":{}}`, ErrUnknownEvent},
		{"interests of the wrong type", `{"event":"find_match","data":{"interests":"music"}}`, ErrBadRequest},
		{"data of the wrong type", `{"event":"find_match","data":"video"}`, ErrBadRequest},
		{"too many interests", `{"event":"find_match","data":{"interests":["a","b","c","d","e","f","g","h","i","j","k"]}}`, ErrBadRequest},
		{"too long an interest", `{"event":"find_match","data":{"interests":["` + strings.Repeat("x", 33) + `"]}}`, ErrBadRequest},
		{"empty interest", `{"event":"find_match","data":{"interests":["  "]}}`, ErrBadRequest},
		{"control character in interest", `{"event":"find_match","data":{"interests":["a\u0007b"]}}`, ErrBadRequest},
		{"unknown mode", `{"event":"find_match","data":{"mode":"audio"}}`, ErrBadRequest},
		{"chat while unmatched", `{"event":"chat","data":{"text":"hi"}}`, ErrNotMatched},
		{"signal while unmatched", `{"event":"signal","data":{"type":"offer","payload":{"sdp":"x"}}}`, ErrNotMatched},
		{"typing while unmatched", `{"event":"typing","data":{"typing":true}}`, ErrNotMatched},
		{"signal without type", `{"event":"signal","data":{"payload":{}}}`, ErrBadRequest},
		{"signal without payload", `{"event":"signal","data":{"type":"offer"}}`, ErrBadRequest},
		{"typing of the wrong type", `{"event":"typing","data":{"typing":"yes"}}`, ErrBadRequest},
		{"chat of the wrong type", `{"event":"chat","data":{"text":42}}`, ErrBadRequest},
		{"leave of the wrong type", `{"event":"leave","data":[1]}`, ErrBadRequest},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			a.sendRaw(tc.frame)
			a.expectError(tc.code)
		})
	}
	t.Run("binary frame", func(t *testing.T) {
		if err := a.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"event":"leave"}`)); err != nil {
			t.Fatal(err)
		}
		a.expectError(ErrBadRequest)
	})

	// the connection survived all of that: every event works
	_, mb := pair(t, a, b)
	if !mb.Initiator {
		t.Fatal("b should initiate")
	}
	b.send(EvSignal, map[string]any{"type": "offer", "payload": map[string]any{"sdp": "v=0 offer"}, "target_id": "somebody-else"})
	var sig SignalData
	a.expect(EvSignal, &sig)
	if sig.SenderID != b.id() || sig.Type != "offer" || string(sig.Payload) != `{"sdp":"v=0 offer"}` {
		t.Fatalf("relayed signal %+v", sig)
	}
	a.send(EvSignal, map[string]any{"type": "candidate", "payload": nil})
	a.expectNothing(0) // nothing back to the sender
	b.expect(EvSignal, &sig)
	if sig.SenderID != a.id() || sig.Type != "candidate" || string(sig.Payload) != "null" {
		t.Fatalf("relayed candidate %+v", sig)
	}
	t.Run("chat limits", func(t *testing.T) {
		a.send(EvChat, map[string]any{"text": ""})
		a.expectError(ErrBadRequest)
		a.send(EvChat, map[string]any{"text": "   "})
		a.expectError(ErrBadRequest)
		a.send(EvChat, map[string]any{"text": strings.Repeat("é", maxChatLen+1)})
		a.expectError(ErrBadRequest)
		a.send(EvChat, map[string]any{"text": strings.Repeat("é", maxChatLen)})
		var chat ChatData
		b.expect(EvChat, &chat)
		if chat.Text != strings.Repeat("é", maxChatLen) {
			t.Fatal("a 2000-character chat did not arrive whole")
		}
	})
	a.send(EvTyping, map[string]any{"typing": true})
	var ty TypingData
	b.expect(EvTyping, &ty)
	if !ty.Typing {
		t.Fatal("typing not relayed")
	}
	b.send(EvLeave, map[string]any{})
	var pl PartnerLeftData
	a.expect(EvPartnerLeft, &pl)
	if pl.Reason != ReasonLeft {
		t.Fatalf("reason %q", pl.Reason)
	}

	t.Run("frame over the read limit closes that socket with 1009", func(t *testing.T) {
		c := dial(t, inst.wsURL(), nil)
		c.sendRaw(`{"event":"chat","data":{"text":"` + strings.Repeat("x", int(inst.cfg.ReadLimit)) + `"}}`)
		ev, err := c.nextEvent(5 * time.Second)
		if err != nil || ev.Event != "close" || string(ev.Data) != fmt.Sprint(websocket.CloseMessageTooBig) {
			t.Fatalf("got %v %v, want close 1009", ev, err)
		}
		// everyone else is unaffected
		a.send(EvFindMatch, nil)
		a.expect(EvWaiting, nil)
	})
}

func TestHandleDisconnection(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url, func(c *Config) { c.ResumeGrace = 300 * time.Millisecond })
	inst := startInstance(t, cfg)
	rdb := rdbFor(t, url)
	keys := Keys{prefix: cfg.KeyPrefix}
	ctx := context.Background()

	t.Run("a closed tab ends the match at once", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
		ma, _ := pair(t, a, b)
		a.closeClean()
		var pl PartnerLeftData
		b.expect(EvPartnerLeft, &pl)
		if pl.From != a.id() || pl.Reason != ReasonDisconnected {
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
		var pl PartnerLeftData
		b.expect(EvPartnerLeft, &pl)
		if held := time.Since(dropped); held < cfg.ResumeGrace {
			t.Fatalf("partner_left after %v, before the %v grace period", held, cfg.ResumeGrace)
		}
		if pl.Reason != ReasonDisconnected {
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
		c.send(EvFindMatch, map[string]any{"interests": []string{"chess"}})
		c.expect(EvWaiting, nil)
		c.closeClean()
		waitFor(t, 5*time.Second, "queue cleanup", func() bool {
			return rdb.SCard(ctx, keys.InterestQueue(ModeVideo, "chess")).Val() == 0 && rdb.Exists(ctx, keys.User(c.id())).Val() == 0
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

// dialMany opens n clients, urlFor choosing each one's instance.
func dialMany(t *testing.T, n int, urlFor func(int) string) []*wsClient {
	t.Helper()
	clients := make([]*wsClient, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := tryDial(t, urlFor(i), nil)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("dial: %v", err)
	}
	return clients
}

// findAllAtOnce releases every find_match together and collects each client's match_found
// events (all of them, so a double booking shows).
func findAllAtOnce(t *testing.T, clients []*wsClient) [][]MatchFoundData {
	t.Helper()
	start := make(chan struct{})
	results := make([][]MatchFoundData, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c.send(EvFindMatch, map[string]any{})
			deadline := time.After(30 * time.Second)
			for {
				select {
				case ev, ok := <-c.events:
					if !ok {
						return
					}
					switch ev.Event {
					case EvMatchFound:
						var m MatchFoundData
						if err := json.Unmarshal(ev.Data, &m); err != nil {
							t.Errorf("match_found: %v", err)
						}
						results[i] = append(results[i], m)
					case EvWaiting:
					default:
						t.Errorf("client %d: unexpected %s %s", i, ev.Event, ev.Data)
					}
				case <-deadline:
					return
				}
				if len(results[i]) == 1 {
					// keep listening briefly is not needed: a second match_found would need a
					// second enqueue, and checkPairing's symmetry check catches double bookings
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// checkPairing: everyone matched exactly once, never with itself, pairs symmetric with one
// match id and exactly one initiator.
func checkPairing(t *testing.T, clients []*wsClient, results [][]MatchFoundData) {
	t.Helper()
	byID := map[ClientID]int{}
	for i, c := range clients {
		byID[c.id()] = i
	}
	lost := 0
	for i, r := range results {
		if len(r) == 0 {
			lost++
			continue
		}
		if len(r) > 1 {
			t.Fatalf("client %d matched %d times", i, len(r))
		}
		m := r[0]
		j, ok := byID[m.PartnerID]
		if !ok || j == i {
			t.Fatalf("client %d matched with %q (self or unknown)", i, m.PartnerID)
		}
		if len(results[j]) != 1 {
			t.Fatalf("client %d's partner %d was matched %d times", i, j, len(results[j]))
		}
		p := results[j][0]
		if p.PartnerID != clients[i].id() || p.MatchID != m.MatchID || p.Initiator == m.Initiator {
			t.Fatalf("asymmetric pair %d<->%d: %+v / %+v", i, j, m, p)
		}
	}
	if lost != len(clients)%2 {
		t.Fatalf("%d of %d clients never matched", lost, len(clients))
	}
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
	as[0].send(EvChat, map[string]any{"text": "only for my partner", "target_id": as[1].id()})
	var chat ChatData
	bs[0].expect(EvChat, &chat)
	if chat.Text != "only for my partner" {
		t.Fatalf("chat %q", chat.Text)
	}
	// Local delivery is synchronous: had the chat gone anywhere else, it would sit in that
	// client's queue ahead of this marker from its own partner.
	checkNextIsMarker(t, as, bs, 1)
	as[0].expectNothing(0)
}

// checkNextIsMarker sends a marker chat in every pair from index `from` on (both ways) and
// requires it to be the very next event each client sees.
func checkNextIsMarker(t *testing.T, as, bs []*wsClient, from int) {
	t.Helper()
	for i := from; i < len(as); i++ {
		for _, dir := range [][2]*wsClient{{as[i], bs[i]}, {bs[i], as[i]}} {
			marker := fmt.Sprintf("marker %d from %s", i, dir[0].id())
			dir[0].send(EvChat, map[string]any{"text": marker})
			var got ChatData
			dir[1].expect(EvChat, &got)
			if got.Text != marker {
				t.Fatalf("client %s got %q before its marker", dir[1].id(), got.Text)
			}
		}
	}
}

func TestLeaveChatSession(t *testing.T) {
	_, url := startMiniredis(t)
	cfg := testConfig(t, url)
	inst := startInstance(t, cfg)
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	first, _ := pair(t, a, b)

	// "next": find_match while matched leaves the match first
	a.send(EvFindMatch, nil)
	var pl PartnerLeftData
	b.expect(EvPartnerLeft, &pl)
	if pl.Reason != ReasonNext || pl.From != a.id() {
		t.Fatalf("partner_left %+v, want reason next", pl)
	}
	a.expect(EvWaiting, nil)
	// the two meet again in a new match
	b.send(EvFindMatch, nil)
	var again MatchFoundData
	b.expect(EvMatchFound, &again)
	a.expect(EvMatchFound, nil)
	if again.MatchID == first.MatchID || again.PartnerID != a.id() {
		t.Fatalf("second match %+v", again)
	}
	// leave from a waiting state takes the user out of the queue
	b.send(EvLeave, nil)
	a.expect(EvPartnerLeft, nil)
	a.send(EvFindMatch, nil)
	a.expect(EvWaiting, nil)
	a.send(EvLeave, nil)
	rdb := rdbFor(t, url)
	keys := Keys{prefix: cfg.KeyPrefix}
	waitFor(t, 5*time.Second, "empty queue", func() bool {
		return rdb.SCard(context.Background(), keys.Queue(ModeVideo)).Val() == 0
	})
	for _, c := range []*wsClient{a, b} {
		if st := rdb.HGet(context.Background(), keys.User(c.id()), "state").Val(); st != "idle" {
			t.Fatalf("state of %s: %q", c.id(), st)
		}
	}
}
