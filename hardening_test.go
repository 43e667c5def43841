package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/wire"
)

// Hardening: what an attacker or an unlucky operator would try. Each test names the hole it
// closes.

// relayGrowth is the most a relayed frame may exceed the message it came in: the envelope
// around the data, and the sender's id.
const relayGrowth = 96

func TestRelayNeverGrowsAMessage(t *testing.T) {
	html := strings.Repeat(`<script>&amp;</script>`, 2800) // ~62 KB of characters json.Marshal escapes
	for _, tc := range []struct {
		name, frame string
	}{
		{"a signal payload full of HTML", `{"event":"signal","data":{"type":"offer","payload":{"sdp":"` + html + `"}}}`},
		{"a signal payload with line separators", `{"event":"signal","data":{"type":"offer","payload":"` + strings.Repeat("\u2028\u2029", 10000) + `"}}`},
		{"a chat full of HTML", `{"event":"chat","data":{"text":"` + strings.Repeat("<&>", 666) + `"}}`},
		{"a chat of line separators", `{"event":"chat","data":{"text":"` + strings.Repeat("a\u2028", 1000) + `"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, problem := decode("SENDERSENDERSENDERSENDER12", []byte(tc.frame))
			if problem != nil {
				t.Fatalf("refused: %s", problem.Message)
			}
			if len(req.frame) > len(tc.frame)+relayGrowth {
				t.Fatalf("%d bytes in, %d bytes out", len(tc.frame), len(req.frame))
			}
			var out wire.Inbound
			if err := json.Unmarshal(req.frame, &out); err != nil || out.Event != req.event {
				t.Fatalf("relayed frame is not a %s event: %v", req.event, err)
			}
		})
	}
}

func TestPublishQueueIsBoundedInBytes(t *testing.T) {
	// the bus is not running: nothing drains its queue
	bus := NewBus(nil, Keys{"{t}"}, "self", 1000, 100<<10, slog.New(slog.NewTextHandler(io.Discard, nil)), NewMetrics())
	frame := make([]byte, 30<<10)
	accepted := 0
	for range 10 {
		if bus.Publish("other", &Envelope{Kind: KindRelay, To: "A", From: "B", Match: "M", Frame: frame}) == nil {
			accepted++
		}
	}
	if accepted != 3 {
		t.Fatalf("%d 30 KB envelopes fit in a 100 KB publish queue, want 3", accepted)
	}
}

// slowReaderBound is how soon a client that reads one frame every 2 s while its partner sends
// large signals at the allowed rate is disconnected, and heapBound how much server heap it may
// pin meanwhile (README: failure model).
const (
	slowReaderBound = 15 * time.Second
	heapBound       = 24 << 20
)

func TestSlowReaderCannotPinMemory(t *testing.T) {
	rs := redistest.Start(t)
	p := startProc(t, processEnv(rs.URL(), "RATE_LIMIT=50", "RATE_BURST=200"))

	// the slow reader: a small socket buffer, one frame every 2 s
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		conn, err := net.Dial(network, addr)
		if err == nil {
			err = conn.(*net.TCPConn).SetReadBuffer(4096)
		}
		return conn, err
	}}
	slow, _, err := d.Dial(p.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop, readerDone := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		slow.Close()
		<-readerDone
	})
	go func() {
		defer close(readerDone)
		for {
			if _, _, err := slow.ReadMessage(); err != nil {
				return
			}
			select { // the reader under test is slow on purpose
			case <-stop:
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	if err := slow.WriteJSON(map[string]any{"event": wire.EvFindMatch, "data": map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	sender := dial(t, p.wsURL(), nil)
	waitFor(t, 5*time.Second, "the slow reader waiting", func() bool {
		return metricValue(p.metrics(), "gomegle_users_waiting", nil) == 1
	})
	sender.send(wire.EvFindMatch, nil)
	sender.expect(wire.EvMatchFound, nil)

	heap := func() float64 { return metricValue(p.metrics(), "go_memstats_heap_inuse_bytes", nil) }
	base, peak := heap(), 0.0
	payload := strings.Repeat("<", 60<<10) // escaped by json.Marshal, this was 6x as large
	frame := `{"event":"signal","data":{"type":"offer","payload":"` + payload + `"}}`
	start := time.Now()
	tick := time.NewTicker(25 * time.Millisecond) // 40 per second: within the rate limit
	defer tick.Stop()
	for i, dropped := 0, false; !dropped; i++ {
		if time.Since(start) > slowReaderBound {
			t.Fatalf("the slow reader was not disconnected within %v", slowReaderBound)
		}
		select {
		case ev := <-sender.events:
			if ev.Event != wire.EvPartnerLeft {
				t.Fatalf("sender got %s %s", ev.Event, ev.Data)
			}
			dropped = true
		case <-tick.C:
			sender.sendRaw(frame)
			if i%8 == 0 { // five samples a second
				peak = max(peak, heap())
			}
		}
	}
	t.Logf("slow reader disconnected after %v; server heap grew by at most %.1f MiB", time.Since(start).Round(100*time.Millisecond), (peak-base)/(1<<20))
	if peak-base > heapBound {
		t.Fatalf("server heap grew by %.1f MiB, bound %d MiB", (peak-base)/(1<<20), heapBound>>20)
	}
	if n := metricValue(p.metrics(), "gomegle_messages_dropped_total", map[string]string{"reason": "send_queue_full"}); n < 1 {
		t.Fatalf("dropped_total{send_queue_full} = %v, want the disconnect counted", n)
	}
}
