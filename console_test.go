package main

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 10, through the console's API: every ban, a page at a time, found and lifted
// (a 30-day one included), and pages of reports that skip none.
func TestConsoleListsEveryBan(t *testing.T) {
	_, redisURL := startMiniredis(t)
	inst := startInstance(t, testConfig(t, redisURL, safetyConfig(t)))
	sf := inst.app.Hub.safety
	for i := range safety.MaxListed + 5 {
		f, err := sf.File(t.Context(), safety.Report{Reporter: wire.ClientID(wire.NewID()), Reported: wire.ClientID(wire.NewID()),
			ReporterAddr: sf.AddrHash(fmt.Sprint("198.51.100.", i)), ReportedAddr: sf.AddrHash(fmt.Sprint("192.0.2.", i)),
			Match: wire.MatchID(wire.NewID()), ReportRequest: wire.ReportRequest{Reason: "spam"}})
		if err != nil {
			t.Fatal(err)
		}
		d := "24h"
		if i == 0 {
			d = "720h" // ends last: on the last page
		}
		consoleDo(t, inst, http.MethodPost, "/mod/api/reports/"+f.ID+"/ban", `{"duration":"`+d+`","reason":"ban number `+fmt.Sprint(i)+`"}`, http.StatusOK)
	}
	type page struct {
		Bans  []web.BanView
		Total int
		Next  string
	}
	var all []web.BanView
	for path := "/mod/api/bans"; ; {
		p := consoleGet[page](t, inst, path)
		if p.Total != safety.MaxListed+5 {
			t.Fatalf("total %d", p.Total)
		}
		all = append(all, p.Bans...)
		if p.Next == "" {
			break
		}
		path = "/mod/api/bans?after=" + url.QueryEscape(p.Next)
	}
	long := all[len(all)-1]
	if len(all) != safety.MaxListed+5 || long.Reason != "ban number 0" || time.Until(long.Until) < 29*24*time.Hour {
		t.Fatalf("listed %d bans, the last %+v", len(all), long)
	}
	found := consoleGet[page](t, inst, "/mod/api/bans?source=moderator&q="+url.QueryEscape("NUMBER 0"))
	if len(found.Bans) != 1 || found.Bans[0].ID != long.ID {
		t.Fatalf("found %+v", found.Bans)
	}
	consoleDo(t, inst, http.MethodDelete, "/mod/api/bans/"+long.ID, "", http.StatusNoContent)
	if p := consoleGet[page](t, inst, "/mod/api/bans?q="+long.ID); len(p.Bans) != 0 {
		t.Fatalf("the lifted ban is still listed: %+v", p.Bans)
	}
	for _, bad := range []string{"/mod/api/bans?source=robot", "/mod/api/bans?after=yesterday", "/mod/api/reports?before=-5"} {
		consoleDo(t, inst, http.MethodGet, bad, "", http.StatusBadRequest)
	}
	// the console's older cursor, a bare millisecond, still pages
	consoleGet[safety.ReportPage](t, inst, fmt.Sprint("/mod/api/reports?before=", time.Now().Add(time.Minute).UnixMilli()))
}

// A ban issued before addresses had a network part is stored under the address's old hash: it
// still turns the address away until it ends, and a moderator lists and lifts it as any.
func TestBansFromBeforeTheUpgradeStillHold(t *testing.T) {
	_, redisURL := startMiniredis(t)
	inst := startInstance(t, testConfig(t, redisURL, safetyConfig(t)))
	keys, old := store.NewKeys(inst.cfg.KeyPrefix), inst.app.Hub.safety.LegacyAddrHash("198.51.100.99")
	until := time.Now().Add(48 * time.Hour)
	rdb := inst.app.Redis
	// as ban.lua wrote it then
	if err := rdb.HSet(t.Context(), keys.Ban(old), "id", "OLDBAN", "until", until.UnixMilli(), "reason", "spam", "source", "moderator",
		"created", time.Now().UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Expire(t.Context(), keys.Ban(old), 48*time.Hour)
	rdb.Set(t.Context(), keys.BanRecord("OLDBAN"), old, 48*time.Hour)
	rdb.ZAdd(t.Context(), keys.Bans(), redis.Z{Score: float64(until.UnixMilli()), Member: "OLDBAN"})
	if b := dialBanned(t, inst.wsURL(), from("198.51.100.99")); b.Reason != "spam" {
		t.Fatalf("banned %+v", b)
	}
	dial(t, inst.wsURL(), from("198.51.100.98")) // not anyone else
	consoleDo(t, inst, http.MethodDelete, "/mod/api/bans/OLDBAN", "", http.StatusNoContent)
	dial(t, inst.wsURL(), from("198.51.100.99"))
}
