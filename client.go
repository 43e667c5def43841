package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
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

// What an unfinished inbound message may hold (issue 21): READ_LIMIT is for a report with its
// evidence, so only a connection that may report (in a match, or within reportWindow of one,
// and reportSlack more, so that a late report is answered rather than cut off) may send that
// much; anyone else only smallReadLimit, which a find_match with its proof of work and ten
// interests fits several times over. A message's buffer is charged to its address's share of
// UNFINISHED_BYTES_PER_IP as it grows past freeMessageBytes (most messages never do: no lock).
const (
	smallReadLimit   = 8 << 10
	reportSlack      = 15 * time.Second
	freeMessageBytes = 4 << 10
	firstReadBuffer  = 512
)

var (
	errSlowMessage   = errors.New("a message took longer than MESSAGE_TIMEOUT to arrive")
	errUnfinishedCap = errors.New("the address's unfinished messages are over UNFINISHED_BYTES_PER_IP")
)

// ClientLimits are the per-connection limits from Config.
type ClientLimits struct {
	ReadLimit      int64
	MessageTimeout time.Duration           // from a message's first frame to its last
	Unfinished     *safety.UnfinishedBytes // shared by every connection of the instance
	SendQueue      int                     // frames
	SendBytes      int                     // bytes queued or being written
	RateLimit      float64
	RateBurst      int
	RateStrikes    int
	FindRate       float64 // find_match per second (0: only the general limit)
	FindBurst      int
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
	lastRead    atomic.Int64 // when the last frame was read, since clockStart (for the ping round)
	msgDeadline time.Time    // while a message arrives: when it must be whole (pongs extend nothing past it)
	charged     int64        // bytes charged to the address for the message being read or handled

	rmu    sync.Mutex // guards parked; taken before the poller's lock
	parked bool       // the read pump has parked: the next wake runs it again
	wakeFn func()     // c.wake, made once (a method value allocates)

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
	unread    bool          // written before readDone closes: the read pump stopped mid-message
}

