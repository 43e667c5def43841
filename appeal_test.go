package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 25, part 3: appeals, with the evidence. The banned user (only it: its own socket is told
// the token) sees its ban, the still of its own video and its own lines, never the reporter's,
// appeals once, and a moderator upholds or lifts with the report beside the appeal.

// appealDo sends a request to /api/appeal from addr with the token ("" none) and returns the
// status and body.
func appealDo(t *testing.T, inst *testInstance, method, addr, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, inst.srv.URL+"/api/appeal", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", addr)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	status, out := roundTrip(t, req)
	return status, string(out)
}

func appealOf(t *testing.T, inst *testInstance, addr, token string) safety.OwnAppeal {
	t.Helper()
	status, body := appealDo(t, inst, http.MethodGet, addr, token, "", "")
	var own safety.OwnAppeal
	if status != http.StatusOK || json.Unmarshal([]byte(body), &own) != nil {
		t.Fatalf("GET /api/appeal: %d %s", status, body)
	}
	return own
}

type appealList struct {
	Appeals []web.AppealView
	Total   int
}

// reportedAndBanned pairs a reporter with a user (and the user's housemate behind the same
// address, also connected), files a report with a still and both sides' lines, and bans the user
// from the console. It returns the user's banned event, the housemate's, and the frame.
func reportedAndBanned(t *testing.T, reporterInst, userInst, modInst *testInstance, reporterIP, userIP string) (own, housemate wire.BannedData, frame string) {
	t.Helper()
	a, b := dial(t, reporterInst.wsURL(), from(reporterIP)), dial(t, userInst.wsURL(), from(userIP))
	pair(t, a, b)
	h := dial(t, userInst.wsURL(), from(userIP))
	frame = jpegFrame(t, 160, 120)
	a.sendRaw(reportFrame(t, map[string]any{"reason": "nudity", "note": "I am Alice from Lyon", "frame": frame,
		"chat": []any{map[string]any{"from": "you", "text": "reporter line SECRET"}, map[string]any{"from": "stranger", "text": "the user's own line"}}}))
	a.expect(wire.EvReported, nil)
	reports := consoleGet[safety.ReportPage](t, modInst, "/mod/api/reports").Reports
	if len(reports) != 1 {
		t.Fatalf("reports %+v", reports)
	}
	consoleDo(t, modInst, http.MethodPost, "/mod/api/reports/"+reports[0].ID+"/ban", `{"duration":"24h","reason":"nudity on camera"}`, http.StatusOK)
	return expectBanned(t, b), expectBanned(t, h), frame
}

func TestAppealShowsOnlyTheUsersOwnEvidenceAndLifts(t *testing.T) {
	for _, backend := range []string{"miniredis", "redis-server, two instances"} {
		t.Run(backend, func(t *testing.T) {
			var insts []*testInstance
			if backend == "miniredis" {
				_, url := startMiniredis(t)
				inst := startInstance(t, testConfig(t, url, safetyConfig(t)))
				insts = []*testInstance{inst, inst}
			} else {
				insts, _ = startCluster(t, 2, safetyConfig(t))
			}
			const userIP = "198.51.100.32"
			own, housemate, frame := reportedAndBanned(t, insts[0], insts[1], insts[0], "198.51.100.31", userIP)
			if own.Appeal == "" || housemate.Appeal != "" || housemate.Reason != own.Reason {
				t.Fatalf("the user's banned %+v, its housemate's %+v: only the user's carries the token", own, housemate)
			}

			got := appealOf(t, insts[1], userIP, own.Appeal)
			if got.State != safety.AppealNone || got.Reason != "nudity on camera" || time.Until(got.Until) < 23*time.Hour ||
				got.Report == nil || got.Report.Reason != "nudity" || got.Report.Frame != frame ||
				!slices.Equal(got.Report.Lines, []string{"the user's own line"}) {
				t.Fatalf("the user sees %+v", got)
			}
			_, raw := appealDo(t, insts[1], http.MethodGet, userIP, own.Appeal, "", "")
			for _, secret := range []string{"SECRET", "Alice", "R-", "note", "reporter", "198.51.100"} {
				if strings.Contains(raw, secret) {
					t.Fatalf("the banned user's view holds %q: %s", secret, raw)
				}
			}

			// nothing without the token, or with another's
			banID, _, _ := strings.Cut(own.Appeal, ".")
			for name, token := range map[string]string{"wrong secret": banID + ".AAAAAAAAAAAAAAAAAAAAAAAAAA", "no ban": "NOSUCHBAN.x",
				"garbage": "not a token", "too long": strings.Repeat("A", 300)} {
				if status, body := appealDo(t, insts[0], http.MethodGet, userIP, token, "", ""); status != http.StatusNotFound || strings.Contains(body, "nudity") {
					t.Fatalf("%s: %d %s, want 404 and nothing", name, status, body)
				}
			}
			if status, _ := appealDo(t, insts[0], http.MethodGet, userIP, "", "", ""); status != http.StatusUnauthorized {
				t.Fatalf("no token: %d", status)
			}

			// bad input, then one appeal, and only one
			for name, tc := range map[string]struct {
				ct, body string
				want     int
			}{
				"not JSON":   {"text/plain", "please", http.StatusUnsupportedMediaType},
				"no type":    {"", `{"text":"please"}`, http.StatusUnsupportedMediaType},
				"empty":      {"application/json", `{"text":"   "}`, http.StatusBadRequest},
				"broken":     {"application/json", `{"text":`, http.StatusBadRequest},
				"too long":   {"application/json", `{"text":"` + strings.Repeat("é", wire.MaxAppealText+1) + `"}`, http.StatusBadRequest},
				"a huge one": {"application/json", `{"text":"` + strings.Repeat("x", 20_000) + `"}`, http.StatusRequestEntityTooLarge},
			} {
				if status, body := appealDo(t, insts[0], http.MethodPost, userIP, own.Appeal, tc.ct, tc.body); status != tc.want {
					t.Fatalf("%s: %d %s, want %d", name, status, body, tc.want)
				}
			}
			text := `I was showing my "cat"; ` + strings.Repeat("é", wire.MaxAppealText-30)
			body, _ := json.Marshal(map[string]string{"text": text})
			if status, body := appealDo(t, insts[0], http.MethodPost, userIP, own.Appeal, "application/json; charset=utf-8", string(body)); status != http.StatusNoContent {
				t.Fatalf("appeal: %d %s", status, body)
			}
			if status, _ := appealDo(t, insts[1], http.MethodPost, userIP, own.Appeal, "application/json", `{"text":"again"}`); status != http.StatusConflict {
				t.Fatalf("a second appeal: %d, want 409", status)
			}
			if got := appealOf(t, insts[1], userIP, own.Appeal); got.State != safety.AppealOpen || got.Text != text {
				t.Fatalf("after appealing %+v", got)
			}

			// the console's queue: the appeal beside the whole report the moderator saw
			list := consoleGet[appealList](t, insts[1], "/mod/api/appeals")
			if len(list.Appeals) != 1 || list.Total != 1 {
				t.Fatalf("queue %+v", list)
			}
			a := list.Appeals[0]
			if a.Ban.ID != banID || a.Ban.Reason != "nudity on camera" || a.Ban.Source != "moderator" || a.Text != text || a.Report == nil ||
				a.Report.Note != "I am Alice from Lyon" || a.Report.Frame != frame || len(a.Report.Chat) != 2 ||
				a.Report.Chat[0].Text != "reporter line SECRET" || !safety.ValidLabel(a.Report.Reporter) || a.Report.Evidence != "kept" {
				t.Fatalf("appeal %+v, report %+v", a, a.Report)
			}

			// lift: the ban ends, the appeal and the kept report go, the user connects again
			consoleDo(t, insts[0], http.MethodPost, "/mod/api/appeals/"+banID+"/lift", "", http.StatusNoContent)
			consoleDo(t, insts[0], http.MethodPost, "/mod/api/appeals/"+banID+"/lift", "", http.StatusNotFound)
			dial(t, insts[1].wsURL(), from(userIP))
			if status, _ := appealDo(t, insts[1], http.MethodGet, userIP, own.Appeal, "", ""); status != http.StatusNotFound {
				t.Fatalf("the lifted ban's token: %d, want 404", status)
			}
			if l := consoleGet[appealList](t, insts[0], "/mod/api/appeals"); len(l.Appeals) != 0 {
				t.Fatalf("the queue after the lift: %+v", l)
			}
			keys := store.NewKeys(insts[0].cfg.KeyPrefix)
			if n := insts[0].app.Redis.Exists(t.Context(), keys.Appeal(banID)).Val(); n != 0 {
				t.Fatal("the appeal record outlived the lifted ban")
			}
			fams := scrapeMetrics(t, insts[0].srv.URL+"/metrics")
			if metricValue(fams, "gomegle_appeals_total", map[string]string{"event": "lifted"}) != 1 ||
				metricValue(fams, "gomegle_appeals_total", map[string]string{"event": "upheld"}) != 0 {
				t.Fatal("appeals_total{event=lifted} is not 1")
			}
		})
	}
}

func TestUpholdKeepsTheBanAndDeletesTheEvidence(t *testing.T) {
	mr, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, safetyConfig(t)))
	const userIP = "198.51.100.42"
	own, _, _ := reportedAndBanned(t, inst, inst, inst, "198.51.100.41", userIP)
	banID, _, _ := strings.Cut(own.Appeal, ".")
	consoleDo(t, inst, http.MethodPost, "/mod/api/appeals/"+banID+"/uphold", "", http.StatusNotFound) // nothing to decide yet
	// an appeal opened longer ago than the longest ban, which nobody listed: opening another
	// takes it out of the queue's index (no ban can be in force for it)
	keys := store.NewKeys(inst.cfg.KeyPrefix)
	stale := time.Now().Add(-safety.MaxBan - time.Hour).UnixMilli()
	inst.app.Redis.ZAdd(t.Context(), keys.Appeals(), redis.Z{Score: float64(stale), Member: "STALEAPPEAL"})
	if status, _ := appealDo(t, inst, http.MethodPost, userIP, own.Appeal, "application/json", `{"text":"it was not me"}`); status != http.StatusNoContent {
		t.Fatalf("appeal: %d", status)
	}
	if err := inst.app.Redis.ZScore(t.Context(), keys.Appeals(), "STALEAPPEAL").Err(); err != redis.Nil {
		t.Fatalf("an appeal older than the longest ban is still indexed (%v)", err)
	}
	consoleDo(t, inst, http.MethodPost, "/mod/api/appeals/"+banID+"/uphold", "", http.StatusNoContent)
	consoleDo(t, inst, http.MethodPost, "/mod/api/appeals/"+banID+"/uphold", "", http.StatusNotFound)
	if got := appealOf(t, inst, userIP, own.Appeal); got.State != safety.AppealUpheld || got.Report != nil || got.Text != "" {
		t.Fatalf("after upholding the user sees %+v", got)
	}
	if status, _ := appealDo(t, inst, http.MethodPost, userIP, own.Appeal, "application/json", `{"text":"again"}`); status != http.StatusConflict {
		t.Fatalf("appealing an upheld ban: %d, want 409", status)
	}
	if b := dialBanned(t, inst.wsURL(), from(userIP)); b.Appeal != "" || b.Reason != "nudity on camera" {
		t.Fatalf("still banned %+v (and a new socket is told no token)", b)
	}
	rec := inst.app.Redis.HGetAll(t.Context(), keys.Appeal(banID)).Val()
	for _, field := range []string{"frame", "chat", "note", "text", "reporter"} {
		if _, ok := rec[field]; ok {
			t.Fatalf("upholding kept %s: %v", field, rec)
		}
	}
	if l := consoleGet[appealList](t, inst, "/mod/api/appeals"); len(l.Appeals) != 0 {
		t.Fatalf("the queue after upholding: %+v", l)
	}

	// everything goes with the ban: the record's life is the ban's
	ttl := mr.TTL(keys.Appeal(banID))
	if ttl <= 23*time.Hour || ttl > 24*time.Hour {
		t.Fatalf("the appeal record lives %v, want the ban's 24 h", ttl)
	}
	mr.FastForward(24*time.Hour + time.Second)
	if mr.Exists(keys.Appeal(banID)) {
		t.Fatal("the appeal record outlived its ban")
	}
}

