package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/inbound"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

// Trust and safety: reports, never meeting again, bans (automatic and by a moderator), and
// the moderator console.

// jpegFrame is a real JPEG still of w x h as a data: URL.
func jpegFrame(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{0, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return wire.ReportFramePrefix + base64.StdEncoding.EncodeToString(b.Bytes())
}

func reportFrame(t *testing.T, data map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": wire.EvReport, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportValidation(t *testing.T) {
	good := jpegFrame(t, 640, 360)
	huge := wire.ReportFramePrefix + base64.StdEncoding.EncodeToString(append(mustDecodeFrame(t, good), make([]byte, 150<<10)...))
	line := func(from, text string) map[string]any { return map[string]any{"from": from, "text": text} }
	var twentyOne []any
	for range 21 {
		twentyOne = append(twentyOne, line("stranger", "hi"))
	}
	for _, tc := range []struct {
		name string
		data map[string]any
		ok   bool
	}{
		{"a reason alone", map[string]any{"reason": "spam"}, true},
		{"everything", map[string]any{"reason": "nudity", "note": "right at the start\nthen again", "frame": good,
			"chat": []any{line("you", "hello"), line("stranger", "…")}}, true},
		{"no reason", map[string]any{"note": "x"}, false},
		{"an unknown reason", map[string]any{"reason": "boring"}, false},
		{"a note over 500 characters", map[string]any{"reason": "other", "note": strings.Repeat("é", 501)}, false},
		{"a note with control characters", map[string]any{"reason": "other", "note": "a\u0007b"}, false},
		{"a frame that is not a data URL", map[string]any{"reason": "nudity", "frame": "https://evil.example/x.jpg"}, false},
		{"a PNG frame", map[string]any{"reason": "nudity", "frame": "data:image/png;base64,iVBORw0KGgo="}, false},
		{"a frame of bad base64", map[string]any{"reason": "nudity", "frame": wire.ReportFramePrefix + "!!!"}, false},
		{"a frame that is not a JPEG", map[string]any{"reason": "nudity", "frame": wire.ReportFramePrefix + base64.StdEncoding.EncodeToString([]byte("GIF89a not a jpeg"))}, false},
		{"a frame over 640 pixels wide", map[string]any{"reason": "nudity", "frame": jpegFrame(t, 641, 100)}, false},
		{"a frame over 150 KB", map[string]any{"reason": "nudity", "frame": huge}, false},
		{"21 chat lines", map[string]any{"reason": "spam", "chat": twentyOne}, false},
		{"a chat line from someone else", map[string]any{"reason": "spam", "chat": []any{line("moderator", "x")}}, false},
		{"an empty chat line", map[string]any{"reason": "spam", "chat": []any{line("you", "")}}, false},
		{"a chat line over 2000 characters", map[string]any{"reason": "spam", "chat": []any{line("you", strings.Repeat("x", 2001))}}, false},
		{"chat of the wrong type", map[string]any{"reason": "spam", "chat": "hello"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, problem := inbound.Decode("ME", []byte(reportFrame(t, tc.data)))
			if tc.ok && problem != nil {
				t.Fatalf("refused: %s", problem.Message)
			}
			if !tc.ok && (problem == nil || problem.Code != wire.ErrBadRequest) {
				t.Fatalf("accepted %+v (problem %+v)", req.Report, problem)
			}
		})
	}
}

func mustDecodeFrame(t *testing.T, frame string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(frame, wire.ReportFramePrefix))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// from is a header that makes a connection come from addr through the trusted test proxy.
func from(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// safetyConfig: clients come from distinct addresses through a trusted proxy (127.0.0.1).
func safetyConfig(t *testing.T, overrides ...func(*Config)) func(*Config) {
	proxies := mustPrefixes(t, "127.0.0.1/32")
	return func(c *Config) {
		c.TrustedProxies = proxies
		c.BanSecret, c.ModToken = "test-ban-secret", "test-moderator-token"
		for _, o := range overrides {
			o(c)
		}
	}
}

func TestReports(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, safetyConfig(t, func(c *Config) { c.ReportRate = 2 })))
	t.Run("a report of the partner is stored, once per match", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), from("198.51.100.1")), dial(t, inst.wsURL(), from("198.51.100.2"))
		m, _ := pair(t, a, b)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "harassment", "note": "rude"}))
		var r wire.ReportedData
		a.expect(wire.EvReported, &r)
		if r.MatchID != m.MatchID {
			t.Fatalf("reported %+v, want match %s", r, m.MatchID)
		}
		a.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
		a.expectError(wire.ErrRateLimited)
		checkNextIsMarker(t, []*wsClient{a}, []*wsClient{b}) // the reported user was told nothing
	})
	t.Run("the last partner, within a minute of the end", func(t *testing.T) {
		c, d := dial(t, inst.wsURL(), from("198.51.100.3")), dial(t, inst.wsURL(), from("198.51.100.4"))
		m, _ := pair(t, c, d)
		d.send(wire.EvLeave, nil)
		c.expect(wire.EvPartnerLeft, nil)
		c.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
		var r wire.ReportedData
		c.expect(wire.EvReported, &r)
		if r.MatchID != m.MatchID {
			t.Fatalf("reported %+v, want the last match %s", r, m.MatchID)
		}
	})
	t.Run("a report that names another match is refused", func(t *testing.T) {
		a, b := dial(t, inst.wsURL(), from("198.51.100.7")), dial(t, inst.wsURL(), from("198.51.100.8"))
		m, _ := pair(t, a, b)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "spam", "match_id": "an-earlier-match"}))
		a.expectError(wire.ErrNotMatched)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "spam", "match_id": m.MatchID}))
		a.expect(wire.EvReported, nil)
	})
	t.Run("nobody to report", func(t *testing.T) {
		e := dial(t, inst.wsURL(), from("198.51.100.5"))
		e.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
		e.expectError(wire.ErrNotMatched)
	})
	t.Run("REPORT_RATE per address and hour", func(t *testing.T) {
		const addr = "198.51.100.6"
		for i := range 3 {
			a, b := dial(t, inst.wsURL(), from(addr)), dial(t, inst.wsURL(), from(fmt.Sprint("203.0.113.", 10+i)))
			pair(t, a, b)
			a.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
			if i < 2 {
				a.expect(wire.EvReported, nil)
			} else {
				a.expectError(wire.ErrRateLimited) // the third from one address in the hour
			}
		}
	})
	if n := metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_reports_total", nil); n != 5 {
		t.Fatalf("reports_total = %v, want 5", n)
	}
}

