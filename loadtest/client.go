package main

import (
	"strings"

	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait       = 10 * time.Second
	clientReadLimit = 1 << 20
)

// handler receives every event of a client on that client's reader goroutine, after the
// common bookkeeping (hello, error, online) is done. It must not block for long.
type handler interface {
	handle(c *client, ev wire.Inbound, at time.Time)
}

// noHandler is the idle load's handler: it holds the connection and nothing else.
type noHandler struct{}

func (noHandler) handle(*client, wire.Inbound, time.Time) {}

// tally counts the events every mode checks: protocol errors, frames the load generator
// could not decode, unexpected events and connections the server dropped.
type tally struct {
	mu          sync.Mutex
	errorCodes  map[string]int
	errSamples  samples
	unexpected  int
	unexpSample samples

	badFrames    atomic.Int64
	disconnected atomic.Int64
	dropSample   samples // guarded by mu

	// ended is set when the load is over and the clients start closing: from then on events
	// (partner_left of a closing partner, say) are read and dropped, not checked.
	ended atomic.Bool
}

func newTally() *tally { return &tally{errorCodes: make(map[string]int)} }

func (t *tally) protocolError(clientID string, e wire.ErrorData) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errorCodes[e.Code]++
	t.errSamples.add("%s got error %s: %s", clientID, e.Code, e.Message)
}

func (t *tally) unexpectedEvent(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unexpected++
	t.unexpSample.add(format, args...)
}

func (t *tally) dropped(clientID string, err error) {
	t.disconnected.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropSample.add("%s: %v", clientID, err)
}

// client is one simulated stranger: one WebSocket, one reader goroutine, writes serialised
// by wmu (gorilla allows one concurrent writer).
type client struct {
	idx      int
	instance int // index into Config.URLs
	conn     *websocket.Conn
	h        handler
	t        *tally

	wmu sync.Mutex

	id      string // written by the reader before hello closes; read-only after
	pow     string // the solution of hello.pow, for the first find_match; same rule
	powUsed atomic.Bool
	hello   chan struct{} // closed on the first hello
	done    chan struct{} // closed when the reader exits
	closing atomic.Bool   // set before we close the socket on purpose
}

// send writes one text frame.
func (c *client) send(msg []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return fmt.Errorf("client %d: set write deadline: %w", c.idx, err)
	}
	if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		return fmt.Errorf("client %d: write: %w", c.idx, err)
	}
	return nil
}

// sendFindMatch sends a find_match frame; the first one carries the proof of work when the
// server asked for one.
func (c *client) sendFindMatch(frame []byte) error {
	if c.pow == "" || c.powUsed.Swap(true) {
		return c.send(frame)
	}
	var msg wire.Outbound[wire.FindMatchRequest]
	if err := json.Unmarshal(frame, &msg); err != nil {
		return fmt.Errorf("client %d: find_match frame: %w", c.idx, err)
	}
	msg.Data.Pow = c.pow
	withPow, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("client %d: find_match frame: %w", c.idx, err)
	}
	return c.send(withPow)
}

// close sends a close frame and closes the socket; safe to call more than once.
func (c *client) close() {
	if c.closing.Swap(true) {
		return
	}
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	// A failed close frame only means the socket is already gone; Close below still runs.
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = c.conn.Close()
}

// readLoop decodes frames until the socket closes. It handles hello, error and online
// itself and passes every event on to the mode's handler.
func (c *client) readLoop() {
	defer close(c.done)
	gotHello := false
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			if !c.closing.Load() && !c.t.ended.Load() {
				c.t.dropped(c.label(gotHello), err)
			}
			return
		}
		at := time.Now()
		if c.t.ended.Load() {
			continue
		}
		var ev wire.Inbound
		if err := json.Unmarshal(msg, &ev); err != nil {
			c.t.badFrames.Add(1)
			continue
		}
		switch ev.Event {
		case wire.EvHello:
			if gotHello {
				c.t.unexpectedEvent("client %s: second hello", c.id)
				continue
			}
			var h wire.HelloData
			if err := json.Unmarshal(ev.Data, &h); err != nil || h.ID == "" {
				c.t.badFrames.Add(1)
				continue
			}
			c.id = string(h.ID)
			if h.Pow != nil { // the server wants a proof of work before the first find_match
				pow, ok := wire.SolvePow(*h.Pow)
				if !ok {
					c.t.unexpectedEvent("client %s: a proof-of-work challenge without a solution", c.id)
				}
				c.pow = pow
			}
			gotHello = true
			close(c.hello)
			continue
		case wire.EvError:
			var e wire.ErrorData
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				c.t.badFrames.Add(1)
			}
			c.t.protocolError(c.label(gotHello), e)
		case wire.EvOnline:
			continue
		case wire.EvToken:
			// a Stop replaced the resume token: well formed, or a protocol fault
			var tok wire.TokenData
			if err := json.Unmarshal(ev.Data, &tok); err != nil || !strings.HasPrefix(tok.ResumeToken, c.id+".") {
				c.t.unexpectedEvent("client %s: bad token event %s", c.id, ev.Data)
			}
			continue
		}
		if !gotHello {
			c.t.unexpectedEvent("client %d: %s before hello", c.idx, ev.Event)
			continue
		}
		c.h.handle(c, ev, at)
	}
}