func TestAppealEvidenceEndsWithTheBan(t *testing.T) {
	rs := redistest.Start(t)
	inst := startInstance(t, testConfig(t, rs.URL(), safetyConfig(t)))
	const userIP = "198.51.100.52"
	a, b := dial(t, inst.wsURL(), from("198.51.100.51")), dial(t, inst.wsURL(), from(userIP))
	pair(t, a, b)
	a.sendRaw(reportFrame(t, map[string]any{"reason": "spam", "frame": jpegFrame(t, 64, 48)}))
	a.expect(wire.EvReported, nil)
	reports := consoleGet[safety.ReportPage](t, inst, "/mod/api/reports").Reports
	consoleDo(t, inst, http.MethodPost, "/mod/api/reports/"+reports[0].ID+"/ban", `{"duration":"2s","reason":"spam"}`, http.StatusBadRequest)
	consoleDo(t, inst, http.MethodPost, "/mod/api/reports/"+reports[0].ID+"/ban", `{"duration":"1m","reason":"spam"}`, http.StatusOK)
	own := expectBanned(t, b)
	banID, _, _ := strings.Cut(own.Appeal, ".")
	keys := store.NewKeys(inst.cfg.KeyPrefix)
	if ttl := inst.app.Redis.TTL(t.Context(), keys.Appeal(banID)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("the appeal record lives %v, want at most the ban's minute", ttl)
	}
	if ttl := inst.app.Redis.TTL(t.Context(), keys.Appeal(banID)).Val(); ttl > inst.app.Redis.TTL(t.Context(), keys.BanRecord(banID)).Val() {
		t.Fatalf("the appeal record (%v) outlives the ban record", ttl)
	}
}

