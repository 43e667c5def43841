package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/wire"
)

// Issue 21, item 5: control frames skipped the rate limit. 10 sockets sent 2.85 M pings in
// 8.3 s and got 2.65 M pongs, none was closed, and the server burned a core; the same with
// chat closed all 10 in 0.1 s. Pings and pongs now count like messages.
func TestControlFrameFloodIsRateLimited(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, func(c *Config) { c.RateLimit, c.RateBurst, c.RateStrike = 50, 200, 50 }))
	const bound = 100_000 // frames each flooder may send: the chat flood is closed after ~250
	for _, kind := range []int{websocket.PingMessage, websocket.PongMessage} {
		t.Run(map[int]string{websocket.PingMessage: "pings", websocket.PongMessage: "pongs"}[kind], func(t *testing.T) {
			c := dial(t, inst.wsURL(), nil)
			sent := 0
			for ; sent < bound; sent++ {
				if err := c.conn.WriteControl(kind, nil, time.Now().Add(time.Second)); err != nil {
					break // the server closed the socket
				}
			}
			ev, err := c.nextEvent(10 * time.Second)
			if err != nil || ev.Event != "close" || string(ev.Data) != "1008" {
				t.Fatalf("after %d control frames the socket got %v %s %v, want close 1008 like a chat flood", sent, ev.Event, ev.Data, err)
			}
			t.Logf("closed with 1008 after %d control frames were written", sent)
		})
	}
	t.Run("a client that answers pings is not touched", func(t *testing.T) {
		c := dial(t, inst.wsURL(), nil)
		for range 100 { // a pong every ping round for more than half an hour
			if err := c.conn.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		c.send(wire.EvFindMatch, nil)
		c.expect(wire.EvWaiting, nil)
	})
}

// unfinishedMessage opens a text message on conn and writes size bytes of it as non-final
// frames (gorilla flushes a frame whenever its write buffer is full), without ever ending it.
func unfinishedMessage(conn *websocket.Conn, size int) error {
	w, err := conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	head := `{"event":"report","data":{"reason":"other","note":"`
	if _, err := w.Write([]byte(head)); err != nil {
		return err
	}
	chunk := []byte(strings.Repeat("x", 16<<10))
	for written := len(head); written < size; written += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	return nil // never closed: the message never ends
}

// unfinishedSocket is an attacker's socket: it starts a huge message, never finishes it, and
// keeps itself alive with a pong every keepAlive. closed reports the close code (or -1) when
// the server ends the socket.
type unfinishedSocket struct {
	conn   *websocket.Conn
	closed chan int
}

func startUnfinished(t *testing.T, conn *websocket.Conn, size int, keepAlive time.Duration) *unfinishedSocket {
	t.Helper()
	u := &unfinishedSocket{conn: conn, closed: make(chan int, 1)}
	var wmu sync.Mutex // the writer below and the pongs share the connection's write side
	go func() {
		for {
			_, _, err := conn.ReadMessage()
			if err != nil {
				code := -1
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					code = ce.Code
				}
				u.closed <- code
				return
			}
		}
	}()
	go func() {
		wmu.Lock()
		err := unfinishedMessage(conn, size)
		wmu.Unlock()
		if err != nil {
			return // closed under it
		}
		tick := time.NewTicker(keepAlive)
		defer tick.Stop()
		for range tick.C {
			if conn.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second)) != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return u
}

// Issue 21, item 4: a socket that starts a message just under READ_LIMIT and never finishes
// it, sending a pong every few seconds, held about 545 KB for as long as it liked: 300 such
// sockets from 3 addresses held 160-167 MiB, no proof of work needed. Now a connection that
// is neither in a conversation nor within its report window may send only small messages, a
// message must arrive whole within MESSAGE_TIMEOUT, and one address's unfinished messages
// share UNFINISHED_BYTES_PER_IP.
func TestUnfinishedMessagesCannotPinMemory(t *testing.T) {
	rs := redistest.Start(t)
	p := startProc(t, processEnv(rs.URL(), "TRUSTED_PROXIES=127.0.0.1/32", "PING_INTERVAL=2s", "MESSAGE_TIMEOUT=3s",
		"UNFINISHED_BYTES_PER_IP=1048576", "REMATCH_COOLDOWN=0"))
	heap := func() float64 { return metricValue(p.metrics(), "go_memstats_heap_inuse_bytes", nil) }
	dialFrom := func(addr string) *websocket.Conn {
		conn := dialRaw(t, p.wsURL(), http.Header{"X-Forwarded-For": {addr}})
		if _, _, err := conn.ReadMessage(); err != nil { // hello
			t.Fatal(err)
		}
		return conn
	}
	const size = 300 << 10
	base := heap()
	var socks []*unfinishedSocket
	// 60 sockets from 3 addresses that never searched
	for i := range 60 {
		socks = append(socks, startUnfinished(t, dialFrom(fmt.Sprintf("198.51.100.%d", i%3+1)), size, 500*time.Millisecond))
	}
	// 20 sockets from 2 addresses in a conversation (with one another), where a report may be large
	for i := range 10 {
		addr := fmt.Sprintf("203.0.113.%d", i%2+1)
		a, b := dialFrom(addr), dialFrom(addr)
		expectRaw := func(c *websocket.Conn, event string) {
			var ev inEvent
			if err := c.ReadJSON(&ev); err != nil || ev.Event != event {
				t.Fatalf("pair %d: got %s %s %v, want %s", i, ev.Event, ev.Data, err, event)
			}
		}
		find := map[string]any{"event": wire.EvFindMatch, "data": map[string]any{}}
		if err := a.WriteJSON(find); err != nil {
			t.Fatal(err)
		}
		expectRaw(a, wire.EvWaiting)
		if err := b.WriteJSON(find); err != nil {
			t.Fatal(err)
		}
		expectRaw(b, wire.EvMatchFound)
		expectRaw(a, wire.EvMatchFound)
		socks = append(socks, startUnfinished(t, a, size, 500*time.Millisecond), startUnfinished(t, b, size, 500*time.Millisecond))
	}
	// every socket is closed within the bound, whatever pongs it sends; the heap stays low meanwhile
	attackStart := time.Now()
	const bound = 15 * time.Second
	deadline := time.After(bound)
	peak := 0.0
	sample := time.NewTicker(200 * time.Millisecond)
	defer sample.Stop()
	codes := map[int]int{}
	for left := len(socks); left > 0; {
		select {
		case <-sample.C:
			peak = max(peak, heap())
			continue
		case <-deadline:
			t.Fatalf("%d of %d sockets holding an unfinished message were not closed within %v (closed: %v; heap grew by %.1f MiB)",
				left, len(socks), bound, codes, (peak-base)/(1<<20))
		default:
		}
		for _, s := range socks {
			select {
			case code := <-s.closed:
				codes[code]++
				left--
			default:
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	peak = max(peak, heap())
	t.Logf("all closed within %v: %v; server heap grew by at most %.1f MiB during the attack", time.Since(attackStart).Round(100*time.Millisecond), codes, (peak-base)/(1<<20))
	// measured: about 8 MiB, garbage between collections included (43.5 MiB before the fix)
	const heapBound = 16 << 20
	if peak-base > heapBound {
		t.Fatalf("server heap grew by %.1f MiB, bound %d MiB", (peak-base)/(1<<20), heapBound>>20)
	}
}
