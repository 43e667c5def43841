package main

import (
	"context"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 25, part 4: the console shows, for every report, what of the reported user's address
// its reporter shares (the very address, its network, or nothing), and how many distinct users
// the reported address had in the last hour; across two instances, with real redis-server.
func TestConsoleShowsSharedAddressesAndUsers(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t))
	report := func(reporterAddr, reportedAddr string) {
		t.Helper()
		r, x := dial(t, insts[0].wsURL(), from(reporterAddr)), dial(t, insts[1].wsURL(), from(reportedAddr))
		pair(t, r, x)
		r.sendRaw(reportFrame(t, map[string]any{"reason": "harassment"}))
		r.expect(wire.EvReported, nil)
		r.close()
		x.close()
	}
	// three more people on the address reported first, on either instance
	for _, inst := range []*testInstance{insts[0], insts[1], insts[0]} {
		dial(t, inst.wsURL(), from("198.51.100.50"))
	}
	report("203.0.113.9", "198.51.100.50")                  // strangers: 4 users on the reported address
	report("198.51.100.60", "198.51.100.60")                // one household: the reporter and 1 other
	report("2001:db8:7:1::1", "2001:db8:7:2::1")            // two /64s of one /48
	report("2001:db8:8:1::1", "2001:db8:8:1:ffff:ffff:0:1") // one /64

	got := map[safety.Sharing][]int64{}
	for _, r := range consoleGet[safety.ReportPage](t, insts[1], "/mod/api/reports").Reports {
		got[r.Shared] = append(got[r.Shared], r.ReportedUsers)
		if r.SharedAddress != (r.Shared != safety.ShareNone) {
			t.Errorf("report %s: shared %q but shared_address %v", r.ID, r.Shared, r.SharedAddress)
		}
	}
	if n := got[safety.ShareNone]; len(n) != 1 || n[0] != 4 {
		t.Errorf("reporter on another address: users %v, want one report of an address with 4", n)
	}
	if n := got[safety.ShareAddress]; len(n) != 2 || n[0] != 2 || n[1] != 2 {
		t.Errorf("reporter on the reported address: users %v, want two reports of addresses with 2 (reporter and reported)", n)
	}
	if n := got[safety.ShareNetwork]; len(n) != 1 || n[0] != 1 {
		t.Errorf("reporter on another /64 of the /48: users %v, want one report of an address with 1", n)
	}
}

// The distinct users of an address are those of the last hour: a report still open after it
// shows none (real Redis, a clock the test moves).
func TestDistinctUsersExpireAfterTheHour(t *testing.T) {
	clock := time.Now()
	st := storeFor(t, safety.Config{ReportTTL: 7 * 24 * time.Hour}, func() time.Time { return clock })
	ctx := context.Background()
	r := st.genuine("203.0.113.9", "198.51.100.50")
	for _, id := range []wire.ClientID{r.Reported, "SOMEONEELSESOMEONEELSESOME", r.Reported} {
		if _, err := st.Opened(ctx, r.ReportedAddr, id); err != nil {
			t.Fatal(err)
		}
	}
	st.file(t, r)
	users := func() int64 {
		t.Helper()
		page, err := st.OpenReports(ctx, safety.Cursor{}, "")
		if err != nil || len(page.Reports) != 1 {
			t.Fatalf("reports %+v, %v", page, err)
		}
		return page.Reports[0].ReportedUsers
	}
	if n := users(); n != 2 {
		t.Fatalf("distinct users %d, want 2", n)
	}
	clock = clock.Add(45 * time.Minute)
	if n := users(); n != 2 {
		t.Fatalf("45 min later: distinct users %d, want still 2", n)
	}
	clock = clock.Add(31 * time.Minute)
	if n := users(); n != 0 {
		t.Fatalf("76 min later: distinct users %d, want 0", n)
	}
}