func TestNoRematch(t *testing.T) {
	insts, _ := startCluster(t, 2)
	a, b, m := crossPair(t, insts)
	// the match survives a dropped socket and a resume (the identity is what counts)
	a.close()
	a2 := dial(t, insts[0].wsURL()+"?resume="+a.hello.ResumeToken, nil)
	if !a2.hello.Resumed || a2.hello.Match == nil || a2.hello.Match.MatchID != m.MatchID {
		t.Fatalf("resume: %+v", a2.hello)
	}
	a2.send(wire.EvFindMatch, nil) // Next
	b.expect(wire.EvPartnerLeft, nil)
	var aw wire.WaitingData
	a2.expect(wire.EvWaiting, &aw)
	if aw.MetRecently || aw.Message != wire.WaitingMessage || aw.Searching < 1 {
		t.Fatalf("a's waiting %+v: nobody was passed over yet, and a counts itself", aw)
	}
	// the only one waiting is the one b just left, on the other instance: b waits for someone
	// new, and says so
	b.send(wire.EvFindMatch, nil)
	var w wire.WaitingData
	b.expect(wire.EvWaiting, &w)
	if w.Message != wire.WaitingForNewOnes || !w.MetRecently || w.Searching < 1 {
		t.Fatalf("b's waiting %+v, want %q and met_recently", w, wire.WaitingForNewOnes)
	}
	// and a, passed over on the other instance, hears it too (once per search: the session's
	// tests hold that)
	a2.expect(wire.EvWaiting, &aw)
	if !aw.MetRecently || aw.Message != wire.WaitingForNewOnes || aw.Mode != wire.ModeVideo {
		t.Fatalf("a's waiting once passed over: %+v", aw)
	}
	// someone new meets one of them, and the next someone new the other
	newcomersMeet(t, insts[0].wsURL(), []*wsClient{a, b})
}

// expectBanned reads events up to banned, which must be followed by the close 4003.
func expectBanned(t *testing.T, c *wsClient) wire.BannedData {
	t.Helper()
	for {
		ev, err := c.nextEvent(5 * time.Second)
		if err != nil {
			t.Fatalf("client %s was not banned: %v", c.id(), err)
		}
		if ev.Event != wire.EvBanned {
			continue
		}
		var ban wire.BannedData
		if err := json.Unmarshal(ev.Data, &ban); err != nil {
			t.Fatal(err)
		}
		if ev, err := c.nextEvent(5 * time.Second); err != nil || ev.Event != "close" || string(ev.Data) != "4003" {
			t.Fatalf("after banned: %v %v, want close 4003", ev, err)
		}
		return ban
	}
}

// dialBanned connects from a banned address: the first and only frame is banned, then 4003.
func dialBanned(t *testing.T, url string, header http.Header) wire.BannedData {
	t.Helper()
	conn := dialRaw(t, url, header)
	var ev wire.Outbound[wire.BannedData]
	if err := conn.ReadJSON(&ev); err != nil || ev.Event != wire.EvBanned {
		t.Fatalf("first frame %+v (%v), want banned", ev, err)
	}
	_, _, err := conn.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != wire.CloseBanned {
		t.Fatalf("then %v, want close 4003", err)
	}
	return ev.Data
}

