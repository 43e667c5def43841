// Command ceiling is an in-memory pairing server that speaks Go-Megle's wire protocol
// (internal/wire) and nothing more: one process, one mutex, no Redis, no second instance, no
// resume, no limits, no proof of work. It exists for the benchmark only (loadtest/bench.sh
// runs the same churn against it and against two real instances, back to back, and reports
// the ratio): it is what the protocol itself costs on this machine, the ceiling a real
// instance can approach but not pass. Never deploy it.
//
//	go run ./loadtest/ceiling -addr 127.0.0.1:8090   # then loadtest -urls ws://127.0.0.1:8090/ws
//
// It sends what the real server sends for the same requests, in the same order: hello on
// connect; waiting, or match_found to the partner first and then to the caller (the
// initiator); partner_left to the partner of a user who leaves, presses next or disconnects;
// token after a leave; signal, chat and typing relayed to the partner only; error events for
// what it cannot take.
package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/wire"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	s := newServer()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ready") })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("ceiling: in-memory pairing server (benchmark only) on %s", *addr)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintf(os.Stderr, "ceiling: %v\n", err)
		os.Exit(1)
	}
}

// server is the whole state: who waits where, who is matched with whom. Every decision is
// taken under mu; the frames it causes are queued on the connections under mu too, so each
// connection's frames keep the order of the decisions, and written after mu is released.
type server struct {
	upgrader websocket.Upgrader

	mu     sync.Mutex
	queues map[string][]entry // by mode, and by mode + "\n" + interest
}

// entry is one waiting user in one queue; it is stale once the user's search gen has ended.
type entry struct {
	c   *conn
	gen uint64
}

func newServer() *server {
	return &server{
		upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{}},
		queues:   map[string][]entry{},
	}
}

// conn is one client. The fields after wmu are guarded by server.mu.
type conn struct {
	id wire.ClientID
	ws *websocket.Conn

	pmu     sync.Mutex // guards pending
	pending [][]byte
	wmu     sync.Mutex // one writer at a time; held while pending is written

	waiting   bool
	gen       uint64 // the current search
	mode      wire.Mode
	interests []string
	partner   *conn
	match     wire.MatchID
}

// queue adds a frame for c; called with server.mu held, so frames keep decision order.
func (c *conn) queue(frame []byte) {
	c.pmu.Lock()
	c.pending = append(c.pending, frame)
	c.pmu.Unlock()
}

// flush writes whatever is queued for c. Called without server.mu.
func (c *conn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for {
		c.pmu.Lock()
		batch := c.pending
		c.pending = nil
		c.pmu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, f := range batch {
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				_ = c.ws.Close() // the reader sees it and cleans up
				return
			}
		}
	}
}

func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &conn{id: wire.ClientID(rand.Text()), ws: ws}
	c.queue(wire.MustEncode(wire.EvHello, wire.HelloData{ID: c.id, ResumeToken: string(c.id) + "." + rand.Text(),
		Online: 1, ICEServers: []wire.ICEServer{}}))
	c.flush()
	defer func() {
		s.mu.Lock()
		touched := s.end(c, wire.ReasonDisconnected)
		c.waiting = false
		s.mu.Unlock()
		flushAll(touched)
		_ = ws.Close()
	}()
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		flushAll(s.handle(c, msg))
	}
}

func flushAll(cs []*conn) {
	for _, c := range cs {
		c.flush()
	}
}

// handle decides what one message means and returns the connections with frames to write.
func (s *server) handle(c *conn, msg []byte) []*conn {
	var in wire.Inbound
	if err := json.Unmarshal(msg, &in); err != nil {
		c.queue(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrBadJSON, Message: "not JSON"}))
		return []*conn{c}
	}
	switch in.Event {
	case wire.EvFindMatch:
		var r wire.FindMatchRequest
		if len(in.Data) > 0 {
			if err := json.Unmarshal(in.Data, &r); err != nil {
				c.queue(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrBadRequest, Message: "bad find_match"}))
				return []*conn{c}
			}
		}
		if r.Mode == "" {
			r.Mode = wire.ModeVideo
		}
		if r.Mode != wire.ModeVideo && r.Mode != wire.ModeText {
			c.queue(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrBadRequest, Message: "bad mode"}))
			return []*conn{c}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.find(c, r.Mode, r.Interests)
	case wire.EvLeave:
		s.mu.Lock()
		defer s.mu.Unlock()
		touched := s.end(c, wire.ReasonLeft)
		c.waiting = false
		c.queue(wire.MustEncode(wire.EvToken, wire.TokenData{ResumeToken: string(c.id) + "." + rand.Text()}))
		return append(touched, c)
	case wire.EvSignal, wire.EvChat, wire.EvTyping:
		return s.relay(c, in)
	}
	c.queue(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrUnknownEvent, Message: "unknown event"}))
	return []*conn{c}
}

