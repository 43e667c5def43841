package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/inbound"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/poll"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/wire"
)

const (
	writeWait      = 10 * time.Second // longest one batch of queued frames may take to write
	closeWriteWait = time.Second      // longest the close frame may take (and a pong)
)

// ClientLimits are the per-connection limits from Config.
type ClientLimits struct {
	ReadLimit      int64
	MessageTimeout time.Duration           // from a message's first frame to its last
	Unfinished     *safety.UnfinishedBytes // shared by every connection of the instance
	SendQueue      int                     // frames
	SendBytes      int                     // bytes queued or being written
	Rates          inbound.LimitsConfig    // the rate limits of what it sends
	PingInterval   time.Duration
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
// The read pump, too, runs only while there is something to read: at a message boundary with
// nothing buffered it parks the connection on the Poller and its goroutine ends; the poller
// runs it again when the socket is readable. Pongs waiting at a boundary are taken there
// (gorilla would otherwise wait inside its read for the next message), and a parked client
// silent for twice the ping interval is woken by the hub's ping round to find its read deadline
// passed. rmu makes park and wake one step each, so one read pump runs at a time.
//
// Every pump (the read pump, from its start to its end across its parks, and each writer) is
// counted in pumps, so that a shutdown can wait for them: the read pump holds the count above
// zero for as long as anything can start a writer (after it ends, the client is closed and no
// writer starts again).
type Client struct {
	id      wire.ClientID // for log lines
	ip      string
	sess    *session.Session
	to      inbound.Inbound
	conn    *websocket.Conn
	idle    poll.IdleWait
	log     *slog.Logger
	metrics *metrics.Metrics
	limits  ClientLimits
	rates   *inbound.Limits // the read pump's own
	pumps   *sync.WaitGroup
	onEnd   func()

	// the read pump's own, across its parks (one runs at a time)
	lastRead    atomic.Int64         // when the last frame was read, since clockStart (for the ping round)
	msgDeadline time.Time            // while a message arrives: when it must be whole (pongs extend nothing past it)
	charge      safety.MessageCharge // what the message being read or handled holds of the address's share

	rmu    sync.Mutex // guards parked; taken before the poller's lock
	parked bool       // the read pump has parked: the next wake runs it again
	wakeFn func()     // c.wake, made once (a method value allocates)

	qmu       sync.Mutex // guards everything below; the last lock taken (the lock order: main.go)
	queue     [][]byte
	bytes     int // queued, plus taken by the writer and not yet written
	pingDue   bool
	writing   bool // a writer goroutine is running
	closing   bool
	closeCode int // set with closing; read by the writer after it saw closing
	closeText string
	done      chan struct{} // closed by Close
	readDone  chan struct{} // closed when the read pump stops reading
	unread    bool          // written before readDone closes: the read pump stopped mid-message
}

// clientParts are what a connection works with: the socket, what it hands messages to, and
// the instance's shared parts.
type clientParts struct {
	To      inbound.Inbound
	Conn    *websocket.Conn
	Idle    poll.IdleWait
	Pumps   *sync.WaitGroup // every pump of the instance, for the shutdown to wait on
	Log     *slog.Logger
	Metrics *metrics.Metrics
}

// newClient makes the connection of user id from address ip (its keyed hash) within limits l.
func newClient(id wire.ClientID, ip string, l ClientLimits, p clientParts) *Client {
	c := &Client{
		id: id, ip: ip, to: p.To, conn: p.Conn, idle: p.Idle, pumps: p.Pumps, log: p.Log, metrics: p.Metrics, limits: l,
		done: make(chan struct{}), readDone: make(chan struct{}), charge: l.Unfinished.For(ip),
	}
	c.rates = inbound.NewLimits(l.Rates)
	return c
}

// start runs the read pump; onEnd runs after the client's cleanup.
func (c *Client) start(onEnd func()) {
	c.onEnd, c.wakeFn = onEnd, c.wake
	c.extend()
	// control frames count toward the rate limit like messages: a ping or pong flood is
	// closed like a chat flood, and a refused ping gets no pong
	c.conn.SetPongHandler(func(string) error {
		if c.admit() {
			c.extend()
		}
		return nil
	})
	c.conn.SetPingHandler(func(data string) error {
		if !c.admit() {
			return nil
		}
		if err := c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(closeWriteWait)); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			return err
		}
		return nil
	})
	c.pumps.Add(1) // until the read pump's end
	if !c.park() {
		go c.readPump()
	}
}

var _ session.Conn = (*Client)(nil)

