package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/wire"
)

// testConfig is a configuration for in-process tests: quick loops, no rate limit unless asked.
func testConfig(t testing.TB, redisURL string, overrides ...func(*Config)) Config {
	t.Helper()
	cfg, err := LoadConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.RedisURL = redisURL
	cfg.KeyPrefix = "{mm-" + strings.ToLower(wire.NewID()[:8]) + "}" // a key space of its own per test
	cfg.HeartbeatInterval, cfg.HeartbeatTTL = 100*time.Millisecond, time.Second
	cfg.SweepInterval, cfg.OnlineInterval = 100*time.Millisecond, 100*time.Millisecond
	cfg.MaxConnsPerIP, cfg.MaxHTTPConnsPerIP = 0, 0 // every client is on loopback
	cfg.RateLimit, cfg.FindRate = 0, 0
	cfg.PowMaxNumber = 0     // the gate has tests of its own
	cfg.WatchWait = 0        // reported users are not held back (watch_test.go sets it)
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
	srv := httptest.NewUnstartedServer(app.Handler())
	srv.Config = app.HTTPServer() // the real timeouts
	srv.Start()
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
var waitFor = redistest.WaitFor

// wsClient is a protocol-speaking test client.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	hello  wire.HelloData
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
	return tryDialWith(t, websocket.Dialer{HandshakeTimeout: 5 * time.Second}, url, header)
}

// tryDialWith is tryDial with a dialer of the test's own (a local address to come from, say).
func tryDialWith(t testing.TB, d websocket.Dialer, url string, header http.Header) (*wsClient, error) {
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
	if ev.Event != wire.EvHello {
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
		if ev.Event == wire.EvOnline {
			continue
		}
		c.events <- ev
	}
}

func (c *wsClient) id() wire.ClientID { return c.hello.ID }

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
	var e wire.ErrorData
	c.expect(wire.EvError, &e)
	if e.Code != code {
		c.t.Fatalf("error code %q (%s), want %q", e.Code, e.Message, code)
	}
	if e.Message == "" {
		c.t.Fatalf("error %q has no message", code)
	}
}

// pair makes two clients find each other and returns them initiator first.
func pair(t testing.TB, a, b *wsClient) (wire.MatchFoundData, wire.MatchFoundData) {
	t.Helper()
	a.send(wire.EvFindMatch, map[string]any{})
	a.expect(wire.EvWaiting, nil)
	b.send(wire.EvFindMatch, map[string]any{})
	var ma, mb wire.MatchFoundData
	b.expect(wire.EvMatchFound, &mb)
	a.expect(wire.EvMatchFound, &ma)
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

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// serverBinary builds the server once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "go-megle-bin-")
		if binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "go-megle")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func removeServerBinary() {
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
}

// proc is one server process.
type proc struct {
	t      *testing.T
	id     wire.InstanceID
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState
	mu     sync.Mutex
	log    bytes.Buffer
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func (p *proc) wsURL() string { return "ws://" + p.addr + "/ws" }

func (p *proc) httpURL() string { return "http://" + p.addr }

// processEnv is the environment shared by a test's instances.
func processEnv(redisURL string, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"REDIS_URL=" + redisURL, "KEY_PREFIX={mm-" + strings.ToLower(wire.NewID()[:8]) + "}",
		"MAX_CONNS_PER_IP=0", "MAX_HTTP_CONNS_PER_IP=0", "RATE_LIMIT=0", "FIND_MATCH_RATE=0", "POW_MAX_NUMBER=0", "LOG_LEVEL=warn", "WEB_DIR=/nonexistent",
	}, extra...)
}

// startProc runs an instance and waits until it is ready. It listens on a free loopback
// port; its id is env's INSTANCE_ID, or a new one.
func startProc(t *testing.T, env []string) *proc {
	t.Helper()
	p := &proc{t: t, id: wire.InstanceID(envValue(env, "INSTANCE_ID")), addr: fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)), exited: make(chan struct{})}
	if p.id == "" {
		p.id = wire.InstanceID("p-" + wire.NewID()[:8])
	}
	p.cmd = exec.Command(serverBinary(t))
	redistest.DieWithParent(p.cmd)
	p.cmd.Env = append(append([]string{}, env...), "ADDR="+p.addr, "INSTANCE_ID="+string(p.id))
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait() //nolint:errcheck // the exit status is read from ProcessState
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			p.mu.Lock()
			t.Logf("instance %s log:\n%s", p.id, p.log.String())
			p.mu.Unlock()
		}
	})
	waitFor(t, 10*time.Second, "instance "+string(p.id)+" ready", func() bool { return p.ready() })
	return p
}

