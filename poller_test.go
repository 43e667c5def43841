//go:build linux

package main

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/wire"
)

// readPumps counts the goroutines running a connection's read pump in this process.
func readPumps() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), ".(*Client).readPump(")
}

// Idle connections park: no read pump goroutine each, also after they answered pings (the
// pongs are taken at the message boundary), and a client that answers pings is not dropped
// although it sends nothing else for longer than twice the ping interval. Parked clients
// still get and send everything.
func TestIdleConnectionsParkAndStayAlive(t *testing.T) {
	_, url := startMiniredis(t)
	// 400 ms, not less: a client silent for two intervals is dropped, and on a loaded machine
	// with the race detector one of 60 test clients' pongs can lag 200 ms behind its ping.
	inst := startInstance(t, testConfig(t, url, func(c *Config) { c.PingInterval = 400 * time.Millisecond }))
	const n = 60
	clients := make([]*websocket.Conn, n)
	pings := make([]atomic.Int32, n)
	for i := range clients {
		conn, _, err := websocket.DefaultDialer.Dial(inst.wsURL(), nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetPingHandler(func(data string) error {
			pings[i].Add(1)
			return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		clients[i] = conn
		go func() { // reads (and so answers pings) until the test ends
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	waitFor(t, 10*time.Second, "every client pinged 4 times (twice the read deadline)", func() bool {
		for i := range pings {
			if pings[i].Load() < 4 {
				return false
			}
		}
		return true
	})
	if got := inst.app.Hub.ClientCount(); got != n {
		t.Fatalf("%d clients connected after the pings, want %d: answering pings must keep a parked client alive", got, n)
	}
	waitFor(t, 5*time.Second, "the read pumps to park", func() bool { return readPumps() <= n/10 })

	// parked clients still talk
	a, b := dial(t, inst.wsURL(), nil), dial(t, inst.wsURL(), nil)
	pair(t, a, b)
	a.send(wire.EvChat, map[string]string{"text": "still here"})
	var chat wire.ChatData
	b.expect(wire.EvChat, &chat)
	if string(chat.Text) != `"still here"` {
		t.Fatalf("chat %q", chat.Text)
	}
}

// A parked client that answers no ping is dropped (its read finds the deadline passed when the
// ping round wakes it), as one waiting in a read always was.
func TestSilentParkedClientIsDropped(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, func(c *Config) { c.PingInterval = 100 * time.Millisecond }))
	conn, _, err := websocket.DefaultDialer.Dial(inst.wsURL(), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetPingHandler(func(string) error { return nil }) // no pong
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for {
		_, _, err = conn.ReadMessage()
		if err != nil {
			break
		}
	}
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server did not drop a client that answers no ping within 5 s (50 intervals)")
	}
	waitFor(t, 5*time.Second, "the drop counted", func() bool {
		return metricValue(scrapeMetrics(t, inst.srv.URL+"/metrics"), "gomegle_disconnects_total", map[string]string{"cause": "dropped"}) == 1
	})
}
