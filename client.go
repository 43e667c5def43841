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

// Client is one WebSocket connection: a read pump that decodes and dispatches events, a write
// pump that owns every data write, and a bounded send queue between whoever produces messages
// for this client and the write pump.
//
// The send channel is never closed. Producers (other clients' read pumps, the pub/sub reader,
// the hub's loops) only ever do a non-blocking send on it, and the write pump stops on done.
// That is the whole safety argument: no send can hit a closed channel, and no producer can be
// blocked by a slow client, whose overflow closes it instead.
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

	send      chan []byte
	done      chan struct{} // closed by Close: the write pump finishes up
	readDone  chan struct{} // closed when the read pump stops reading
	closeOnce sync.Once
	closeCode int // written once, before done is closed
	closeText string

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
	pendingLeft  bool    // a partner_left for pendingMatch arrived before the match applied
	waitStart    time.Time
	fallback     *time.Timer
	everQueued   bool // the client has state in Redis to forget at the end
	closed       bool
}

func newClient(id ClientID, tokenHash, ip string, hub *Hub, conn *websocket.Conn, log *slog.Logger, m *Metrics, l ClientLimits) *Client {
	c := &Client{
		id: id, tokenHash: tokenHash, ip: ip, hub: hub, conn: conn, log: log, metrics: m, limits: l,
		send: make(chan []byte, l.SendQueue), done: make(chan struct{}), readDone: make(chan struct{}),
	}
	if l.RateLimit > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(l.RateLimit), l.RateBurst)
	}
	return c
}

// Send queues a frame for the client without ever blocking. A full queue means the client
// cannot keep up: it is disconnected, and nobody else waits for it.
func (c *Client) Send(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- frame:
		return true
	default:
		c.metrics.Dropped.WithLabelValues("send_queue_full").Inc()
		c.log.Warn("send queue full; disconnecting slow client", "client", c.id)
		c.Close(ClosePolicy, "too slow: send queue full")
		// a writer blocked on a full socket gives up now instead of at its deadline
		if err := c.conn.NetConn().SetWriteDeadline(time.Now()); err != nil {
			c.log.Debug("set write deadline", "err", err)
		}
		return false
	}
}

// SendError sends an error event.
func (c *Client) SendError(code, message string) {
	c.Send(mustEncode(EvError, ErrorData{Code: code, Message: message}))
}

// Close asks the write pump to send a close frame with code and end the connection. Safe to
// call from any goroutine, any number of times; the first call wins.
func (c *Client) Close(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
	})
}

// matchedWith says whether the client is currently in match mid with partner.
func (c *Client) matchedWith(partner ClientID, mid MatchID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateMatched && c.partner == partner && c.match == mid
}

// setIdle returns the client to idle if ticket is still its current search.
func (c *Client) setIdle(ticket string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateWaiting || c.ticket != ticket {
		return false
	}
	c.stopFallback()
	c.state, c.ticket = stateIdle, ""
	return true
}

// stopFallback cancels a pending interest fallback. Called with c.mu held.
func (c *Client) stopFallback() {
	if c.fallback != nil {
		c.fallback.Stop()
		c.fallback = nil
	}
}

// writePump owns all data writes to the connection.
func (c *Client) writePump() {
	ping := time.NewTicker(c.limits.PingInterval)
	defer func() {
		ping.Stop()
		if err := c.conn.Close(); err != nil {
			c.log.Debug("close connection", "err", err)
		}
	}()
	for {
		select {
		case frame := <-c.send:
			if err := c.write(websocket.TextMessage, frame); err != nil {
				c.Close(0, "")
				return
			}
		case <-ping.C:
			if err := c.write(websocket.PingMessage, nil); err != nil {
				c.Close(0, "")
				return
			}
		case <-c.done:
			// what was queued before the close (an error explaining it, say) goes first,
			// within the same short bound as the close frame
			deadline := time.Now().Add(closeWriteWait)
		flush:
			for {
				select {
				case frame := <-c.send:
					if c.conn.SetWriteDeadline(deadline) != nil || c.conn.WriteMessage(websocket.TextMessage, frame) != nil {
						break flush
					}
				default:
					break flush
				}
			}
			if c.closeCode != 0 {
				msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
				if err := c.conn.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
					c.log.Debug("write close frame", "err", err)
				}
				// Let the client answer before the socket closes: closing with its unread
				// messages still in our buffer would reset the connection, and the client
				// might never see the close frame.
				select {
				case <-c.readDone:
				case <-time.After(time.Until(deadline) + closeWriteWait):
				}
			}
			return
		}
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
			c.log.Debug("set read deadline", "err", err)
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
	c.Close(0, "") // stops the write pump, which closes the socket, unless a close is under way
	c.hub.Disconnect(c, hold)
}

// classifyEnd records why the connection ended and says whether to hold the match for a
// resume: only when the client did not close on purpose.
func (c *Client) classifyEnd(err error) bool {
	select {
	case <-c.done:
		// We closed it (the client may have echoed our close frame meanwhile): a restart
		// (1012) is held for a resume, any other close of ours is not.
		c.metrics.Disconnects.WithLabelValues("server_closed").Inc()
		return c.closeCode == CloseServiceRestart
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