var probe = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func (p *proc) ready() bool {
	resp, err := probe.Get(p.httpURL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p *proc) notReady() bool {
	resp, err := probe.Get(p.httpURL() + "/readyz")
	if err != nil {
		return false // not answering at all is not "not ready"
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusServiceUnavailable
}

// metrics scrapes and parses the instance's /metrics.
func (p *proc) metrics() map[string]*dto.MetricFamily {
	p.t.Helper()
	return scrapeMetrics(p.t, p.httpURL()+"/metrics")
}

func scrapeMetrics(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := probe.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue sums a family's samples whose labels include want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *proc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.state.ExitCode()
	case <-time.After(timeout):
		p.t.Fatalf("instance %s did not exit within %v", p.id, timeout)
		return -1
	}
}

// expectWithin is expect with an explicit bound: the promise under test.
func (c *wsClient) expectWithin(d time.Duration, event string, out any) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, err := c.nextEvent(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("client %s: no %s within %v: %v", c.id(), event, d, err)
		}
		if ev.Event == event {
			if out != nil {
				if err := json.Unmarshal(ev.Data, out); err != nil {
					c.t.Fatal(err)
				}
			}
			return
		}
		c.t.Fatalf("client %s: got %s %s while waiting for %s", c.id(), ev.Event, ev.Data, event)
	}
}

// dialMany opens n clients, urlFor choosing each one's instance.
func dialMany(t *testing.T, n int, urlFor func(int) string) []*wsClient {
	t.Helper()
	clients := make([]*wsClient, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := tryDial(t, urlFor(i), nil)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("dial: %v", err)
	}
	return clients
}