// An automatic ban has no single report: its user sees the reason and may appeal; the queue
// shows the ban (and its why) without a report. The token crosses instances on the bus.
func TestAutomaticBanCanBeAppealed(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.MinConversation = 0 }))
	const victimIP = "192.0.2.77"
	victim := dial(t, insts[1].wsURL(), from(victimIP))
	for _, ip := range []string{"203.0.113.21", "203.0.113.22", "203.0.113.23"} {
		ageNetwork(t, insts[0], ip)
		r := meet(t, victim, insts[0].wsURL(), ip)
		say(r, victim, "hi")
		say(victim, r, "something vile")
		reportWith(t, r, "insults", "something vile")
		r.send(wire.EvLeave, nil)
		if ip != "203.0.113.23" {
			victim.expect(wire.EvPartnerLeft, nil)
		}
	}
	ban := expectBanned(t, victim)
	if ban.Appeal == "" {
		t.Fatalf("the automatically banned user got no appeal token: %+v", ban)
	}
	got := appealOf(t, insts[0], victimIP, ban.Appeal)
	if got.Report != nil || got.Reason != ban.Reason || got.State != safety.AppealNone {
		t.Fatalf("the user sees %+v", got)
	}
	if status, _ := appealDo(t, insts[0], http.MethodPost, victimIP, ban.Appeal, "application/json", `{"text":"they ganged up"}`); status != http.StatusNoContent {
		t.Fatalf("appeal: %d", status)
	}
	list := consoleGet[appealList](t, insts[1], "/mod/api/appeals")
	if len(list.Appeals) != 1 || list.Appeals[0].Report != nil || list.Appeals[0].Ban.Source != "auto" || list.Appeals[0].Ban.Why == nil {
		t.Fatalf("queue %+v", list)
	}
}