// consoleDo sends a moderator request with the test token and requires the status.
func consoleDo(t *testing.T, inst *testInstance, method, path, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, inst.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+inst.cfg.ModToken)
	status, out := roundTrip(t, req)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, out, want)
	}
	return out
}

// roundTrip sends req and returns the answer's status and body.
func roundTrip(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func consoleGet[T any](t *testing.T, inst *testInstance, path string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(consoleDo(t, inst, http.MethodGet, path, "", http.StatusOK), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestModeratorConsole(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t))
	t.Run("off without MOD_TOKEN", func(t *testing.T) {
		_, url := startMiniredis(t)
		off := startInstance(t, testConfig(t, url))
		for _, path := range []string{"/mod", "/mod/", "/mod/api/reports", "/mod/api/bans"} {
			resp, err := http.Get(off.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: %d, want 404", path, resp.StatusCode)
			}
		}
	})
	t.Run("a token is needed, and guessing is held back, never the right token", func(t *testing.T) {
		get := func(token string) int {
			req, _ := http.NewRequest(http.MethodGet, insts[0].srv.URL+"/mod/api/reports", nil)
			req.Header.Set("X-Forwarded-For", "198.18.0.9")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := get(""); got != http.StatusUnauthorized {
			t.Fatalf("no token: %d", got)
		}
		if got := get(insts[0].cfg.ModToken); got != http.StatusOK {
			t.Fatalf("the right token: %d", got)
		}
		for range web.ConsoleFailBurst - 1 {
			if got := get("wrong-token"); got != http.StatusUnauthorized {
				t.Fatalf("a wrong token: %d", got)
			}
		}
		if got := get("wrong-token"); got != http.StatusTooManyRequests {
			t.Fatalf("after %d wrong tokens, another: %d, want 429", web.ConsoleFailBurst, got)
		}
		// whoever else guesses from the moderator's address, the right token is let in
		for range 20 {
			get("wrong-token")
		}
		if got := get(insts[0].cfg.ModToken); got != http.StatusOK {
			t.Fatalf("the right token after wrong ones from its address: %d, want 200", got)
		}
	})
	t.Run("a report, its evidence, a ban on another instance, and a dismissal", func(t *testing.T) {
		a, b := dial(t, insts[0].wsURL(), from("198.51.100.21")), dial(t, insts[1].wsURL(), from("198.51.100.22"))
		pair(t, a, b)
		frame := jpegFrame(t, 320, 240)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "nudity", "note": "camera", "frame": frame,
			"chat": []any{map[string]any{"from": "stranger", "text": "look"}}}))
		a.expect(wire.EvReported, nil)
		list := consoleGet[struct{ Reports []safety.OpenReport }](t, insts[1], "/mod/api/reports?status=open") // any replica
		if len(list.Reports) != 1 {
			t.Fatalf("open reports %+v", list.Reports)
		}
		r := list.Reports[0]
		if r.Reason != "nudity" || r.Note != "camera" || r.Frame != frame || len(r.Chat) != 1 || r.Chat[0].Text != "look" ||
			r.Evidence != "kept" || r.Counts || r.Reporters != 0 || !slices.Equal(r.Why, []string{"new_reporter", "short", "no_exchange"}) ||
			r.ReporterReports != 1 || !safety.ValidLabel(r.Reporter) {
			t.Fatalf("report %+v", r)
		}
		for _, secret := range []string{string(a.id()), string(b.id()), "198.51.100", "192.0.2"} {
			if strings.Contains(r.Reporter+r.Reported, secret) {
				t.Fatalf("labels %q / %q give away %q", r.Reporter, r.Reported, secret)
			}
		}
		consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+r.ID+"/ban", `{"duration":"0s","reason":"x"}`, http.StatusBadRequest)
		consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+r.ID+"/ban", `{"duration":"24h","reason":""}`, http.StatusBadRequest)
		consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/no-such-report/ban", `{"duration":"24h","reason":"x"}`, http.StatusNotFound)
		consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+r.ID+"/ban", `{"duration":"24h","reason":"nudity on camera"}`, http.StatusOK)
		if ban := expectBanned(t, b); ban.Reason != "nudity on camera" {
			t.Fatalf("banned %+v", ban)
		}
		a.expect(wire.EvPartnerLeft, nil)
		if left := consoleGet[struct{ Reports []safety.OpenReport }](t, insts[0], "/mod/api/reports"); len(left.Reports) != 0 {
			t.Fatalf("the report (and its evidence) outlived the ban: %+v", left.Reports)
		}
		// a dismissed report goes with its evidence too
		c, d := dial(t, insts[0].wsURL(), from("198.51.100.23")), dial(t, insts[0].wsURL(), from("198.51.100.24"))
		pair(t, c, d)
		c.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
		c.expect(wire.EvReported, nil)
		list = consoleGet[struct{ Reports []safety.OpenReport }](t, insts[0], "/mod/api/reports")
		consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+list.Reports[0].ID+"/dismiss", "", http.StatusNoContent)
		consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+list.Reports[0].ID+"/dismiss", "", http.StatusNotFound)
		checkNextIsMarker(t, []*wsClient{c}, []*wsClient{d}) // a dismissal closes nobody
	})
}