// findAllAtOnce releases every find_match together and collects each client's match_found
// events (all of them, so a double booking shows).
func findAllAtOnce(t *testing.T, clients []*wsClient) [][]wire.MatchFoundData {
	t.Helper()
	start := make(chan struct{})
	results := make([][]wire.MatchFoundData, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c.send(wire.EvFindMatch, map[string]any{})
			deadline := time.After(30 * time.Second)
			for {
				select {
				case ev, ok := <-c.events:
					if !ok {
						return
					}
					switch ev.Event {
					case wire.EvMatchFound:
						var m wire.MatchFoundData
						if err := json.Unmarshal(ev.Data, &m); err != nil {
							t.Errorf("match_found: %v", err)
						}
						results[i] = append(results[i], m)
					case wire.EvWaiting:
					default:
						t.Errorf("client %d: unexpected %s %s", i, ev.Event, ev.Data)
					}
				case <-deadline:
					return
				}
				if len(results[i]) == 1 {
					// keep listening briefly is not needed: a second match_found would need a
					// second enqueue, and checkPairing's symmetry check catches double bookings
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// checkPairing: everyone matched exactly once, never with itself, pairs symmetric with one
// match id and exactly one initiator.
func checkPairing(t *testing.T, clients []*wsClient, results [][]wire.MatchFoundData) {
	t.Helper()
	byID := map[wire.ClientID]int{}
	for i, c := range clients {
		byID[c.id()] = i
	}
	lost := 0
	for i, r := range results {
		if len(r) == 0 {
			lost++
			continue
		}
		if len(r) > 1 {
			t.Fatalf("client %d matched %d times", i, len(r))
		}
		m := r[0]
		j, ok := byID[m.PartnerID]
		if !ok || j == i {
			t.Fatalf("client %d matched with %q (self or unknown)", i, m.PartnerID)
		}
		if len(results[j]) != 1 {
			t.Fatalf("client %d's partner %d was matched %d times", i, j, len(results[j]))
		}
		p := results[j][0]
		if p.PartnerID != clients[i].id() || p.MatchID != m.MatchID || p.Initiator == m.Initiator {
			t.Fatalf("asymmetric pair %d<->%d: %+v / %+v", i, j, m, p)
		}
	}
	if lost != len(clients)%2 {
		t.Fatalf("%d of %d clients never matched", lost, len(clients))
	}
}

// checkNextIsMarker sends a marker chat in every pair as[i]-bs[i] (both ways) and requires it
// to be the very next event each client sees: nothing else reached them before it.
func checkNextIsMarker(t *testing.T, as, bs []*wsClient) {
	t.Helper()
	for i := range as {
		for _, dir := range [][2]*wsClient{{as[i], bs[i]}, {bs[i], as[i]}} {
			marker := fmt.Sprintf("marker %d from %s", i, dir[0].id())
			dir[0].send(wire.EvChat, map[string]any{"text": marker})
			var got wire.ChatRequest
			dir[1].expect(wire.EvChat, &got)
			if got.Text != marker {
				t.Fatalf("client %s got %q before its marker", dir[1].id(), got.Text)
			}
		}
	}
}

// startCluster runs n instances in this process sharing one real redis-server.
func startCluster(t *testing.T, n int, overrides ...func(*Config)) ([]*testInstance, *redistest.Server) {
	t.Helper()
	rs := redistest.Start(t)
	base := testConfig(t, rs.URL(), overrides...)
	insts := make([]*testInstance, n)
	for i := range insts {
		cfg := base
		cfg.InstanceID = wire.InstanceID("inst-" + string(rune('a'+i)) + "-" + wire.NewID()[:6])
		insts[i] = startInstance(t, cfg)
	}
	return insts, rs
}

// crossPair pairs a client on inst[0] with one on inst[1]; b is the initiator.
func crossPair(t *testing.T, insts []*testInstance) (a, b *wsClient, m wire.MatchFoundData) {
	t.Helper()
	a, b = dial(t, insts[0].wsURL(), nil), dial(t, insts[1].wsURL(), nil)
	m, _ = pair(t, a, b)
	return a, b, m
}

func mustPrefixes(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, p := range s {
		pp, err := safety.ParsePrefix(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pp)
	}
	return out
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// startInstancesWith runs two instances in this process with the given Redis settings.
func startInstancesWith(t *testing.T, set func(*Config)) []*testInstance {
	t.Helper()
	base := testConfig(t, "", set, func(c *Config) {
		c.RedisTimeout = 10 * time.Second
		c.HeartbeatInterval, c.HeartbeatTTL = time.Second, 5*time.Second // the defaults: a failover is shorter
	})
	var insts []*testInstance
	for _, id := range []string{"a", "b"} {
		cfg := base
		cfg.InstanceID = wire.InstanceID("inst-" + id + "-" + wire.NewID()[:6])
		insts = append(insts, startInstance(t, cfg))
	}
	return insts
}

// drainTyping discards late copies of the typing probes; anything else fails the test.
func drainTyping(t *testing.T, c *wsClient) {
	t.Helper()
	drain(c, func(ev inEvent) {
		if ev.Event != wire.EvTyping {
			t.Fatalf("client %s got %s %s", c.id(), ev.Event, ev.Data)
		}
	})
}

// drain hands check every event c gets until it has been quiet for 300 ms.
func drain(c *wsClient, check func(inEvent)) {
	for {
		ev, err := c.nextEvent(300 * time.Millisecond)
		if err != nil {
			return
		}
		check(ev)
	}
}

// waitsForSomeoneNew: c searches, and waits because the only ones waiting are people it is
// kept apart from (met recently, or a report between them is open).
func waitsForSomeoneNew(t *testing.T, c *wsClient) {
	t.Helper()
	c.send(wire.EvFindMatch, nil)
	var w wire.WaitingData
	c.expect(wire.EvWaiting, &w)
	if w.Message != wire.WaitingForNewOnes {
		t.Fatalf("client %s waits with %q, want %q (someone was passed over)", c.id(), w.Message, wire.WaitingForNewOnes)
	}
}

// newcomersMeet has one newcomer after another search on url (newcomer i with headers[i],
// if given) and requires that between them they meet exactly the waiting users want.
func newcomersMeet(t *testing.T, url string, want []*wsClient, headers ...http.Header) {
	t.Helper()
	met := map[wire.ClientID]bool{}
	for i := range want {
		var h http.Header
		if i < len(headers) {
			h = headers[i]
		}
		c := dial(t, url, h)
		c.send(wire.EvFindMatch, nil)
		var m wire.MatchFoundData
		c.expect(wire.EvMatchFound, &m)
		met[m.PartnerID] = true
	}
	for _, w := range want {
		if !met[w.id()] {
			t.Fatalf("the newcomers met %v, not %s", met, w.id())
		}
	}
}

// fakeConn stands in for a connection where a test drives sessions without sockets: it
// records what the session was sent.
type fakeConn struct {
	mu     sync.Mutex
	frames [][]byte
	closed int // the close code, once closed
}

func (f *fakeConn) Send(frame []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, frame)
	return true
}

func (f *fakeConn) Close(code int, _ string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = code
}

func (f *fakeConn) SendNow(frame []byte) bool { return f.Send(frame) }

func (f *fakeConn) Ping() {}

// take returns and forgets what was sent so far.
func (f *fakeConn) take() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.frames
	f.frames = nil
	return out
}

// attachFake registers a session with a fakeConn in the hub, as Attach does for a socket.
func attachFake(h *Hub) (*session.Session, *fakeConn) {
	conn := &fakeConn{}
	s := session.NewSession(session.Identity{ID: wire.ClientID(wire.NewID()), TokenHash: "hash", Addr: "addr-" + wire.NewID()}, session.Parts{Out: conn, Now: h.now})
	h.register(s)
	return s, conn
}

// quietApp starts an instance without an HTTP server, for tests that drive the hub directly.
func quietApp(tb testing.TB, cfg Config) *App {
	tb.Helper()
	app, err := NewApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(app.Close)
	return app
}

// dialRaw connects a bare gorilla connection (no reader of ours, nothing read yet), closed at
// cleanup: for tests that speak to the server frame by frame.
func dialRaw(t testing.TB, url string, header http.Header) *websocket.Conn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// dialSlowReader connects with a small socket receive buffer, so that a client that does not
// read fills up quickly.
func dialSlowReader(url string) (*websocket.Conn, error) {
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		conn, err := net.Dial(network, addr)
		if err == nil {
			err = conn.(*net.TCPConn).SetReadBuffer(4096)
		}
		return conn, err
	}}
	conn, resp, err := d.Dial(url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, err
}
