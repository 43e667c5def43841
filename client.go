package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// Close codes this server uses.
const (
	CloseServiceRestart = websocket.CloseServiceRestart // 1012: reconnect and resume elsewhere
	ClosePolicy         = websocket.ClosePolicyViolation
	CloseTooBig         = websocket.CloseMessageTooBig
	CloseGoingAway      = websocket.CloseGoingAway
)

const (
	writeWait      = 10 * time.Second // longest a single frame write may take
	closeWriteWait = time.Second      // longest the close frame may take
	strikeWindow   = 10 * time.Second // rate-limit strikes older than this are forgiven
)

type matchState int

const (
	stateIdle matchState = iota
	stateWaiting
	stateMatched
)

// ClientLimits are the per-connection limits from Config.
type ClientLimits struct {
	ReadLimit    int64
	SendQueue    int
	RateLimit    float64
	RateBurst    int
	RateStrikes  int
	PingInterval time.Duration
}

// Client is one WebSocket connection: a read pump that decodes and dispatches events, and an
// outbound queue drained by a writer goroutine that exists only while there is something to
// write (a frame, a ping the hub asked for, or the close). An idle client holds no writer and
// no queue memory.
//
// Producers (other clients' read pumps, the pub/sub reader, the hub's loops) only ever append
// to the queue under qmu and never wait: a queue over SendQueue frames means the client cannot
// keep up, and it is closed instead. Exactly one writer runs at a time (writing), and only the
// writer touches the connection's data path; Close marks the queue closed, so nothing is
// queued after the writer's last look. That is the whole safety argument.
type Client struct {
	id        ClientID
	tokenHash string // SHA-256 of the resume token
	ip        string
	hub       *Hub
	conn      *websocket.Conn
	log       *slog.Logger
	metrics   *Metrics
	limits    ClientLimits
	limiter   *rate.Limiter // nil: no limit

	qmu       sync.Mutex // guards the queue, the writer's existence and the close
	queue     [][]byte
	pingDue   bool
	writing   bool // a writer goroutine is running
	closing   bool
	closeCode int // set with closing; read by the writer after it saw closing
	closeText string
	done      chan struct{} // closed by Close
	readDone  chan struct{} // closed when the read pump stops reading

	// opMu serialises this client's matchmaking operations (find, fallback, leave,
	// disconnect), so their Redis steps and the notifications they send keep their order.
	opMu sync.Mutex

	mu           sync.Mutex // guards everything below
	state        matchState
	ticket       string // the current search
	mode         Mode
	interests    []string
	partner      ClientID
	partnerInst  InstanceID
	match        MatchID
	initiator    bool
	common       []string
	pendingMatch MatchID // the match id our own in-flight enqueue would create
	pendingLeft  string  // the reason of a partner_left for pendingMatch that arrived before the match applied
	waitStart    time.Time
	fallback     *time.Timer
	everQueued   bool // the client has state in Redis to forget at the end
	closed       bool
}

func newClient(id ClientID, tokenHash, ip string, hub *Hub, conn *websocket.Conn, log *slog.Logger, m *Metrics, l ClientLimits) *Client {
	c := &Client{
		id: id, tokenHash: tokenHash, ip: ip, hub: hub, conn: conn, log: log, metrics: m, limits: l,
		done: make(chan struct{}), readDone: make(chan struct{}),
	}
	if l.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(l.RateLimit), l.RateBurst)
	}
	return c
}

// Send queues a frame for the client without ever blocking. A full queue means the client
// cannot keep up: it is disconnected, and nobody else waits for it.
func (c *Client) Send(frame []byte) bool {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return false
	}
	if len(c.queue) >= c.limits.SendQueue {
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
	c.wakeWriter()
	c.qmu.Unlock()
	return true
}

// SendError sends an error event.
func (c *Client) SendError(code, message string) {
	c.Send(mustEncode(EvError, ErrorData{Code: code, Message: message}))
}

// requestPing asks the writer to send a ping (the hub does, every PING_INTERVAL).
func (c *Client) requestPing() {
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

// wakeWriter starts the writer if none runs. Called with qmu held. The hub counts writers
// among the pumps it waits for at shutdown; the client's read pump holds that count above
// zero for as long as anything can wake a writer.
func (c *Client) wakeWriter() {
	if c.writing {
		return
	}
	c.writing = true
	c.hub.pumps.Add(1)
	go c.writeLoop()
}

// writeLoop writes what is queued until the queue is empty, then ends; after a close it
// finishes the connection and no writer ever runs again.
func (c *Client) writeLoop() {
	defer c.hub.pumps.Done()
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
		for _, frame := range batch {
			if err := c.write(websocket.TextMessage, frame); err != nil {
				c.Close(0, "")
				break
			}
		}
		if ping {
			if err := c.write(websocket.PingMessage, nil); err != nil {
				c.Close(0, "")
			}
		}
	}
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

// matchedWith says whether the client is currently in match mid with partner.
func (c *Client) matchedWith(partner ClientID, mid MatchID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateMatched && c.partner == partner && c.match == mid
}

// stopFallback cancels a pending interest fallback. Called with c.mu held.
func (c *Client) stopFallback() {
	if c.fallback != nil {
		c.fallback.Stop()
		c.fallback = nil
	}
}

func (c *Client) write(kind int, frame []byte) error {
	if err := c.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	return c.conn.WriteMessage(kind, frame)
}

// readPump reads and dispatches events until the connection ends, then hands the client to
// the hub's Disconnect. It reports whether the socket ended without the client meaning it
// (no close frame), in which case a match is held for a resume.
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
	hold := false
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			hold = c.classifyEnd(err)
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
			c.SendError(ErrRateLimited, "too many messages; slow down")
			continue
		}
		if kind != websocket.TextMessage {
			c.SendError(ErrBadRequest, "binary frames are not supported; send JSON text frames")
			continue
		}
		c.handle(data)
	}
	close(c.readDone)
	c.Close(0, "") // the writer closes the socket, unless a close is under way
	c.hub.Disconnect(c, hold)
}

