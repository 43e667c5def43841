package main

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/go-megle/go-megle/internal/wire"
)

// Close codes this server uses.
const (
	CloseServiceRestart = websocket.CloseServiceRestart // 1012: reconnect and resume elsewhere
	ClosePolicy         = websocket.ClosePolicyViolation
	CloseTooBig         = websocket.CloseMessageTooBig
	CloseReplaced       = 4001 // the identity was resumed on a newer connection: do not resume
	CloseBanned         = 4003 // the address is banned (a banned event said until when and why)
)

const (
	writeWait      = 10 * time.Second // longest one batch of queued frames may take to write
	closeWriteWait = time.Second      // longest the close frame may take
	strikeWindow   = 10 * time.Second // rate-limit strikes older than this are forgiven
)

// ClientLimits are the per-connection limits from Config.
type ClientLimits struct {
	ReadLimit    int64
	SendQueue    int // frames
	SendBytes    int // bytes queued or being written
	RateLimit    float64
	RateBurst    int
	RateStrikes  int
	FindRate     float64 // find_match per second (0: only the general limit)
	FindBurst    int
	PingInterval time.Duration
}

// Client is one WebSocket connection and nothing else: a read pump that decodes, validates
// and rate-limits messages and hands them on for its session, and an outbound queue drained
// by a writer goroutine that exists only while there is something to write (a frame, a ping
// the hub asked for, or the close). An idle client holds no writer and no queue memory.
//
// Producers (other users' read pumps, the pub/sub reader, the hub's loops) only ever append
// to the queue under qmu and never wait: a queue over SendQueue frames or SendBytes bytes
// (counting the batch the writer has taken and not written yet) means the client cannot keep
// up, and it is closed instead; so is one that cannot take a batch within writeWait. Exactly one writer runs at a time (writing), and only the
// writer touches the connection's data path; Close marks the queue closed, so nothing is
// queued after the writer's last look. That is the whole safety argument.
//
// Every pump goroutine (the read pump, each writer) is counted in pumps, so that a shutdown
// can wait for them: the read pump holds the count above zero for as long as anything can
// start a writer (after it ends, the client is closed and no writer starts again).
type Client struct {
	id      wire.ClientID // for log lines
	ip      string
	sess    *Session
	to      inbound
	conn    *websocket.Conn
	log     *slog.Logger
	metrics *Metrics
	limits  ClientLimits
	limiter *rate.Limiter // nil: no limit
	finds   *rate.Limiter // find_match's own, stricter limit (it runs scripts); nil: none
	pumps   *sync.WaitGroup

	qmu       sync.Mutex // guards everything below; the last lock taken (see Session)
	queue     [][]byte
	bytes     int // queued, plus taken by the writer and not yet written
	pingDue   bool
	writing   bool // a writer goroutine is running
	closing   bool
	closeCode int // set with closing; read by the writer after it saw closing
	closeText string
	done      chan struct{} // closed by Close
	readDone  chan struct{} // closed when the read pump stops reading
}

func newClient(id wire.ClientID, ip string, to inbound, conn *websocket.Conn, pumps *sync.WaitGroup, log *slog.Logger, m *Metrics, l ClientLimits) *Client {
	c := &Client{
		id: id, ip: ip, to: to, conn: conn, pumps: pumps, log: log, metrics: m, limits: l,
		done: make(chan struct{}), readDone: make(chan struct{}),
	}
	if l.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(l.RateLimit), l.RateBurst)
	}
	if l.FindRate > 0 {
		c.finds = rate.NewLimiter(rate.Limit(l.FindRate), l.FindBurst)
	}
	return c
}

// start runs the read pump; onEnd runs after the client's cleanup.
func (c *Client) start(onEnd func()) {
	c.pumps.Add(1)
	go func() {
		defer c.pumps.Done()
		defer onEnd()
		c.readPump()
	}()
}

var _ Conn = (*Client)(nil)

// Send queues a frame for the client without ever blocking. A full queue means the client
// cannot keep up: it is disconnected, and nobody else waits for it.
func (c *Client) Send(frame []byte) bool {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return false
	}
	if len(c.queue) >= c.limits.SendQueue || c.bytes+len(frame) > c.limits.SendBytes {
		c.qmu.Unlock()
		c.metrics.Dropped.WithLabelValues("send_queue_full").Inc()
		c.log.Warn("send queue full; disconnecting slow client", "client", c.id)
		c.Close(ClosePolicy, "too slow: send queue full")
		// a writer blocked on a full socket gives up now instead of at its deadline
		if err := c.conn.NetConn().SetWriteDeadline(time.Now()); err != nil {
			c.log.Debug("set write deadline", "client", c.id, "err", err)
		}
		return false
	}
	c.queue = append(c.queue, frame)
	c.bytes += len(frame)
	c.wakeWriter()
	c.qmu.Unlock()
	return true
}

// Ping asks the writer to send a ping (the hub does, every PING_INTERVAL).
func (c *Client) Ping() {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if !c.closing {
		c.pingDue = true
		c.wakeWriter()
	}
}

// Close ends the connection: what is queued is sent, then a close frame with code (none for
// 0), then the socket closes once the client has answered. Safe to call from any goroutine,
// any number of times; the first call wins.
func (c *Client) Close(code int, text string) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closing {
		return
	}
	c.closing, c.closeCode, c.closeText = true, code, text
	close(c.done)
	c.wakeWriter()
}

// wakeWriter starts the writer if none runs. Called with qmu held.
func (c *Client) wakeWriter() {
	if c.writing {
		return
	}
	c.writing = true
	c.pumps.Add(1)
	go c.writeLoop()
}

