package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
)

// testConfig is a configuration for in-process tests: quick loops, no rate limit unless asked.
func testConfig(t testing.TB, redisURL string, overrides ...func(*Config)) Config {
	t.Helper()
	cfg, err := LoadConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.RedisURL = redisURL
	cfg.KeyPrefix = "{mm-" + strings.ToLower(newID()[:8]) + "}" // a key space of its own per test
	cfg.HeartbeatInterval, cfg.HeartbeatTTL = 100*time.Millisecond, time.Second
	cfg.SweepInterval, cfg.OnlineInterval = 100*time.Millisecond, 100*time.Millisecond
	cfg.MaxConnsPerIP = 0
	cfg.RateLimit = 0
	cfg.WebDir = t.TempDir() // no UI
	for _, o := range overrides {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// testInstance is one server instance running in this test process.
type testInstance struct {
	app *App
	srv *httptest.Server
	cfg Config
}

func (ti *testInstance) wsURL() string { return "ws" + strings.TrimPrefix(ti.srv.URL, "http") + "/ws" }

// startInstance runs an instance on an httptest server and stops it at cleanup.
func startInstance(t testing.TB, cfg Config) *testInstance {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	app, err := NewApp(context.Background(), cfg, log.With("instance", cfg.InstanceID))
	if err != nil {
		t.Fatalf("start instance: %v", err)
	}
	srv := httptest.NewServer(app.Handler())
	ti := &testInstance{app: app, srv: srv, cfg: cfg}
	t.Cleanup(func() {
		srv.CloseClientConnections()
		app.Close()
		srv.Close()
	})
	waitFor(t, 5*time.Second, "instance ready", func() bool { ok, _ := app.Hub.Ready(); return ok })
	return ti
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startMiniredis gives a test its own in-process Redis.
func startMiniredis(t testing.TB) (*miniredis.Miniredis, string) {
	t.Helper()
	m := miniredis.RunT(t)
	return m, "redis://" + m.Addr() + "/0"
}

// waitFor polls cond until it holds; for state that has no event to await.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wsClient is a protocol-speaking test client.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	hello  HelloData
	events chan inEvent
	mu     sync.Mutex
	closed bool
}

type inEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

var errNoEvent = errors.New("no event")

// dial connects and reads hello. The reader goroutine queues every event except online.
func dial(t testing.TB, url string, header http.Header) *wsClient {
	t.Helper()
	c, err := tryDial(t, url, header)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

func tryDial(t testing.TB, url string, header http.Header) (*wsClient, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(url, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	c := &wsClient{t: t, conn: conn, events: make(chan inEvent, 1024)}
	go c.readLoop()
	t.Cleanup(c.close)
	ev, err := c.nextEvent(5 * time.Second)
	if err != nil {
		return nil, fmt.Errorf("waiting for hello: %w", err)
	}
	if ev.Event != EvHello {
		return nil, fmt.Errorf("first event %q, want hello", ev.Event)
	}
	if err := json.Unmarshal(ev.Data, &c.hello); err != nil {
		return nil, fmt.Errorf("hello data: %w", err)
	}
	return c, nil
}

func (c *wsClient) readLoop() {
	defer close(c.events)
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.events <- inEvent{Event: "close", Data: json.RawMessage(fmt.Sprint(ce.Code))}
			}
			return
		}
		var ev inEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			c.events <- inEvent{Event: "unparseable", Data: json.RawMessage(`"` + err.Error() + `"`)}
			continue
		}
		if ev.Event == EvOnline {
			continue
		}
		c.events <- ev
	}
}

func (c *wsClient) id() ClientID { return c.hello.ID }

func (c *wsClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.conn.Close()
	}
}

// closeClean sends a close frame (as a browser closing the tab does) and closes.
func (c *wsClient) closeClean() {
	c.mu.Lock()
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(time.Second))
	c.mu.Unlock()
	c.close()
}

func (c *wsClient) sendRaw(data string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(data)); err != nil {
		c.t.Errorf("send: %v", err)
	}
}

func (c *wsClient) send(event string, data any) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "data": data})
	if err != nil {
		c.t.Fatalf("marshal: %v", err)
	}
	c.sendRaw(string(b))
}

func (c *wsClient) nextEvent(timeout time.Duration) (inEvent, error) {
	select {
	case ev, ok := <-c.events:
		if !ok {
			return inEvent{}, errors.New("connection closed")
		}
		return ev, nil
	case <-time.After(timeout):
		return inEvent{}, errNoEvent
	}
}

// expect reads the next event, requires its name, and decodes its data into out (if non-nil).
func (c *wsClient) expect(event string, out any) {
	c.t.Helper()
	ev, err := c.nextEvent(10 * time.Second)
	if err != nil {
		c.t.Fatalf("client %s: waiting for %s: %v", c.id(), event, err)
	}
	if ev.Event != event {
		c.t.Fatalf("client %s: got %s %s, want %s", c.id(), ev.Event, ev.Data, event)
	}
	if out != nil {
		if err := json.Unmarshal(ev.Data, out); err != nil {
			c.t.Fatalf("decode %s: %v", event, err)
		}
	}
}

// expectError reads an error event and requires its code.
func (c *wsClient) expectError(code string) {
	c.t.Helper()
	var e ErrorData
	c.expect(EvError, &e)
	if e.Code != code {
		c.t.Fatalf("error code %q (%s), want %q", e.Code, e.Message, code)
	}
	if e.Message == "" {
		c.t.Fatalf("error %q has no message", code)
	}
}

// expectNothing requires that no event arrives for a while: used only to prove a negative
// (that a message reached nobody), after a positive event proved delivery has happened.
func (c *wsClient) expectNothing(d time.Duration) {
	c.t.Helper()
	if ev, err := c.nextEvent(d); err == nil {
		c.t.Fatalf("client %s: unexpected %s %s", c.id(), ev.Event, ev.Data)
	}
}

// pair makes two clients find each other and returns them initiator first.
func pair(t testing.TB, a, b *wsClient) (MatchFoundData, MatchFoundData) {
	t.Helper()
	a.send(EvFindMatch, map[string]any{})
	a.expect(EvWaiting, nil)
	b.send(EvFindMatch, map[string]any{})
	var ma, mb MatchFoundData
	b.expect(EvMatchFound, &mb)
	a.expect(EvMatchFound, &ma)
	if ma.PartnerID != b.id() || mb.PartnerID != a.id() || ma.MatchID != mb.MatchID {
		t.Fatalf("bad pairing: %+v / %+v", ma, mb)
	}
	if !mb.Initiator || ma.Initiator {
		t.Fatalf("want exactly the second searcher as initiator: a=%v b=%v", ma.Initiator, mb.Initiator)
	}
	return ma, mb
}

// rdbFor opens a go-redis client for assertions on the Redis state.
func rdbFor(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}
