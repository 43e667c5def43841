package main

import (
	"errors"
	"os"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/inbound"
	"github.com/go-megle/go-megle/internal/poll"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

// The read side of a connection: the read pump, reading a message within its limits, parking
// and waking, and why the connection ended.

// What an unfinished inbound message may hold (issue 21): READ_LIMIT is for a report with its
// evidence, so only a connection that may report (in a match, or within reportWindow of one,
// and reportSlack more, so that a late report is answered rather than cut off) may send that
// much; anyone else only smallReadLimit, which a find_match with its proof of work and ten
// interests fits several times over. A message's buffer is charged to its address's share of
// UNFINISHED_BYTES_PER_IP as it grows (internal/safety's MessageCharge).
const (
	smallReadLimit = 8 << 10
	reportSlack    = 15 * time.Second
)

var (
	errSlowMessage = errors.New("a message took longer than MESSAGE_TIMEOUT to arrive")
)

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
		c.charge.GiveBack()
		if c.linger() && c.park() {
			return // the poller runs the read pump again
		}
	}
}

// readMessage reads the next message within what the connection may send now: up to
// READ_LIMIT when it may report, smallReadLimit otherwise (gorilla refuses a frame that would
// pass it: too_large); whole within MessageTimeout of its first frame, whatever pongs come
// meanwhile (errSlowMessage); into a buffer that grows with what arrives, charged to the
// address's share of unfinished bytes (safety.ErrUnfinishedCap). The charge is given back after
// the message is handled (GiveBack).
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
	data, err := c.charge.ReadAll(r, limit)
	if errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(c.msgDeadline) {
		err = errSlowMessage
	}
	return kind, data, err
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
	c.charge.GiveBack()
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
		if !poll.TakePong(c.idle.Buffered) {
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
	case errors.Is(err, safety.ErrUnfinishedCap):
		return "unfinished_cap", false
	}
	return "dropped", true // EOF without a close frame, a reset, or no pong in time
}
