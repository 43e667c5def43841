package main

import (
	"net/http"
	"testing"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 7: a reported user and its reporter are kept apart by address (their
// networks) as well as by identity while the report is open: a new tab from the same
// address does not meet the reporter again, on any instance; once the report is closed, it
// may.
func TestReportedUserCannotComeBackAsANewIdentity(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t))
	r, x := dial(t, insts[0].wsURL(), from("198.51.100.31")), dial(t, insts[1].wsURL(), from("198.51.100.32"))
	pair(t, r, x)
	r.sendRaw(reportFrame(t, map[string]any{"reason": "harassment"}))
	r.expect(wire.EvReported, nil)
	x.closeClean()
	r.expect(wire.EvPartnerLeft, nil)

	x2 := dial(t, insts[1].wsURL(), from("198.51.100.32")) // a new identity, the same address
	x2.send(wire.EvFindMatch, nil)
	x2.expect(wire.EvWaiting, nil)
	waitsForSomeoneNew(t, r) // kept apart from the reported user's address
	// someone new meets one of them, and the next someone new the other
	newcomersMeet(t, insts[0].wsURL(), []*wsClient{r, x2}, from("203.0.113.33"), from("203.0.113.34"))

	// a dismissed report is closed: the two may meet again
	list := consoleGet[safety.ReportPage](t, insts[1], "/mod/api/reports")
	consoleDo(t, insts[1], http.MethodPost, "/mod/api/reports/"+list.Reports[0].ID+"/dismiss", "", http.StatusNoContent)
	x3 := dial(t, insts[1].wsURL(), from("198.51.100.32"))
	r2 := dial(t, insts[0].wsURL(), from("198.51.100.31"))
	pair(t, x3, r2)
}
