package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// churnState is where one churning client is in its loop.
type churnState int

const (
	churnIdle         churnState = iota // not started, or stopped
	churnAwaitMatch                     // find_match sent
	churnAwaitPartner                   // matched as the responder: waiting for the initiator's leave
	churnHolding                        // matched as the initiator: staying a while (-hold-min, -hold-max) before it ends the match
)

// churnAfter is what a client's search followed, for the wait it measures.
type churnAfter int

const (
	afterStart   churnAfter = iota // its first search
	afterOwnEnd                    // the initiator ended its match (Next, or leave + find_match)
	afterPartner                   // the responder's partner_left
)

// churnMode loops every client through find_match → match_found → leave (or, with -next,
// find_match while matched) → find_match again. Only the initiator of a pair ends it, at once
// or (-hold-min, -hold-max) after a random while in the match; the other side waits for
// partner_left and queues again. That keeps every event the server sends predictable, so
// anything out of place is a violation rather than a race of the load.
type churnMode struct {
	cfg Config
	t   *tally

	findMatch  [][]byte // by client idx (its mode)
	leave      []byte
	wantReason string
	known      atomic.Pointer[map[string]bool] // ids of this load's clients, set before the start

	peers    []churnPeer // by client idx
	stopping atomic.Bool

	cycles      atomic.Int64
	lost        atomic.Int64
	partnerLost atomic.Int64
	violations  atomic.Int64
	foreign     atomic.Int64

	mu       sync.Mutex
	waits    []time.Duration
	ownWaits []time.Duration // the initiator's: from ending its match to its next match_found
	leftWait []time.Duration // the responder's: from partner_left to its next match_found
	examples samples
}

type churnPeer struct {
	mu      sync.Mutex
	state   churnState
	partner string
	since   time.Time // when the state began
	after   churnAfter
	flagged bool // this wait was already counted as lost
}

func newChurnMode(cfg Config, t *tally) *churnMode {
	reason := "left"
	if cfg.Next {
		reason = "next"
	}
	return &churnMode{cfg: cfg, t: t, wantReason: reason, peers: make([]churnPeer, cfg.N)}
}

func (m *churnMode) before() error {
	m.findMatch = make([][]byte, m.cfg.N)
	for i := range m.cfg.N {
		fm, err := encodeFindMatch(m.cfg.mediaFor(i), nil)
		if err != nil {
			return fmt.Errorf("encode find_match: %w", err)
		}
		m.findMatch[i] = fm
	}
	lv, err := encodeLeave()
	if err != nil {
		return fmt.Errorf("encode leave: %w", err)
	}
	m.leave = lv
	return nil
}

func (m *churnMode) violation(format string, args ...any) {
	m.violations.Add(1)
	m.mu.Lock()
	m.examples.add(format, args...)
	m.mu.Unlock()
}

// queue sends find_match; p.mu is held.
func (m *churnMode) queue(c *client, p *churnPeer, after churnAfter) {
	p.state, p.since, p.flagged, p.partner, p.after = churnAwaitMatch, time.Now(), false, "", after
	if err := c.sendFindMatch(m.findMatch[c.idx]); err != nil {
		m.t.unexpectedEvent("churn: find_match: %v", err)
	}
}

func (m *churnMode) handle(c *client, ev wire.Inbound, at time.Time) {
	p := &m.peers[c.idx]
	switch ev.Event {
	case wire.EvWaiting:
	case wire.EvMatchFound:
		var d wire.MatchFoundData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			m.t.badFrames.Add(1)
			return
		}
		m.onMatchFound(c, p, d, at)
	case wire.EvPartnerLeft:
		var d wire.PartnerLeftData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			m.t.badFrames.Add(1)
			return
		}
		m.onPartnerLeft(c, p, d)
	default:
		m.violation("%s got %s: %s", c.id, ev.Event, ev.Data)
	}
}

func (m *churnMode) onMatchFound(c *client, p *churnPeer, d wire.MatchFoundData, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != churnAwaitMatch {
		m.violation("%s got match_found with %s in state %d", c.id, d.PartnerID, p.state)
		return
	}
	if want := m.cfg.mediaFor(c.idx); want != "" && string(d.Mode) != want {
		m.violation("%s asked for %q, matched in %q with %s", c.id, want, d.Mode, d.PartnerID)
	}
	if known := *m.known.Load(); string(d.PartnerID) == c.id || !known[string(d.PartnerID)] {
		m.foreign.Add(1)
		m.violation("%s matched with %q (itself or not a client of this load)", c.id, d.PartnerID)
	}
	stopping := m.stopping.Load()
	if !stopping {
		m.cycles.Add(1)
		wait := at.Sub(p.since)
		m.mu.Lock()
		m.waits = append(m.waits, wait)
		switch p.after {
		case afterOwnEnd:
			m.ownWaits = append(m.ownWaits, wait)
		case afterPartner:
			m.leftWait = append(m.leftWait, wait)
		}
		m.mu.Unlock()
	}
	if !d.Initiator {
		p.state, p.partner, p.since, p.flagged = churnAwaitPartner, string(d.PartnerID), at, false
		return
	}
	if m.cfg.HoldMax > 0 && !stopping {
		p.state, p.partner, p.since = churnHolding, string(d.PartnerID), at
		hold := m.cfg.HoldMin + rand.N(m.cfg.HoldMax-m.cfg.HoldMin+1)
		time.AfterFunc(hold, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.state == churnHolding {
				m.endMatch(c, p)
			}
		})
		return
	}
	m.endMatch(c, p)
}

