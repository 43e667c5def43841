package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// relayMode matches the clients in pairs (a burst), then has each pair's initiator send
// offers that its partner answers, paced at -rate round trips a second over all pairs or,
// with -rate 0, as fast as the answers come back (-window offers in flight per pair). Every
// received signal goes through the pair's signalChecker.
type relayMode struct {
	*matcher
	peers []atomic.Pointer[relayPeer] // by client idx; set once the pairs are known

	stopping   atomic.Bool
	inflight   atomic.Int64
	roundTrips atomic.Int64
	duplicates atomic.Int64
	misrouted  atomic.Int64

	mu       sync.Mutex
	examples samples
}

// relayPeer is one client's side of a pair.
type relayPeer struct {
	c         *client
	enc       signalEncoder
	initiator bool
	partner   *relayPeer

	mu   sync.Mutex
	chk  *signalChecker
	rtts []time.Duration

	readerBuf []byte // used only on the client's reader goroutine
}

func newRelayMode(cfg Config, t *tally) *relayMode {
	return &relayMode{matcher: newMatcher(cfg, t), peers: make([]atomic.Pointer[relayPeer], cfg.N)}
}

func (r *relayMode) before() error { return r.prepare() }

func (r *relayMode) note(v verdict, msg string) {
	switch v {
	case verdictDuplicate:
		r.duplicates.Add(1)
	case verdictMisrouted:
		r.misrouted.Add(1)
	}
	r.mu.Lock()
	r.examples.add("%s: %s", v, msg)
	r.mu.Unlock()
}

func (r *relayMode) handle(c *client, ev wire.Inbound, at time.Time) {
	switch ev.Event {
	case wire.EvWaiting:
	case wire.EvMatchFound:
		if r.peers[c.idx].Load() != nil {
			r.t.unexpectedEvent("relay: %s got match_found while paired: %s", c.id, ev.Data)
			return
		}
		r.onMatchFound(c, ev, at)
	case wire.EvSignal:
		r.onSignal(c, ev, at)
	default:
		r.t.unexpectedEvent("relay: %s got %s: %s", c.id, ev.Event, ev.Data)
	}
}

func (r *relayMode) onSignal(c *client, ev wire.Inbound, at time.Time) {
	// One pass: the payload is decoded with the signal (the relay path is the hot loop).
	var s relaySignalData
	if err := json.Unmarshal(ev.Data, &s); err != nil {
		var generic wire.SignalData
		if json.Unmarshal(ev.Data, &generic) != nil {
			r.t.badFrames.Add(1)
			return
		}
		r.note(verdictMisrouted, fmt.Sprintf("%s got a signal %s from %s with a foreign payload %s", c.id, generic.Type, generic.SenderID, generic.Payload))
		return
	}
	p := s.Payload
	peer := r.peers[c.idx].Load()
	if peer == nil {
		r.note(verdictMisrouted, fmt.Sprintf("%s got signal %s from %s before it was paired", c.id, s.Type, s.SenderID))
		return
	}
	switch {
	case s.Type == sigOffer && !peer.initiator:
		peer.mu.Lock()
		v, msg := peer.chk.gotOffer(string(s.SenderID), p)
		peer.mu.Unlock()
		if v != verdictOK {
			r.note(v, msg)
			return
		}
		peer.readerBuf = peer.enc.appendSignal(peer.readerBuf[:0], sigAnswer, p.Seq, false)
		if err := c.send(peer.readerBuf); err != nil {
			r.t.unexpectedEvent("relay: answer: %v", err)
		}
	case s.Type == sigAnswer && peer.initiator:
		peer.mu.Lock()
		v, rtt, msg := peer.chk.gotAnswer(string(s.SenderID), p, at)
		if v == verdictOK {
			peer.rtts = append(peer.rtts, rtt)
		}
		peer.mu.Unlock()
		if v != verdictOK {
			r.note(v, msg)
			return
		}
		r.inflight.Add(-1)
		r.roundTrips.Add(1)
		if r.cfg.Rate == 0 && !r.stopping.Load() {
			peer.readerBuf = r.sendOffer(peer, peer.readerBuf)
		}
	default:
		r.note(verdictMisrouted, fmt.Sprintf("%s (initiator=%v) got a %s from %s", c.id, peer.initiator, s.Type, s.SenderID))
	}
}

// sendOffer registers and sends the initiator's next offer, reusing buf.
func (r *relayMode) sendOffer(p *relayPeer, buf []byte) []byte {
	p.mu.Lock()
	seq := p.chk.sentOffer(time.Now())
	p.mu.Unlock()
	r.inflight.Add(1)
	buf = p.enc.appendSignal(buf[:0], sigOffer, seq, true)
	if err := p.c.send(buf); err != nil {
		r.t.unexpectedEvent("relay: offer: %v", err)
	}
	return buf
}