func TestAppealRequestsAreRateLimited(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, safetyConfig(t)))
	for i := range safety.AppealRate {
		if status, _ := appealDo(t, inst, http.MethodGet, "198.51.100.61", "NOBAN.x", "", ""); status != http.StatusNotFound {
			t.Fatalf("request %d: %d", i, status)
		}
	}
	status, _ := appealDo(t, inst, http.MethodGet, "198.51.100.61", "NOBAN.x", "", "")
	if status != http.StatusTooManyRequests {
		t.Fatalf("request %d in a minute: %d, want 429", safety.AppealRate+1, status)
	}
	if status, _ := appealDo(t, inst, http.MethodPost, "198.51.100.61", "", "application/json", `{"text":"x"}`); status != http.StatusTooManyRequests {
		t.Fatalf("a POST past the rate: %d, want 429", status)
	}
	if status, _ := appealDo(t, inst, http.MethodGet, "198.51.100.62", "NOBAN.x", "", ""); status != http.StatusNotFound {
		t.Fatalf("another address: %d, want 404", status)
	}
}

// A moderator bans a user hours after the report, when its page is long gone: the next page
// from its address is banned without a token, and claims the appeal with the identity and
// appeal key its earlier page kept from hello. Nobody else's key claims it.
func TestAppealClaimedByAPageGoneWhenTheBanWasMade(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t))
	const userIP = "198.51.100.72"
	a, b := dial(t, insts[0].wsURL(), from("198.51.100.71")), dial(t, insts[1].wsURL(), from(userIP))
	pair(t, a, b)
	say(b, a, "my own words")
	mine := safety.AppealClaim{ID: b.id(), Key: b.hello.AppealKey}
	theirs := safety.AppealClaim{ID: a.id(), Key: a.hello.AppealKey}
	if mine.Key == "" || mine.Key == theirs.Key {
		t.Fatalf("appeal keys %q, %q", mine.Key, theirs.Key)
	}
	b.closeClean()
	a.expect(wire.EvPartnerLeft, nil)
	a.sendRaw(reportFrame(t, map[string]any{"reason": "harassment", "chat": []any{map[string]any{"from": "stranger", "text": "my own words"},
		map[string]any{"from": "you", "text": "the reporter's words"}}}))
	a.expect(wire.EvReported, nil)
	reports := consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports").Reports
	consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+reports[0].ID+"/ban", `{"duration":"24h","reason":"insults"}`, http.StatusOK)
	if ban := dialBanned(t, insts[1].wsURL(), from(userIP)); ban.Appeal != "" {
		t.Fatalf("a later connection was told the token: %+v", ban)
	}

	claim := func(keys ...safety.AppealClaim) (int, string) {
		body, _ := json.Marshal(map[string]any{"keys": keys})
		req, err := http.NewRequest(http.MethodPost, insts[0].srv.URL+"/api/appeal/claim", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", userIP)
		req.Header.Set("Content-Type", "application/json")
		status, out := roundTrip(t, req)
		return status, string(out)
	}
	for name, keys := range map[string][]safety.AppealClaim{"the reporter's own": {theirs}, "a wrong key": {{ID: b.id(), Key: theirs.Key}},
		"a made-up identity": {{ID: "NOBODY", Key: mine.Key}}} {
		if status, body := claim(keys...); status != http.StatusNotFound || strings.Contains(body, "appeal\"") {
			t.Fatalf("%s: %d %s, want 404", name, status, body)
		}
	}
	if status, _ := claim(); status != http.StatusBadRequest {
		t.Fatalf("no keys: %d", status)
	}
	if status, _ := claim(slices.Repeat([]safety.AppealClaim{theirs}, safety.MaxAppealClaims+1)...); status != http.StatusBadRequest {
		t.Fatalf("too many keys: %d", status)
	}
	status, body := claim(theirs, mine)
	var got struct{ Appeal, Until string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.Appeal == "" {
		t.Fatalf("claim: %d %s", status, body)
	}
	own := appealOf(t, insts[1], userIP, got.Appeal)
	if own.Report == nil || !slices.Equal(own.Report.Lines, []string{"my own words"}) || own.Until.Format(time.RFC3339) != got.Until {
		t.Fatalf("the claimed appeal shows %+v (until %s)", own, got.Until)
	}
	// a second claim gives a new token; the first is good no more
	_, body = claim(mine)
	var again struct{ Appeal string }
	if json.Unmarshal([]byte(body), &again) != nil || again.Appeal == got.Appeal {
		t.Fatalf("a second claim: %s", body)
	}
	if status, _ := appealDo(t, insts[0], http.MethodGet, userIP, got.Appeal, "", ""); status != http.StatusNotFound {
		t.Fatalf("the replaced token: %d, want 404", status)
	}
	// lifting ends the claim too
	banID, _, _ := strings.Cut(again.Appeal, ".")
	consoleDo(t, insts[0], http.MethodDelete, "/mod/api/bans/"+banID, "", http.StatusNoContent)
	if status, _ := claim(mine); status != http.StatusNotFound {
		t.Fatalf("a claim after the lift: %d, want 404", status)
	}
	if n := insts[0].app.Redis.Exists(t.Context(), store.NewKeys(insts[0].cfg.KeyPrefix).AppealUser(b.id())).Val(); n != 0 {
		t.Fatal("the user's pointer to the lifted ban's appeal is left")
	}
}

// The ban keeps the banned user's part of the report (the still, its own lines) until it ends;
// the reporter's part (its note, label and lines) is kept for the console no longer than the
// report itself would have lived (REPORT_TTL), however long the ban.
func TestAppealKeepsTheReportersPartNoLongerThanTheReport(t *testing.T) {
	rs := redistest.Start(t)
	inst := startInstance(t, testConfig(t, rs.URL(), safetyConfig(t, func(c *Config) { c.ReportTTL, c.ReporterAge = time.Hour, time.Minute })))
	const userIP = "198.51.100.62"
	own, _, _ := reportedAndBanned(t, inst, inst, inst, "198.51.100.61", userIP) // a 24 h ban
	banID, _, _ := strings.Cut(own.Appeal, ".")
	keys := store.NewKeys(inst.cfg.KeyPrefix)
	rdb := inst.app.Redis

	rec := rdb.HGetAll(t.Context(), keys.Appeal(banID)).Val()
	if _, ok := rec["note"]; ok || rec["reporter"] != "" || strings.Contains(rec["chat"], "SECRET") || !strings.Contains(rec["chat"], "the user's own line") {
		t.Fatalf("the record that lives as long as the ban holds %v, want the user's own part only", rec)
	}
	if ttl := rdb.TTL(t.Context(), keys.Appeal(banID)).Val(); ttl <= 23*time.Hour {
		t.Fatalf("the user's part lives %v, want the ban's 24 h", ttl)
	}
	if ttl := rdb.TTL(t.Context(), keys.AppealReport(banID)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("the reporter's part lives %v, want at most what the report had left of REPORT_TTL (1 h)", ttl)
	}

	if status, _ := appealDo(t, inst, http.MethodPost, userIP, own.Appeal, "application/json", `{"text":"it was not me"}`); status != http.StatusNoContent {
		t.Fatalf("appeal: %d", status)
	}
	report := func() *safety.AppealReport {
		l := consoleGet[appealList](t, inst, "/mod/api/appeals")
		if len(l.Appeals) != 1 || l.Appeals[0].Report == nil {
			t.Fatalf("the queue: %+v", l)
		}
		return l.Appeals[0].Report
	}
	if r := report(); r.Note != "I am Alice from Lyon" || len(r.Chat) != 2 || r.Reporter == "" {
		t.Fatalf("while the report would live, the console shows %+v, want the whole report", r)
	}
	// its hour over (Redis's own expiry, which this DEL stands for)
	if err := rdb.Del(t.Context(), keys.AppealReport(banID)).Err(); err != nil {
		t.Fatal(err)
	}
	want := []wire.ChatLine{{From: "stranger", Text: "the user's own line"}}
	if r := report(); r.Note != "" || r.Reporter != "" || !slices.Equal(r.Chat, want) || r.Frame == "" {
		t.Fatalf("after REPORT_TTL the console shows %+v, want the user's own still and lines only", r)
	}
}