// endMatch: the initiator ends its match (and searches again, unless the load is stopping);
// p.mu is held.
func (m *churnMode) endMatch(c *client, p *churnPeer) {
	switch {
	case m.stopping.Load():
		p.state = churnIdle
		if err := c.send(m.leave); err != nil {
			m.t.unexpectedEvent("churn: leave: %v", err)
		}
	case m.cfg.Next:
		m.queue(c, p, afterOwnEnd)
	default:
		if err := c.send(m.leave); err != nil {
			m.t.unexpectedEvent("churn: leave: %v", err)
		}
		m.queue(c, p, afterOwnEnd)
	}
}

func (m *churnMode) onPartnerLeft(c *client, p *churnPeer, d wire.PartnerLeftData) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != churnAwaitPartner || string(d.From) != p.partner {
		m.violation("%s got partner_left from %s (reason %s) in state %d, partner %q", c.id, d.From, d.Reason, p.state, p.partner)
		return
	}
	// After the stop an initiator ends its last match with leave, also under -next.
	if d.Reason != m.wantReason && !(m.stopping.Load() && d.Reason == "left") {
		m.violation("%s got partner_left reason %q, want %q", c.id, d.Reason, m.wantReason)
	}
	if m.stopping.Load() {
		p.state = churnIdle
		return
	}
	m.queue(c, p, afterPartner)
}

func (m *churnMode) run(ctx context.Context, clients []*client, res *Result) {
	known := make(map[string]bool, len(clients))
	for _, c := range clients {
		known[c.id] = true
	}
	m.known.Store(&known)

	start := time.Now()
	for _, c := range clients {
		p := &m.peers[c.idx]
		p.mu.Lock()
		m.queue(c, p, afterStart)
		p.mu.Unlock()
	}
	m.watch(ctx, clients, m.cfg.Duration)
	m.stopping.Store(true)
	elapsed := time.Since(start)
	m.quiesce(ctx, clients)

	cr := &ChurnResult{
		Next: m.cfg.Next, Cycles: m.cycles.Load(),
		Lost: m.lost.Load(), PartnerLost: m.partnerLost.Load(),
		Violations: m.violations.Load(), SelfOrForeign: m.foreign.Load(),
	}
	cr.CyclesPerSec = float64(cr.Cycles) / elapsed.Seconds()
	cr.MatchesPerSec = cr.CyclesPerSec / 2
	m.mu.Lock()
	cr.Wait, cr.OwnWait, cr.LeftWait = summarize(m.waits), summarize(m.ownWaits), summarize(m.leftWait)
	res.Examples = append(res.Examples, m.examples.list...)
	m.mu.Unlock()
	res.Churn = cr
	if cr.Lost > 0 {
		res.fail("%d find_match without match_found within %v", cr.Lost, m.cfg.MatchTimeout)
	}
	if cr.PartnerLost > 0 {
		res.fail("%d partner_left missing after %v", cr.PartnerLost, m.cfg.MatchTimeout)
	}
	if cr.Violations > 0 {
		res.fail("%d protocol violations", cr.Violations)
	}
	if cr.Cycles == 0 {
		res.fail("no cycle completed")
	}
}

// watch flags clients stuck in a wait for longer than the match timeout, for d.
func (m *churnMode) watch(ctx context.Context, clients []*client, d time.Duration) {
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-end.C:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, c := range clients {
				p := &m.peers[c.idx]
				p.mu.Lock()
				limit := m.cfg.MatchTimeout
				if p.state == churnAwaitPartner {
					limit += m.cfg.HoldMax // the initiator stays that long at most
				}
				if !p.flagged && p.state != churnIdle && p.state != churnHolding && now.Sub(p.since) > limit {
					p.flagged = true
					if p.state == churnAwaitMatch {
						m.lost.Add(1)
					} else {
						m.partnerLost.Add(1)
					}
					m.violationLocked(c, p)
				}
				p.mu.Unlock()
			}
		}
	}
}

func (m *churnMode) violationLocked(c *client, p *churnPeer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.examples.add("%s stuck in state %d (partner %q) since %s", c.id, p.state, p.partner, p.since.Format(time.RFC3339Nano))
}

// quiesce waits, after the stop, until no pair is left half-ended (a responder waiting for
// its partner_left), bounded by the match timeout: the pairs formed at the end still leave
// cleanly, so closing the sockets does not cut a cycle in half.
func (m *churnMode) quiesce(ctx context.Context, clients []*client) {
	deadline := time.Now().Add(m.cfg.MatchTimeout + m.cfg.HoldMax)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		busy := 0
		for _, c := range clients {
			p := &m.peers[c.idx]
			p.mu.Lock()
			if p.state == churnAwaitPartner || p.state == churnHolding {
				busy++
			}
			p.mu.Unlock()
		}
		if busy == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
	m.partnerLost.Add(1)
	m.mu.Lock()
	m.examples.add("responders still waiting for partner_left %v after the stop", m.cfg.MatchTimeout+m.cfg.HoldMax)
	m.mu.Unlock()
}