func (r *relayMode) run(ctx context.Context, clients []*client, res *Result) {
	r.burst(ctx, clients, 0)
	pr, _, _ := r.report(clients)
	rr := &RelayResult{Pairs: pr.Pairs, CrossPairs: pr.CrossPairs, TargetRate: r.cfg.Rate, OffPlan: r.offPlan(clients)}
	res.Relay = rr
	res.Examples = append(res.Examples, pr.Problems...)
	if pr.Lost > 0 || pr.DoubleBooked > 0 {
		rr.PairProblems = pr.Lost + pr.DoubleBooked
		res.fail("pairing: %d lost, %d double-booked", pr.Lost, pr.DoubleBooked)
		return
	}
	initiators, err := r.pair(clients)
	if err != nil {
		res.fail("relay: %v", err)
		return
	}

	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if r.cfg.Rate > 0 {
		interval := time.Duration(float64(len(initiators)) / r.cfg.Rate * float64(time.Second))
		for i, p := range initiators {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.pace(p, interval, interval*time.Duration(i)/time.Duration(len(initiators)), stop)
			}()
		}
	} else {
		for _, p := range initiators {
			buf := make([]byte, 0, 256)
			for range r.cfg.Window {
				buf = r.sendOffer(p, buf)
			}
		}
	}
	sleepCtx(ctx, r.cfg.Duration)
	r.stopping.Store(true)
	close(stop)
	wg.Wait()
	loadEnd := time.Now()
	r.drain(ctx)

	elapsed := loadEnd.Sub(start)
	rr.RoundTrips = r.roundTrips.Load()
	rr.RoundTripsSec = float64(rr.RoundTrips) / elapsed.Seconds()
	var all []time.Duration
	for _, p := range initiators {
		p.mu.Lock()
		all = append(all, p.rtts...)
		rr.Unanswered += int64(len(p.chk.outstanding))
		p.mu.Unlock()
	}
	rr.RTT = summarize(all)
	rr.Duplicates, rr.Misrouted = r.duplicates.Load(), r.misrouted.Load()
	r.mu.Lock()
	res.Examples = append(res.Examples, r.examples.list...)
	r.mu.Unlock()
	if rr.Duplicates > 0 {
		res.fail("%d duplicated signals", rr.Duplicates)
	}
	if rr.Misrouted > 0 {
		res.fail("%d misrouted signals", rr.Misrouted)
	}
	if rr.Unanswered > 0 {
		res.fail("%d offers unanswered after %v", rr.Unanswered, r.cfg.Drain)
	}
	if rr.RoundTrips == 0 {
		res.fail("no round trip completed")
	}
}

// pair builds both sides of every pair from the matches and publishes them to the readers.
func (r *relayMode) pair(clients []*client) ([]*relayPeer, error) {
	r.matcher.mu.Lock()
	defer r.matcher.mu.Unlock()
	byID := make(map[string]*client, len(clients))
	for _, c := range clients {
		byID[c.id] = c
	}
	var initiators []*relayPeer
	for _, c := range clients {
		m := r.matches[c.idx][0]
		if !m.Initiator {
			continue
		}
		pc := byID[m.PartnerID]
		a, err := newRelayPeer(c, m.PartnerID, m.MatchID, true)
		if err != nil {
			return nil, err
		}
		b, err := newRelayPeer(pc, c.id, m.MatchID, false)
		if err != nil {
			return nil, err
		}
		a.partner, b.partner = b, a
		initiators = append(initiators, a)
		r.peers[c.idx].Store(a)
		r.peers[pc.idx].Store(b)
	}
	return initiators, nil
}

func newRelayPeer(c *client, partnerID, matchID string, initiator bool) (*relayPeer, error) {
	enc, err := newSignalEncoder(c.id, matchID)
	if err != nil {
		return nil, fmt.Errorf("encode ids: %w", err)
	}
	return &relayPeer{
		c: c, enc: enc, initiator: initiator,
		chk:       newSignalChecker(c.id, partnerID, matchID),
		readerBuf: make([]byte, 0, 256),
	}, nil
}

// pace sends one offer every interval, first after offset, until stop closes.
func (r *relayMode) pace(p *relayPeer, interval, offset time.Duration, stop <-chan struct{}) {
	first := time.NewTimer(offset)
	defer first.Stop()
	select {
	case <-first.C:
	case <-stop:
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	buf := make([]byte, 0, 256)
	for {
		buf = r.sendOffer(p, buf)
		select {
		case <-tick.C:
		case <-stop:
			return
		}
	}
}

// drain waits for the answers to the offers in flight, at most -drain.
func (r *relayMode) drain(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.Drain)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for r.inflight.Load() > 0 && time.Now().Before(deadline) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
