package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// fakeFault makes the fake server misbehave in one way, to prove the checker notices.
type fakeFault int

const (
	faultNone           fakeFault = iota
	faultDupSignal                // every signal is delivered twice
	faultMisrouteSignal           // every signal goes back to its sender
	faultDoubleMatch              // every match_found is sent twice
	faultWrongReason              // partner_left always says "disconnected"
	faultIgnoreMode               // one queue for every mode
	faultNeverMatch               // everyone waits forever
)

// fakeServer is a tiny in-memory implementation of the wire protocol, enough to test the
// load generator without the real server. One mutex, no Redis.
type fakeServer struct {
	fault fakeFault

	mu      sync.Mutex
	nextID  int
	conns   map[string]*fakeConn
	queue   map[string][]string // by mode
	partner map[string]string
	matchID map[string]string
}

type fakeConn struct {
	id  string
	wmu sync.Mutex
	ws  *websocket.Conn
}

func (c *fakeConn) send(event string, data any) {
	b, err := json.Marshal(wire.Outbound[any]{Event: event, Data: data})
	if err != nil {
		panic(err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteMessage(websocket.TextMessage, b)
}

func startFake(t *testing.T, fault fakeFault) string {
	t.Helper()
	f := &fakeServer{fault: fault, conns: map[string]*fakeConn{}, queue: map[string][]string{}, partner: map[string]string{}, matchID: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serveWS))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func (f *fakeServer) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.nextID++
	c := &fakeConn{id: fmt.Sprintf("u%d", f.nextID), ws: ws}
	f.conns[c.id] = c
	f.mu.Unlock()
	c.send(wire.EvHello, wire.HelloData{ID: wire.ClientID(c.id), ResumeToken: "t-" + c.id, ICEServers: []wire.ICEServer{}})
	c.send(wire.EvOnline, struct {
		Count int `json:"count"`
	}{1})
	defer func() {
		f.mu.Lock()
		f.endMatch(c.id, "disconnected")
		f.unqueue(c.id)
		delete(f.conns, c.id)
		f.mu.Unlock()
		ws.Close()
	}()
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var ev wire.Inbound
		if err := json.Unmarshal(msg, &ev); err != nil {
			c.send(wire.EvError, wire.ErrorData{Code: "bad_json"})
			continue
		}
		f.mu.Lock()
		f.dispatch(c, ev)
		f.mu.Unlock()
	}
}

// dispatch runs with f.mu held; sends under it are fine for a test fake.
func (f *fakeServer) dispatch(c *fakeConn, ev wire.Inbound) {
	switch ev.Event {
	case wire.EvFindMatch:
		var req wire.FindMatchRequest
		if err := json.Unmarshal(ev.Data, &req); err != nil {
			c.send(wire.EvError, wire.ErrorData{Code: "bad_request"})
			return
		}
		mode := string(req.Mode)
		if mode == "" {
			mode = "video"
		}
		q := mode
		if f.fault == faultIgnoreMode {
			q = "any"
		}
		f.endMatch(c.id, "next")
		f.unqueue(c.id)
		if len(f.queue[q]) == 0 || f.fault == faultNeverMatch {
			f.queue[q] = append(f.queue[q], c.id)
			c.send(wire.EvWaiting, struct{}{})
			return
		}
		other := f.queue[q][0]
		f.queue[q] = f.queue[q][1:]
		mid := "m-" + c.id + "-" + other
		f.partner[c.id], f.partner[other] = other, c.id
		f.matchID[c.id], f.matchID[other] = mid, mid
		for _, side := range []struct {
			id, partner string
			init        bool
		}{{c.id, other, true}, {other, c.id, false}} {
			n := 1
			if f.fault == faultDoubleMatch {
				n = 2
			}
			for range n {
				f.conns[side.id].send(wire.EvMatchFound, wire.MatchFoundData{PartnerID: wire.ClientID(side.partner), Initiator: side.init, MatchID: wire.MatchID(mid), Mode: wire.Mode(mode)})
			}
		}
	case wire.EvLeave:
		f.endMatch(c.id, "left")
		f.unqueue(c.id)
	case wire.EvSignal:
		p, ok := f.partner[c.id]
		if !ok {
			c.send(wire.EvError, wire.ErrorData{Code: "not_matched"})
			return
		}
		var s struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(ev.Data, &s); err != nil {
			c.send(wire.EvError, wire.ErrorData{Code: "bad_request"})
			return
		}
		to := f.conns[p]
		if f.fault == faultMisrouteSignal {
			to = c
		}
		out := wire.SignalData{SenderID: wire.ClientID(c.id), Type: s.Type, Payload: s.Payload}
		to.send(wire.EvSignal, out)
		if f.fault == faultDupSignal {
			to.send(wire.EvSignal, out)
		}
	default:
		c.send(wire.EvError, wire.ErrorData{Code: "unknown_event"})
	}
}

func (f *fakeServer) endMatch(id, reason string) {
	p, ok := f.partner[id]
	if !ok {
		return
	}
	delete(f.partner, id)
	delete(f.partner, p)
	delete(f.matchID, id)
	delete(f.matchID, p)
	if f.fault == faultWrongReason {
		reason = "disconnected"
	}
	if pc, ok := f.conns[p]; ok {
		pc.send(wire.EvPartnerLeft, wire.PartnerLeftData{From: wire.ClientID(id), Reason: reason})
	}
}

func (f *fakeServer) unqueue(id string) {
	for mode, q := range f.queue {
		for i, w := range q {
			if w == id {
				f.queue[mode] = append(q[:i], q[i+1:]...)
				return
			}
		}
	}
}