// classifyEnd records why the connection ended and says whether to hold the match for a
// resume: only when the client did not close on purpose.
func (c *Client) classifyEnd(err error) bool {
	select {
	case <-c.done:
		// We closed it (the client may have echoed our close frame meanwhile). A restart
		// (1012) is held for a resume, and so is a write that failed (code 0: the network
		// went away under the writer); a policy close (1008, 1009) is not.
		c.metrics.Disconnects.WithLabelValues("server_closed").Inc()
		return c.closeCode == CloseServiceRestart || c.closeCode == 0
	default:
	}
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure:
		// a close frame: the client meant to go (gorilla has answered it)
		c.metrics.Disconnects.WithLabelValues("client_closed").Inc()
		return false
	case errors.Is(err, websocket.ErrReadLimit):
		c.metrics.Disconnects.WithLabelValues("too_large").Inc()
		c.Close(CloseTooBig, "message too large")
		return false
	}
	// EOF without a close frame, a reset, or no pong in time: hold for a resume
	c.metrics.Disconnects.WithLabelValues("dropped").Inc()
	return true
}

// handle decodes one client message and dispatches it. Bad input gets an error event and the
// connection stays usable.
func (c *Client) handle(data []byte) {
	if !utf8.Valid(data) {
		c.SendError(ErrBadJSON, "message is not valid UTF-8")
		return
	}
	var in InboundEnvelope
	if err := json.Unmarshal(data, &in); err != nil {
		c.SendError(ErrBadJSON, "message is not a JSON object {\"event\": ..., \"data\": {...}}")
		return
	}
	body := in.Data
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		body = []byte("{}")
	}
	switch in.Event {
	case EvFindMatch:
		var r FindMatchRequest
		if err := json.Unmarshal(body, &r); err != nil {
			c.SendError(ErrBadRequest, "find_match data must be {interests?: [string], mode?: \"video\"|\"text\"}")
			return
		}
		mode, interests, problem := validateFindMatch(r)
		if problem != "" {
			c.SendError(ErrBadRequest, problem)
			return
		}
		c.hub.FindMatch(c, mode, interests)
	case EvSignal:
		var r SignalRequest
		if err := json.Unmarshal(body, &r); err != nil {
			c.SendError(ErrBadRequest, "signal data must be {type: string, payload: any}")
			return
		}
		if r.Type == "" || len(r.Type) > maxSignalTypeLen || len(r.Payload) == 0 {
			c.SendError(ErrBadRequest, "signal needs a type (1-32 characters) and a payload")
			return
		}
		frame, err := encode(EvSignal, SignalData{SenderID: c.id, Type: r.Type, Payload: r.Payload})
		if err != nil {
			c.SendError(ErrBadRequest, "signal payload is not valid JSON")
			return
		}
		c.hub.Relay(c, EvSignal, frame)
	case EvChat:
		var r ChatRequest
		if err := json.Unmarshal(body, &r); err != nil {
			c.SendError(ErrBadRequest, "chat data must be {text: string}")
			return
		}
		if n := utf8.RuneCountInString(r.Text); n == 0 || n > maxChatLen || strings.TrimSpace(r.Text) == "" {
			c.SendError(ErrBadRequest, "chat text must be 1-2000 characters and not blank")
			return
		}
		c.hub.Relay(c, EvChat, mustEncode(EvChat, ChatData(r)))
	case EvTyping:
		var r TypingRequest
		if err := json.Unmarshal(body, &r); err != nil {
			c.SendError(ErrBadRequest, "typing data must be {typing: bool}")
			return
		}
		c.hub.Relay(c, EvTyping, mustEncode(EvTyping, TypingData(r)))
	case EvLeave:
		var r LeaveRequest
		if err := json.Unmarshal(body, &r); err != nil {
			c.SendError(ErrBadRequest, "leave data must be an object")
			return
		}
		c.hub.Leave(c)
	default:
		c.SendError(ErrUnknownEvent, "unknown event; expected find_match, signal, chat, typing or leave")
	}
}

// validateFindMatch normalises a find_match request or says what is wrong with it.
func validateFindMatch(r FindMatchRequest) (Mode, []string, string) {
	mode := r.Mode
	if mode == "" {
		mode = ModeVideo
	}
	if mode != ModeVideo && mode != ModeText {
		return "", nil, "mode must be \"video\" or \"text\""
	}
	if len(r.Interests) > maxInterests {
		return "", nil, "at most 10 interests"
	}
	var out []string
	seen := map[string]bool{}
	for _, raw := range r.Interests {
		i := strings.ToLower(strings.Join(strings.Fields(raw), " "))
		if n := utf8.RuneCountInString(i); n == 0 || n > maxInterestLen {
			return "", nil, "each interest must be 1-32 characters"
		}
		if strings.IndexFunc(i, unicode.IsControl) >= 0 {
			return "", nil, "interests must not contain control characters"
		}
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return mode, out, ""
}
