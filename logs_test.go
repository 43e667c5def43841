package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 8: the README promises that no client address is written to a log, and the
// rate-limit close logged ip=… at WARN (compose's JSON logs go to disk). This runs the real
// binary at LOG_LEVEL=debug through a whole scenario, with clients behind a trusted proxy
// (X-Forwarded-For) and clients connecting directly from loopback addresses of their own, and
// looks for every test address in every line the process wrote.
func TestNoClientAddressInLogs(t *testing.T) {
	rs := redistest.Start(t)
	const modToken = "log-test-moderator-token"
	p := startProc(t, processEnv(rs.URL(), "LOG_LEVEL=debug", "TRUSTED_PROXIES=127.0.0.1/32", "MAX_CONNS_PER_IP=3",
		"RATE_LIMIT=20", "RATE_BURST=20", "RATE_STRIKES=5", "POW_MAX_NUMBER=1000", "MOD_TOKEN="+modToken,
		"BAN_SECRET=log-test-ban-secret", "READ_LIMIT=65536", "REMATCH_COOLDOWN=0", "RESUME_GRACE=5s"))
	const (
		viaProxy1 = "198.51.100.201"
		viaProxy2 = "203.0.113.202"
		viaProxy6 = "2001:db8:4242:1::77"
		direct    = "127.77.0.9" // a loopback address of its own: the server sees it as the peer
		direct2   = "127.77.0.10"
	)
	searched := func(c *wsClient) {
		t.Helper()
		c.send(wire.EvFindMatch, map[string]any{"pow": solve(t, c.hello.Pow)})
	}
	directly := func(local string) websocket.Dialer {
		return websocket.Dialer{HandshakeTimeout: 5 * time.Second,
			NetDialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).DialContext}
	}
	dialDirect := func(local string) *wsClient {
		t.Helper()
		c, err := tryDialWith(t, directly(local), p.wsURL(), nil)
		if err != nil {
			t.Fatalf("dial from %s: %v", local, err)
		}
		return c
	}

	// a direct client floods chat until it is closed for it (1008)
	flood := dialDirect(direct)
	for range 200 {
		if flood.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"chat","data":{"text":"spam"}}`)) != nil {
			break // closed
		}
	}
	expectClose(t, flood, "1008")
	// another floods and resets its connection under the server's close
	d2 := directly(direct2)
	raw, resp, err := d2.Dial(p.wsURL(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if raw.WriteMessage(websocket.TextMessage, []byte(`{"event":"typing","data":{"typing":true}}`)) != nil {
			break
		}
	}
	_ = raw.NetConn().(*net.TCPConn).SetLinger(0)
	raw.NetConn().Close()

	// the per-address cap turns the fourth connection of an address away
	victims := []*wsClient{dial(t, p.wsURL(), from(viaProxy1)), dial(t, p.wsURL(), from(viaProxy1)), dial(t, p.wsURL(), from(viaProxy1))}
	if _, err := tryDial(t, p.wsURL(), from(viaProxy1)); err == nil {
		t.Fatal("a fourth connection of one address was let in")
	}
	// a conversation, a report, a wrong and a right moderator token, a ban
	reporter := dial(t, p.wsURL(), from(viaProxy2))
	searched(victims[0])
	victims[0].expect(wire.EvWaiting, nil)
	searched(reporter)
	reporter.expect(wire.EvMatchFound, nil)
	victims[0].expect(wire.EvMatchFound, nil)
	reporter.send(wire.EvChat, map[string]any{"text": "hello"})
	victims[0].expect(wire.EvChat, nil)
	reporter.sendRaw(reportFrame(t, map[string]any{"reason": "harassment", "note": "from " + viaProxy1}))
	reporter.expect(wire.EvReported, nil)
	modRequest := func(method, path, token, addr, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, p.httpURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", addr)
		resp, err := probe.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	if status, _ := modRequest(http.MethodGet, "/mod/api/reports", "wrong-token-wrong-token", viaProxy6, ""); status != http.StatusUnauthorized {
		t.Fatalf("a wrong moderator token: %d", status)
	}
	status, body := modRequest(http.MethodGet, "/mod/api/reports?status=open", modToken, viaProxy6, "")
	var list struct {
		Reports []struct {
			ID string `json:"id"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil || len(list.Reports) == 0 {
		t.Fatalf("open reports: %d %s %v", status, body, err)
	}
	if status, body := modRequest(http.MethodPost, "/mod/api/reports/"+list.Reports[0].ID+"/ban", modToken, viaProxy6,
		`{"duration":"1h","reason":"harassment"}`); status != http.StatusOK {
		t.Fatalf("ban: %d %s", status, body)
	}
	for _, v := range victims {
		expectBanned(t, v)
	}
	if c, err := tryDial(t, p.wsURL(), from(viaProxy1)); err == nil {
		expectBanned(t, c) // the banned address is turned away
	}

	// too large, bad input and a proof of work that is wrong, from an IPv6 client
	six := dial(t, p.wsURL(), from(viaProxy6))
	six.sendRaw(`{"event":"nope"}`)
	six.expectError(wire.ErrUnknownEvent)
	six.sendRaw(`not json`)
	six.expectError(wire.ErrBadJSON)
	six.send(wire.EvFindMatch, map[string]any{"pow": "d3Jvbmc="})
	six.expectError(wire.ErrPowRequired)
	// over READ_LIMIT (the server may close before the client has written it all)
	_ = six.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"chat","data":{"text":"`+strings.Repeat("x", 70_000)+`"}}`))
	expectClose(t, six, "1009")
	// an upgrade from another site's page, refused (logged at debug)
	if _, err := tryDial(t, p.wsURL(), http.Header{"X-Forwarded-For": {viaProxy6}, "Origin": {"https://elsewhere.example"}}); err == nil {
		t.Fatal("a foreign origin was let in")
	}

	// a conversation whose one side drops without a close frame and resumes from elsewhere
	a, b := dial(t, p.wsURL(), from(viaProxy2)), dial(t, p.wsURL(), from(viaProxy6))
	searched(a)
	a.expect(wire.EvWaiting, nil)
	searched(b)
	b.expect(wire.EvMatchFound, nil)
	a.expect(wire.EvMatchFound, nil)
	a.close()
	resumed := dial(t, p.wsURL()+"?resume="+a.hello.ResumeToken, from(viaProxy6))
	if !resumed.hello.Resumed {
		t.Fatalf("resume: %+v", resumed.hello)
	}
	resumed.send(wire.EvLeave, nil)
	b.expect(wire.EvPartnerLeft, nil)

	p.signal(syscall.SIGTERM) // and the shutdown's lines
	p.waitExit(15 * time.Second)
	p.mu.Lock()
	logs := p.log.String()
	p.mu.Unlock()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "sustained rate-limit violation") {
		t.Fatal("the log has no debug lines or no rate-limit close: the test does not see what the server logs")
	}
	for _, addr := range []string{viaProxy1, viaProxy2, viaProxy6, "2001:db8:4242:1::", "2001:db8:4242::", direct, direct2} {
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, addr) {
				t.Errorf("a log line has the client address %s:\n%s", addr, line)
			}
		}
	}
}

// expectClose waits for the server to close c with code (skipping whatever came before).
func expectClose(t *testing.T, c *wsClient, code string) {
	t.Helper()
	for {
		ev, err := c.nextEvent(10 * time.Second)
		if err != nil {
			t.Fatalf("client %s: no close %s: %v", c.id(), code, err)
		}
		if ev.Event == "close" {
			if string(ev.Data) != code {
				t.Fatalf("client %s closed with %s, want %s", c.id(), ev.Data, code)
			}
			return
		}
	}
}

// Connection errors name both ends, and so do the HTTP server's own lines: a log line gets
// them without the addresses.
func TestConnectionErrorsAreLoggedWithoutAddresses(t *testing.T) {
	opErr := &net.OpError{Op: "write", Net: "tcp", Source: &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 8080},
		Addr: &net.TCPAddr{IP: net.ParseIP("2001:db8:4242:1::77"), Port: 51234}, Err: syscall.EPIPE}
	v4 := &net.OpError{Op: "read", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("203.0.113.202"), Port: 4000}, Err: syscall.ECONNRESET}
	for _, err := range []error{opErr, v4, fmt.Errorf("write close frame: %w", opErr)} {
		got := safety.PeerErr(err)
		if strings.Contains(got, "2001:db8") || strings.Contains(got, "203.0.113") || strings.Contains(got, "10.0.0.1") {
			t.Errorf("%q logged as %q", err, got)
		}
		if !strings.Contains(got, "tcp") || !(strings.Contains(got, "broken pipe") || strings.Contains(got, "reset")) {
			t.Errorf("%q logged as %q: what went wrong is gone too", err, got)
		}
	}
	var out strings.Builder
	safety.HTTPErrorLog(slog.New(slog.NewTextHandler(&out, nil))).Printf("http: panic serving %s: boom", "198.51.100.7:4000")
	safety.HTTPErrorLog(slog.New(slog.NewTextHandler(&out, nil))).Printf("http: panic serving %s: boom", "[2001:db8::9]:4000")
	if strings.Contains(out.String(), "198.51.100.7") || strings.Contains(out.String(), "2001:db8") || strings.Count(out.String(), "panic serving") != 2 {
		t.Fatalf("the HTTP server's log: %s", out.String())
	}
}