func newClient(id wire.ClientID, ip string, to inbound.Inbound, conn *websocket.Conn, idle poll.IdleWait, pumps *sync.WaitGroup, log *slog.Logger, m *metrics.Metrics, l ClientLimits) *Client {
	c := &Client{
		id: id, ip: ip, to: to, conn: conn, idle: idle, pumps: pumps, log: log, metrics: m, limits: l,
		done: make(chan struct{}), readDone: make(chan struct{}),
	}
	c.rates = inbound.NewLimits(inbound.LimitsConfig{Rate: l.RateLimit, Burst: l.RateBurst, Strikes: l.RateStrikes,
		FindRate: l.FindRate, FindBurst: l.FindBurst})
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

// readPump runs when the connection is readable (or was woken for its deadline or its close).
// It reads and hands on messages until nothing is left to read, then parks, or until the
// connection ends, when it hands the session to Disconnect, saying whether the socket ended
// without the client meaning it (no close frame), in which case a match is held for a resume.
func (c *Client) readPump() {
	if c.fill() && c.park() {
		return // only pongs had arrived
	}
	for {
		kind, data, err := c.readMessage()
		if err != nil {
			c.end(c.ended(err))
			return
		}
		c.extend()
		c.handle(kind, data)
		c.giveBack()
		if c.linger() && c.park() {
			return // the poller runs the read pump again
		}
	}
}

// readMessage reads the next message within what the connection may send now: up to
// READ_LIMIT when it may report, smallReadLimit otherwise (gorilla refuses a frame that would
// pass it: too_large); whole within MessageTimeout of its first frame, whatever pongs come
// meanwhile (errSlowMessage); into a buffer that grows with what arrives, charged to the
// address's share of unfinished bytes (errUnfinishedCap). The charge is given back after the
// message is handled (giveBack).
func (c *Client) readMessage() (int, []byte, error) {
	limit := min(c.limits.ReadLimit, smallReadLimit)
	if c.sess.MayReportWithin(reportSlack) {
		limit = c.limits.ReadLimit
	}
	c.conn.SetReadLimit(limit)
	kind, r, err := c.conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	c.msgDeadline = time.Now().Add(c.limits.MessageTimeout)
	defer func() { c.msgDeadline = time.Time{} }()
	if deadline := c.readDeadline(); c.msgDeadline.Before(deadline) {
		if err := c.conn.SetReadDeadline(c.msgDeadline); err != nil {
			return 0, nil, err
		}
	}
	data, err := c.readAll(r, limit)
	if errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(c.msgDeadline) {
		err = errSlowMessage
	}
	return kind, data, err
}

// readAll reads a message of at most limit bytes into a buffer that doubles as it fills (never
// past limit, and one spare byte to see the end), each growth past freeMessageBytes charged
// to the address first.
func (c *Client) readAll(r io.Reader, limit int64) ([]byte, error) {
	b := make([]byte, 0, firstReadBuffer)
	for {
		if len(b) == cap(b) {
			size := min(2*int64(cap(b)), limit+1)
			if size > freeMessageBytes && !c.charge(size-int64(cap(b))) {
				return nil, errUnfinishedCap
			}
			b = slices.Grow(b, int(size)-len(b))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// charge counts n more bytes of the message being read against the address's share.
func (c *Client) charge(n int64) bool {
	if !c.limits.Unfinished.Take(c.ip, n) {
		return false
	}
	c.charged += n
	return true
}

// giveBack returns what the last message was charged (it has been handled, or the read ended).
func (c *Client) giveBack() {
	if c.charged > 0 {
		c.limits.Unfinished.Give(c.ip, c.charged)
		c.charged = 0
	}
}

// lingerIdle is how long a read pump that has just handled a message waits for the next one
// before it parks: a user in a conversation sends again within moments, and parking and
// waking for every message cost the matchmaking churn about a sixth of its CPU (BENCHMARKS.md).
const lingerIdle = 2 * time.Second

// linger waits, at the message boundary and without gorilla, up to lingerIdle (at most until the
// read deadline) for the next frame, and says whether the read pump may park now: yes when
// nothing came or something is buffered (park looks at it), no when the read failed (gorilla's
// read reports why).
func (c *Client) linger() bool {
	if c.idle.Watch == nil || c.idle.Buffered.Buffered() > 0 {
		return true
	}
	deadline := c.readDeadline()
	wait := time.Now().Add(lingerIdle)
	if deadline.Before(wait) {
		wait = deadline
	}
	if err := c.conn.SetReadDeadline(wait); err != nil {
		return true
	}
	_, err := c.idle.Buffered.Peek(1)
	if derr := c.conn.SetReadDeadline(deadline); derr != nil {
		c.log.Debug("set read deadline", "client", c.id, "err", safety.PeerErr(derr))
	}
	return err == nil || errors.Is(err, os.ErrDeadlineExceeded) && !c.overdue()
}

// fill reads what a woken connection has into the read buffer itself (gorilla's read would
// take a pong and then wait inside for a message), and says whether the connection may park
// again once pongs are taken: not when the read failed (gorilla's read reports why) nor when
// the client is overdue (gorilla's read finds the deadline passed).
func (c *Client) fill() bool {
	if c.idle.Watch == nil || c.overdue() {
		return false
	}
	if c.idle.Buffered.Buffered() == 0 {
		if _, err := c.idle.Buffered.Peek(1); err != nil {
			return false
		}
	}
	return true
}

func (c *Client) pongWait() time.Duration { return 2 * c.limits.PingInterval }

// clockStart makes lastRead a reading of the monotonic clock.
var clockStart = time.Now()

// extend records that the client is alive: a frame or a pong arrived. While a message is
// arriving, nothing extends the read deadline past the time the message must be whole by.
func (c *Client) extend() {
	now := time.Now()
	c.lastRead.Store(int64(now.Sub(clockStart)))
	deadline := now.Add(c.pongWait())
	if !c.msgDeadline.IsZero() && c.msgDeadline.Before(deadline) {
		deadline = c.msgDeadline
	}
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		c.log.Debug("set read deadline", "client", c.id, "err", safety.PeerErr(err))
	}
}

// readDeadline is the read deadline extend last set.
func (c *Client) readDeadline() time.Time {
	return clockStart.Add(time.Duration(c.lastRead.Load()) + c.pongWait())
}

// overdue says whether the client has sent nothing, not even a pong, within its read deadline.
func (c *Client) overdue() bool { return time.Now().After(c.readDeadline()) }

// admit applies the connection's rate limit to one inbound frame, a message or a ping or
// pong, and says whether it may be handled. Sustained refusals close the socket with 1008;
// while it closes, what the client sends is read only to reach its close frame.
func (c *Client) admit() bool {
	select {
	case <-c.done:
		return false
	default:
	}
	ok, abusive := c.rates.Admit(time.Now())
	if ok {
		return true
	}
	c.metrics.RateLimited.Inc()
	if abusive {
		c.log.Warn("sustained rate-limit violation; closing", "client", c.id, "addr_hash", c.sess.Addr)
		c.Close(wire.ClosePolicy, "rate limit exceeded")
	}
	return false
}

// handle applies the rate limits to one message and hands it on.
func (c *Client) handle(kind int, data []byte) {
	if !c.admit() {
		c.Send(wire.ErrorFrame(wire.ErrRateLimited, "too many messages; slow down")) // dropped once closing
		return
	}
	if kind != websocket.TextMessage {
		c.Send(wire.ErrorFrame(wire.ErrBadRequest, "binary frames are not supported; send JSON text frames"))
		return
	}
	inbound.Receive(c.to, c.sess, data, c.allow)
}

// end is the read pump's last step.
func (c *Client) end(hold bool) {
	c.giveBack()
	close(c.readDone)
	c.Close(0, "") // the writer closes the socket, unless a close is under way
	c.to.Disconnect(c.sess, hold)
	if c.idle.Watch != nil {
		c.idle.Watch.Forget()
	}
	c.onEnd()
	c.pumps.Done()
}

// park leaves the connection to the poller when the read pump is at a message boundary with
// nothing buffered, and says whether it did (then the read pump's goroutine ends). Pongs
// waiting at the boundary are taken first. It parks nothing without a poller, or when the
// registration fails (a closed connection, say): the read pump then reads, and finds out.
func (c *Client) park() bool {
	if c.idle.Watch == nil || c.overdue() {
		return false
	}
	for c.idle.Buffered.Buffered() > 0 {
		if !takePong(c.idle.Buffered) {
			return false // a message (or something for gorilla to judge) is waiting
		}
		if c.admit() { // as the pong handler does
			c.extend()
		}
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := c.idle.Watch.Arm(c.wakeFn); err != nil {
		return false
	}
	c.parked = true
	return true
}

// wake runs a parked read pump again (from the poller, or the close).
func (c *Client) wake() { c.wakeIf(func() bool { return true }) }

// wakeIf wakes a parked read pump if cond holds while it is parked (the ping round: if it is
// still overdue, not since a pong the poller has handed it).
func (c *Client) wakeIf(cond func() bool) {
	c.rmu.Lock()
	parked := c.parked && cond()
	if parked {
		c.parked = false
	}
	c.rmu.Unlock()
	if parked {
		go c.readPump()
	}
}

// takePong takes one whole pong frame from the front of a read buffer at a message boundary,
// and says whether there was one. Anything else, a pong not read whole yet included, is left
// to gorilla's read: a client's frames are masked (RFC 6455 5.3), a pong is final with at most
// 125 bytes of payload (5.5).
func takePong(br *bufio.Reader) bool {
	if br.Buffered() < 2 {
		return false
	}
	head, err := br.Peek(2) // buffered: reads nothing
	if err != nil || head[0] != 0x80|websocket.PongMessage || head[1]&0x80 == 0 || head[1]&0x7f > 125 {
		return false
	}
	size := 2 + 4 + int(head[1]&0x7f)
	if br.Buffered() < size {
		return false
	}
	_, err = br.Discard(size) // buffered: cannot fail
	return err == nil
}

// allow applies the limits of particular events: find_match has its own.
func (c *Client) allow(event string) bool {
	if !c.rates.Allow(event) {
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
	c.unread = cause == "too_large" || cause == "slow_message" || cause == "unfinished_cap"
	switch cause {
	case "too_large":
		c.Close(wire.CloseTooBig, "message too large")
	case "slow_message":
		c.Close(wire.ClosePolicy, "a message took too long to arrive")
	case "unfinished_cap":
		c.Close(wire.ClosePolicy, "too much unfinished from your address")
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
		return "server_closed", closeCode == wire.CloseServiceRestart || closeCode == 0
	}
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure:
		return "client_closed", false // a close frame: the client meant to go (gorilla has answered it)
	case errors.Is(err, websocket.ErrReadLimit):
		return "too_large", false
	case errors.Is(err, errSlowMessage):
		return "slow_message", false
	case errors.Is(err, errUnfinishedCap):
		return "unfinished_cap", false
	}
	return "dropped", true // EOF without a close frame, a reset, or no pong in time
}