// end ends c's match, telling the partner why; called with mu held.
func (s *server) end(c *conn, reason string) []*conn {
	p := c.partner
	if p == nil {
		return nil
	}
	c.partner, p.partner = nil, nil
	p.queue(wire.MustEncode(wire.EvPartnerLeft, wire.PartnerLeftData{From: c.id, Reason: reason}))
	return []*conn{p}
}

// find ends c's match or search and pairs it with a waiting user of the same mode (sharing an
// interest, when it has any), or queues it; called with mu held.
func (s *server) find(c *conn, mode wire.Mode, interests []string) []*conn {
	touched := s.end(c, wire.ReasonNext)
	c.waiting, c.gen, c.mode, c.interests = false, c.gen+1, mode, interests
	keys := []string{string(mode)}
	if len(interests) > 0 {
		keys = keys[:0]
		for _, i := range interests {
			keys = append(keys, string(mode)+"\n"+i)
		}
	}
	for _, k := range keys {
		q := s.queues[k]
		for len(q) > 0 {
			e := q[len(q)-1]
			q = q[:len(q)-1]
			p := e.c
			if !p.waiting || p.gen != e.gen || p == c {
				continue // stale: that search has ended
			}
			s.queues[k] = q
			p.waiting = false
			mid := wire.MatchID(rand.Text())
			c.partner, p.partner, c.match, p.match = p, c, mid, mid
			common := commonInterests(interests, p.interests)
			p.queue(wire.MustEncode(wire.EvMatchFound, wire.MatchFoundData{PartnerID: c.id, MatchID: mid, CommonInterests: common, Mode: mode}))
			c.queue(wire.MustEncode(wire.EvMatchFound, wire.MatchFoundData{PartnerID: p.id, Initiator: true, MatchID: mid, CommonInterests: common, Mode: mode}))
			return append(touched, p, c)
		}
		s.queues[k] = q
	}
	c.waiting = true
	for _, k := range keys {
		s.queues[k] = append(s.queues[k], entry{c, c.gen})
	}
	if interests == nil {
		interests = []string{}
	}
	c.queue(wire.MustEncode(wire.EvWaiting, wire.WaitingData{Message: "Looking for someone you can chat with...", Interests: interests, Mode: mode}))
	return append(touched, c)
}

func commonInterests(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// relay sends a signal, chat or typing message to c's partner only.
func (s *server) relay(c *conn, in wire.Inbound) []*conn {
	frame, err := relayFrame(c.id, in)
	if err != nil {
		c.queue(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrBadRequest, Message: err.Error()}))
		return []*conn{c}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.partner == nil {
		c.queue(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrNotMatched, Message: in.Event + " needs a partner"}))
		return []*conn{c}
	}
	c.partner.queue(frame)
	return []*conn{c.partner}
}

// relayFrame is the frame the partner gets for a relayed message from id.
func relayFrame(id wire.ClientID, in wire.Inbound) ([]byte, error) {
	switch in.Event {
	case wire.EvSignal:
		var r wire.SignalRequest
		if err := json.Unmarshal(in.Data, &r); err != nil || r.Type == "" || len(r.Payload) == 0 {
			return nil, errors.New("signal data must be {type, payload}")
		}
		return wire.Encode(wire.EvSignal, wire.SignalData{SenderID: id, Type: r.Type, Payload: r.Payload})
	case wire.EvChat:
		var r wire.ChatData
		if err := json.Unmarshal(in.Data, &r); err != nil {
			return nil, errors.New("chat data must be {text}")
		}
		return wire.Encode(wire.EvChat, r)
	}
	var r wire.TypingRequest
	if err := json.Unmarshal(in.Data, &r); err != nil {
		return nil, errors.New("typing data must be {typing}")
	}
	return wire.Encode(wire.EvTyping, r)
}