// The rematch cooldown a leave writes never shortens a longer bar (a report's) nor the life of
// the met set, and gives a new met set its TTL; on miniredis (the embedded default) and on a
// real redis-server alike (the scripts use ZADD GT and EXPIRE GT/NX).
func TestRematchCooldownNeverShortensABar(t *testing.T) {
	for _, backend := range []string{"miniredis", "redis-server"} {
		t.Run(backend, func(t *testing.T) {
			var url string
			if backend == "miniredis" {
				_, url = startMiniredis(t)
			} else {
				url = redistest.Start(t).URL()
			}
			rdb := rdbFor(t, url)
			ctx := context.Background()
			keys := store.NewKeys("{cool}")
			const cooldown = 5 * time.Minute
			mm, err := NewMatchmaker(ctx, rdb, MatchmakerConfig{Keys: keys, MatchTTL: time.Minute, Timeout: 5 * time.Second,
				Now: time.Now, Metrics: metrics.NewMetrics(), RematchCooldown: cooldown})
			if err != nil {
				t.Fatal(err)
			}
			if err := mm.Heartbeat(ctx, "i1", 0, wire.Searching{}, time.Hour); err != nil {
				t.Fatal(err)
			}
			met := func(id wire.ClientID) string { return keys.Prefix() + ":met:" + string(id) }
			matchAndLeave := func(x, y wire.ClientID) {
				t.Helper()
				if r, err := mm.Enqueue(ctx, EnqueueRequest{Client: x, Instance: "i1", Mode: wire.ModeVideo, Match: wire.MatchID(wire.NewID()), Ticket: "t"}); err != nil || r.Outcome != OutcomeWaiting {
					t.Fatalf("enqueue %s: %+v %v", x, r, err)
				}
				if r, err := mm.Enqueue(ctx, EnqueueRequest{Client: y, Instance: "i1", Mode: wire.ModeVideo, Match: wire.MatchID(wire.NewID()), Ticket: "t"}); err != nil || r.Outcome != OutcomeMatched {
					t.Fatalf("enqueue %s: %+v %v", y, r, err)
				}
				if l, err := mm.Leave(ctx, LeaveRequest{Client: y, Instance: "i1"}); err != nil || !l.Ended {
					t.Fatalf("leave: %+v %v", l, err)
				}
			}

			// a new pair: both met sets hold the other until about now + cooldown, and live that long
			a, b := wire.ClientID(wire.NewID()), wire.ClientID(wire.NewID())
			matchAndLeave(a, b)
			for _, k := range [][2]wire.ClientID{{a, b}, {b, a}} {
				score, err := rdb.ZScore(ctx, met(k[0]), string(k[1])).Result()
				if err != nil || time.Until(time.UnixMilli(int64(score))) < cooldown-time.Minute {
					t.Fatalf("%s's bar on %s: %v %v, want about %v from now", k[0], k[1], score, err, cooldown)
				}
				if ttl := rdb.TTL(ctx, met(k[0])).Val(); ttl < cooldown-time.Minute || ttl > cooldown {
					t.Fatalf("%s's met set lives %v, want about %v", k[0], ttl, cooldown)
				}
			}

			// a longer bar (as a report writes) and a longer life survive the next leave
			c, d := wire.ClientID(wire.NewID()), wire.ClientID(wire.NewID())
			long := time.Now().Add(24 * time.Hour).UnixMilli()
			if err := rdb.ZAdd(ctx, met(c), redis.Z{Score: float64(long), Member: string(d)}).Err(); err != nil {
				t.Fatal(err)
			}
			if err := rdb.Expire(ctx, met(c), 24*time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			matchAndLeave(c, d)
			if score, err := rdb.ZScore(ctx, met(c), string(d)).Result(); err != nil || int64(score) != long {
				t.Fatalf("the 24 h bar became %v (%v): a cooldown shortened it", score, err)
			}
			if ttl := rdb.TTL(ctx, met(c)).Val(); ttl < 23*time.Hour {
				t.Fatalf("the met set's life became %v: a cooldown shortened it", ttl)
			}
		})
	}
}