// writeLoop writes what is queued until the queue is empty, then ends; after a close it
// finishes the connection and no writer ever runs again.
func (c *Client) writeLoop() {
	defer c.pumps.Done()
	for {
		c.qmu.Lock()
		batch, ping, closing := c.queue, c.pingDue, c.closing
		c.queue, c.pingDue = nil, false
		if len(batch) == 0 && !ping && !closing {
			c.writing = false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		if closing {
			c.finish(batch)
			return
		}
		if err := c.writeBatch(batch, ping); err != nil {
			c.Close(0, "")
		}
	}
}

// writeBatch writes what the writer took, and a ping if one is due, within one deadline: a
// client that reads a frame now and then cannot hold its queue (and our memory) for ever.
func (c *Client) writeBatch(batch [][]byte, ping bool) error {
	written := 0
	defer func() {
		c.qmu.Lock()
		c.bytes -= written
		c.qmu.Unlock()
	}()
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	for _, frame := range batch {
		if err := c.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			return err
		}
		written += len(frame)
	}
	if ping {
		return c.conn.WriteMessage(websocket.PingMessage, nil)
	}
	return nil
}

// finish sends what was queued before the close (an error explaining it, say) and the close
// frame within a short bound, lets the client answer, and closes the socket: closing with the
// client's unread messages still in our buffer would reset the connection, and the client
// might never see the close frame.
func (c *Client) finish(batch [][]byte) {
	defer func() {
		if err := c.conn.Close(); err != nil {
			c.log.Debug("close connection", "client", c.id, "err", err)
		}
	}()
	deadline := time.Now().Add(closeWriteWait)
	for _, frame := range batch {
		if c.conn.SetWriteDeadline(deadline) != nil || c.conn.WriteMessage(websocket.TextMessage, frame) != nil {
			break
		}
	}
	if c.closeCode == 0 {
		return
	}
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
	if err := c.conn.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
		c.log.Debug("write close frame", "client", c.id, "err", err)
		return
	}
	t := time.NewTimer(time.Until(deadline) + closeWriteWait)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
	}
}

// readPump reads and hands on messages until the connection ends, then hands the session to
// Disconnect, saying whether the socket ended without the client meaning it (no close frame),
// in which case a match is held for a resume.
func (c *Client) readPump() {
	pongWait := 2 * c.limits.PingInterval
	c.conn.SetReadLimit(c.limits.ReadLimit)
	extend := func() {
		if err := c.conn.SetReadDeadline(time.Now().Add(pongWait)); err != nil {
			c.log.Debug("set read deadline", "client", c.id, "err", err)
		}
	}
	extend()
	c.conn.SetPongHandler(func(string) error { extend(); return nil })

	var strikes int
	var lastStrike time.Time
	var hold bool
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			hold = c.ended(err)
			break
		}
		extend()
		select {
		case <-c.done:
			continue // closing: what the client sends now is read only to reach its close frame
		default:
		}
		if c.limiter != nil && !c.limiter.Allow() {
			now := time.Now()
			if now.Sub(lastStrike) > strikeWindow {
				strikes = 0
			}
			strikes, lastStrike = strikes+1, now
			c.metrics.RateLimited.Inc()
			if strikes >= c.limits.RateStrikes {
				c.log.Warn("sustained rate-limit violation; closing", "client", c.id, "ip", c.ip)
				c.Close(ClosePolicy, "rate limit exceeded")
				continue // keep reading until the close completes
			}
			c.Send(errorFrame(wire.ErrRateLimited, "too many messages; slow down"))
			continue
		}
		if kind != websocket.TextMessage {
			c.Send(errorFrame(wire.ErrBadRequest, "binary frames are not supported; send JSON text frames"))
			continue
		}
		receive(c.to, c.sess, data, c.allow)
	}
	close(c.readDone)
	c.Close(0, "") // the writer closes the socket, unless a close is under way
	c.to.Disconnect(c.sess, hold)
}

// allow applies the limits of particular events: find_match has its own.
func (c *Client) allow(event string) bool {
	if event == wire.EvFindMatch && c.finds != nil && !c.finds.Allow() {
		c.metrics.RateLimited.Inc()
		return false
	}
	return true
}

// ended records why the connection ended and says whether to hold the match for a resume.
func (c *Client) ended(err error) bool {
	closedByUs := false
	select {
	case <-c.done:
		closedByUs = true
	default:
	}
	c.qmu.Lock()
	code := c.closeCode
	c.qmu.Unlock()
	cause, hold := endCause(closedByUs, code, err)
	c.metrics.Disconnects.WithLabelValues(cause).Inc()
	if cause == "too_large" {
		c.Close(CloseTooBig, "message too large")
	}
	return hold
}

// endCause classifies the end of a connection: the cause (a metric label) and whether the
// match is held for a resume, which is only when the client did not close on purpose.
func endCause(closedByUs bool, closeCode int, err error) (cause string, hold bool) {
	if closedByUs {
		// The client may have echoed our close frame meanwhile. A restart (1012) is held for a
		// resume, and so is a write that failed (code 0: the network went away under the
		// writer); a policy close (1008, 1009) is not.
		return "server_closed", closeCode == CloseServiceRestart || closeCode == 0
	}
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure:
		return "client_closed", false // a close frame: the client meant to go (gorilla has answered it)
	case errors.Is(err, websocket.ErrReadLimit):
		return "too_large", false
	}
	return "dropped", true // EOF without a close frame, a reset, or no pong in time
}