// Send queues a frame for the client without ever blocking. A full queue means the client
// cannot keep up: it is disconnected, and nobody else waits for it.
func (c *Client) Send(frame []byte) bool { return c.enqueue(frame, true) }

// SendNow is Send for the hub's rounds over every connection: with no writer running, it
// writes on the caller's goroutine (within writeWait), so that a round over 10 000 idle
// connections runs on a few goroutines instead of starting 10 000 writers, a stack each.
func (c *Client) SendNow(frame []byte) bool {
	if !c.enqueue(frame, false) {
		return false
	}
	c.writeHere()
	return true
}

// enqueue queues a frame, starting a writer when wake says so.
func (c *Client) enqueue(frame []byte, wake bool) bool {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return false
	}
	if len(c.queue) >= c.limits.SendQueue || c.bytes+len(frame) > c.limits.SendBytes {
		c.qmu.Unlock()
		c.metrics.Dropped.WithLabelValues("send_queue_full").Inc()
		c.log.Warn("send queue full; disconnecting slow client", "client", c.id)
		c.Close(wire.ClosePolicy, "too slow: send queue full")
		// a writer blocked on a full socket gives up now instead of at its deadline
		if err := c.conn.NetConn().SetWriteDeadline(time.Now()); err != nil {
			c.log.Debug("set write deadline", "client", c.id, "err", safety.PeerErr(err))
		}
		return false
	}
	c.queue = append(c.queue, frame)
	c.bytes += len(frame)
	if wake {
		c.wakeWriter()
	}
	c.qmu.Unlock()
	return true
}

// Ping sends a ping (the hub's round does, every PING_INTERVAL), like SendNow on the caller's
// goroutine when no writer runs. A parked client that has sent nothing, not even a pong, for
// twice the interval is woken: its read finds the deadline passed, and it ends as dropped.
func (c *Client) Ping() {
	c.qmu.Lock()
	due := !c.closing
	c.pingDue = c.pingDue || due
	c.qmu.Unlock()
	if due {
		c.writeHere()
	}
	c.wakeIf(c.overdue)
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

// writeHere writes what is queued on the caller's goroutine when no writer runs and the socket
// can take it at once, and leaves anything else to a writer goroutine: a socket that is full
// (a client that does not read), a close, whatever is queued meanwhile. So a round over every
// connection spends one small write on each and never waits for one client.
func (c *Client) writeHere() {
	c.qmu.Lock()
	switch {
	case c.writing || c.closing: // a writer runs (Close always starts one)
		c.qmu.Unlock()
		return
	case c.idle.Watch == nil || !c.idle.Watch.Writable():
		c.wakeWriter()
		c.qmu.Unlock()
		return
	}
	batch, ping := c.queue, c.pingDue
	c.queue, c.pingDue = nil, false
	c.writing = true
	c.qmu.Unlock()
	err := c.writeBatch(batch, ping)
	c.qmu.Lock()
	c.writing = false
	if len(c.queue) > 0 || c.pingDue || c.closing {
		c.wakeWriter() // the rest, or the close that came meanwhile
	}
	c.qmu.Unlock()
	if err != nil {
		c.Close(0, "")
	}
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
			c.log.Debug("close connection", "client", c.id, "err", safety.PeerErr(err))
		}
		c.wake() // a parked read pump hears of the close from its read, not from the poller
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
	// ErrCloseSent: gorilla sent one itself (1009, for a frame over the read limit)
	if err := c.conn.WriteControl(websocket.CloseMessage, msg, deadline); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		c.log.Debug("write close frame", "client", c.id, "err", safety.PeerErr(err))
		return
	}
	until := deadline.Add(closeWriteWait)
	t := time.NewTimer(time.Until(until))
	defer t.Stop()
	select {
	case <-c.readDone:
		if c.unread {
			c.drain(until)
		}
	case <-t.C:
	}
}

// drain discards what a client still sends after its read pump stopped in the middle of a
// message (too large, too slow), until the client closes or until: that is the rest of the
// message, and closing over it would reset the connection before the close frame is read.
func (c *Client) drain(until time.Time) {
	nc := c.conn.NetConn()
	if hc, ok := nc.(interface{ CloseWrite() error }); ok {
		if err := hc.CloseWrite(); err != nil { // the close frame is out: say so with a FIN
			return
		}
	}
	if err := nc.SetReadDeadline(until); err != nil {
		return
	}
	if _, err := io.Copy(io.Discard, nc); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.log.Debug("drain before close", "client", c.id, "err", safety.PeerErr(err))
	}
}