func (c *client) label(gotHello bool) string {
	if gotHello {
		return c.id
	}
	return fmt.Sprintf("client#%d", c.idx)
}

// dialer opens client connections to the instances, spreading them round-robin over the
// instance URLs and over the loopback source addresses.
type dialer struct {
	urls    []string
	dialers []*websocket.Dialer // one per source address (or one with the kernel's choice)
	header  http.Header
}

func newDialer(cfg Config) *dialer {
	pool := &sync.Pool{}
	bufPool := &writePool{pool: pool}
	mk := func(local net.Addr) *websocket.Dialer {
		nd := &net.Dialer{Timeout: cfg.HandshakeTimeout, LocalAddr: local, Control: dialControl}
		return &websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: cfg.HandshakeTimeout,
			ReadBufferSize:   cfg.ReadBuffer,
			WriteBufferSize:  cfg.WriteBuffer,
			WriteBufferPool:  bufPool,
		}
	}
	d := &dialer{urls: cfg.URLs, header: http.Header{}}
	if cfg.Origin != "" {
		d.header.Set("Origin", cfg.Origin)
	}
	if cfg.SrcIPs <= 0 {
		d.dialers = []*websocket.Dialer{mk(nil)}
		return d
	}
	for i := range cfg.SrcIPs {
		ip := net.IPv4(127, byte((i+2)>>16), byte((i+2)>>8), byte(i+2))
		d.dialers = append(d.dialers, mk(&net.TCPAddr{IP: ip}))
	}
	return d
}

// writePool adapts sync.Pool to websocket.BufferPool: a write buffer is held only while a
// frame is being written, not for the life of an idle connection.
type writePool struct{ pool *sync.Pool }

func (p *writePool) Get() any  { return p.pool.Get() }
func (p *writePool) Put(v any) { p.pool.Put(v) }

// dial opens client idx and starts its reader.
func (d *dialer) dial(ctx context.Context, idx int, h handler, t *tally) (*client, error) {
	inst := idx % len(d.urls)
	wd := d.dialers[(idx/len(d.urls))%len(d.dialers)]
	conn, resp, err := wd.DialContext(ctx, d.urls[inst], d.header)
	if resp != nil && resp.Body != nil {
		// The handshake response has no body worth reading; closing it frees the connection.
		_ = resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %d)", d.urls[inst], err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial %s: %w", d.urls[inst], err)
	}
	conn.SetReadLimit(clientReadLimit)
	c := &client{
		idx: idx, instance: inst, conn: conn, h: h, t: t,
		hello: make(chan struct{}), done: make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

// connectAll opens n clients with at most cfg.ConnectConcurrency handshakes in flight and
// at most cfg.ConnectRate new connections a second (0: unpaced), and waits for each one's
// hello. It returns the clients that got a hello (in index order, with gaps removed) and
// the number and examples of failures.
func connectAll(ctx context.Context, cfg Config, d *dialer, h handler, t *tally) ([]*client, int, []string) {
	clients := make([]*client, cfg.N)
	errs := make([]error, cfg.N)
	sem := make(chan struct{}, cfg.ConnectConcurrency)
	var tick <-chan time.Time
	if cfg.ConnectRate > 0 {
		tk := time.NewTicker(time.Duration(float64(time.Second) / cfg.ConnectRate))
		defer tk.Stop()
		tick = tk.C
	}
	var wg sync.WaitGroup
loop:
	for i := range cfg.N {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				break loop
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := d.dial(ctx, i, h, t)
			if err != nil {
				errs[i] = err
				return
			}
			clients[i] = c
			timer := time.NewTimer(cfg.HandshakeTimeout)
			defer timer.Stop()
			select {
			case <-c.hello:
			case <-c.done:
				errs[i] = fmt.Errorf("client %d: socket closed before hello", i)
			case <-timer.C:
				errs[i] = fmt.Errorf("client %d: no hello within %v", i, cfg.HandshakeTimeout)
			case <-ctx.Done():
				errs[i] = fmt.Errorf("client %d: %w", i, ctx.Err())
			}
		}()
	}
	wg.Wait()
	var ok []*client
	var failed int
	var ex samples
	for i := range cfg.N {
		switch {
		case errs[i] != nil:
			failed++
			ex.add("%v", errs[i])
			if clients[i] != nil {
				clients[i].close()
			}
		case clients[i] == nil:
			failed++
			ex.add("client %d: not started: %v", i, ctx.Err())
		default:
			ok = append(ok, clients[i])
		}
	}
	return ok, failed, ex.list
}

// closeAll closes every client and waits for their readers to exit.
func closeAll(clients []*client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
			<-c.done
		}()
	}
	wg.Wait()
}
