package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 6: one rule for IPv6 granularity. An address is an IPv4 address or an IPv6
// /64: the connection cap counts it, a ban covers it, a report is about it. Its network is
// the IPv4 address or the IPv6 /48: one reporter, one report rate, kept apart as one, and a
// ban of any of its addresses makes every reporter in it one in bad standing. Both come from
// one hash (addressHash), so no check can use the other's key.

func TestOneAddressRule(t *testing.T) {
	secret := []byte("s")
	hash := func(ip string) string { return safety.AddressHash(secret, safety.AddressKey(netip.MustParseAddr(ip))) }
	for _, tc := range []struct {
		a, b              string
		sameAddr, sameNet bool
	}{
		{"2001:db8:1:1::1", "2001:db8:1:1:ffff::9", true, true}, // one /64
		{"2001:db8:1:1::1", "2001:db8:1:2::1", false, true},     // one /48
		{"2001:db8:1:1::1", "2001:db8:2:1::1", false, false},
		{"198.51.100.1", "198.51.100.1", true, true},
		{"198.51.100.1", "198.51.100.2", false, false}, // IPv4: the address is the network
		{"198.51.100.1", "::ffff:198.51.100.1", true, true},
	} {
		ha, hb := hash(tc.a), hash(tc.b)
		if (ha == hb) != tc.sameAddr || (safety.NetworkOf(ha) == safety.NetworkOf(hb)) != tc.sameNet || len(ha) != 32 || !strings.HasPrefix(ha, safety.NetworkOf(ha)) {
			t.Errorf("%s / %s: %s / %s; want the same address %v, the same network %v", tc.a, tc.b, ha, hb, tc.sameAddr, tc.sameNet)
		}
	}
}

// The per-address cap counts the /64, across instances.
func TestIPv6CapCountsTheAddress(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.MaxConnsPerIP = 1 }))
	dial(t, insts[0].wsURL(), from("2001:db8:9:1::1"))
	if _, err := tryDial(t, insts[1].wsURL(), from("2001:db8:9:1::2")); err == nil {
		t.Fatal("a second connection of one /64 was let in")
	}
	dial(t, insts[1].wsURL(), from("2001:db8:9:2::1")) // another /64 of the /48: its own
}

// A ban covers the /64 it was made for; a reporter anywhere in its /48 counts for nothing,
// and the /48's reports share one rate.
func TestIPv6BansAndReportsUseOneRule(t *testing.T) {
	insts, _ := startCluster(t, 2, safetyConfig(t, func(c *Config) { c.ReportRate, c.MinConversation = 3, 0 }))
	for _, ip := range []string{"2001:db8:77:1::5", "2001:db8:77:2::5", "198.51.100.40"} {
		ageNetwork(t, insts[0], ip)
	}
	bad, v := dial(t, insts[0].wsURL(), from("2001:db8:77:1::5")), dial(t, insts[1].wsURL(), from("198.51.100.40"))
	pair(t, bad, v)
	v.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
	v.expect(wire.EvReported, nil)
	list := consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports")
	consoleDo(t, insts[0], http.MethodPost, "/mod/api/reports/"+list.Reports[0].ID+"/ban", `{"duration":"24h","reason":"spam"}`, http.StatusOK)
	expectBanned(t, bad)
	// the ban: the /64, on every instance, and not the next /64 of its /48
	for _, inst := range insts {
		dialBanned(t, inst.wsURL(), from("2001:db8:77:1::abcd"))
	}
	r := dial(t, insts[1].wsURL(), from("2001:db8:77:2::5"))
	// reports: from the banned /64's network, none counts; the network's rate is one
	x := dial(t, insts[0].wsURL(), from("192.0.2.90"))
	pair(t, r, x)
	say(r, x, "hi")
	say(x, r, "something vile")
	reportWith(t, r, "insults", "something vile")
	page := consoleGet[safety.ReportPage](t, insts[0], "/mod/api/reports")
	if len(page.Reports) != 1 || page.Reports[0].Counts || strings.Join(page.Reports[0].Why, ",") != "banned_reporter" {
		t.Fatalf("a report from the /48 of a banned /64: %+v", page.Reports)
	}
	for i, ip := range []string{"2001:db8:77:3::1", "2001:db8:77:4::1", "2001:db8:77:5::1"} {
		a, b := dial(t, insts[0].wsURL(), from(ip)), dial(t, insts[1].wsURL(), from(fmt.Sprint("192.0.2.", 91+i)))
		pair(t, a, b)
		a.sendRaw(reportFrame(t, map[string]any{"reason": "spam"}))
		if i < 2 {
			a.expect(wire.EvReported, nil) // the /48's second and third of REPORT_RATE = 3
		} else {
			a.expectError(wire.ErrRateLimited)
		}
		b.closeClean()
	}
}
