package main

import (
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// matcher sends find_match from every client at once and records each client's match_found
// events. Burst uses it alone; relay uses it to form its pairs.
type matcher struct {
	cfg Config
	t   *tally

	frames [][]byte       // find_match by client idx: its mode and, with -cross, its pair's interest
	runTag string         // with -cross: makes this run's pair interests unique
	sentAt []atomic.Int64 // by client idx: when find_match went out, unix ns

	mu        sync.Mutex
	matches   [][]matchObs // by client idx
	waits     []time.Duration
	lastMatch time.Time

	target   atomic.Int64 // clients that must match; set before the burst starts
	matched  atomic.Int64 // clients with at least one match_found
	allDone  chan struct{}
	doneOnce sync.Once
}

func newMatcher(cfg Config, t *tally) *matcher {
	return &matcher{
		cfg: cfg, t: t,
		sentAt:  make([]atomic.Int64, cfg.N),
		matches: make([][]matchObs, cfg.N),
		allDone: make(chan struct{}),
	}
}

func (m *matcher) prepare() error {
	if m.cfg.Cross {
		tag := make([]byte, 4)
		if _, err := rand.Read(tag); err != nil {
			return fmt.Errorf("run tag: %w", err)
		}
		m.runTag = "lt" + hex.EncodeToString(tag) + "p"
	}
	m.frames = make([][]byte, m.cfg.N)
	for i := range m.cfg.N {
		fm, err := encodeFindMatch(m.cfg.mediaFor(i), m.wantInterests(i))
		if err != nil {
			return fmt.Errorf("encode find_match: %w", err)
		}
		m.frames[i] = fm
	}
	return nil
}

func (m *matcher) wantInterests(idx int) []string {
	if !m.cfg.Cross {
		return nil
	}
	return []string{m.pairInterest(idx)}
}

// pairInterest is the interest -cross gives clients 2k and 2k+1, which are spread
// round-robin over the URLs and so sit on different instances when there are two.
func (m *matcher) pairInterest(idx int) string {
	return m.runTag + strconv.Itoa(idx/2)
}

// onMatchFound records one match_found.
func (m *matcher) onMatchFound(c *client, ev wire.Inbound, at time.Time) {
	var d wire.MatchFoundData
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		m.t.badFrames.Add(1)
		return
	}
	m.mu.Lock()
	first := len(m.matches[c.idx]) == 0
	m.matches[c.idx] = append(m.matches[c.idx], matchObs{
		PartnerID: string(d.PartnerID), MatchID: string(d.MatchID), Initiator: d.Initiator, Mode: string(d.Mode), Common: d.CommonInterests,
	})
	if first {
		if sent := m.sentAt[c.idx].Load(); sent != 0 {
			m.waits = append(m.waits, at.Sub(time.Unix(0, sent)))
		}
		m.lastMatch = at
	}
	m.mu.Unlock()
	if first && m.matched.Add(1) == m.target.Load() {
		m.doneOnce.Do(func() { close(m.allDone) })
	}
}

// burst releases every client's find_match at once and waits until all are matched, the
// match timeout passes or ctx ends; then it keeps listening for -linger to catch late
// duplicates. It returns when the burst started.
func (m *matcher) burst(ctx context.Context, clients []*client, linger time.Duration) time.Time {
	m.target.Store(int64(len(clients)))
	release := make(chan struct{})
	var ready sync.WaitGroup
	for _, c := range clients {
		ready.Add(1)
		go func() {
			ready.Done()
			<-release
			m.sentAt[c.idx].Store(time.Now().UnixNano())
			if err := c.sendFindMatch(m.frames[c.idx]); err != nil {
				m.t.unexpectedEvent("find_match: %v", err)
			}
		}()
	}
	ready.Wait()
	start := time.Now()
	close(release)
	timer := time.NewTimer(m.cfg.MatchTimeout)
	defer timer.Stop()
	select {
	case <-m.allDone:
		sleepCtx(ctx, linger)
	case <-timer.C:
	case <-ctx.Done():
	}
	return start
}

// report runs the pair checker over what the clients saw.
func (m *matcher) report(clients []*client) (pairReport, []time.Duration, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	obs := make([]clientObs, len(clients))
	for i, c := range clients {
		obs[i] = clientObs{
			ID: c.id, Instance: c.instance, WantMode: m.cfg.mediaFor(c.idx),
			Matches: append([]matchObs(nil), m.matches[c.idx]...),
		}
	}
	return checkPairs(obs), append([]time.Duration(nil), m.waits...), m.lastMatch
}

// offPlan counts, under -cross, the clients whose single partner is not the planned one
// (client idx^1) or whose common_interests lack the pair's interest; 0 without -cross.
func (m *matcher) offPlan(clients []*client) int {
	if !m.cfg.Cross {
		return 0
	}
	idByIdx := make(map[int]string, len(clients))
	for _, c := range clients {
		idByIdx[c.idx] = c.id
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	off := 0
	for _, c := range clients {
		ms := m.matches[c.idx]
		if len(ms) == 1 && (ms[0].PartnerID != idByIdx[c.idx^1] || !slices.Contains(ms[0].Common, m.pairInterest(c.idx))) {
			off++
		}
	}
	return off
}

// burstMode: N clients connect, then all send find_match at once.
type burstMode struct {
	*matcher
}

func newBurstMode(cfg Config, t *tally) *burstMode { return &burstMode{matcher: newMatcher(cfg, t)} }

func (b *burstMode) before() error { return b.prepare() }

func (b *burstMode) handle(c *client, ev wire.Inbound, at time.Time) {
	switch ev.Event {
	case wire.EvMatchFound:
		b.onMatchFound(c, ev, at)
	case wire.EvWaiting:
	default:
		b.t.unexpectedEvent("burst: %s got %s: %s", c.id, ev.Event, ev.Data)
	}
}

func (b *burstMode) run(ctx context.Context, clients []*client, res *Result) {
	start := b.burst(ctx, clients, b.cfg.Linger)
	pr, waits, last := b.report(clients)
	br := &BurstResult{
		Matched: pr.Matched, Lost: pr.Lost, DoubleBooked: pr.DoubleBooked,
		Pairs: pr.Pairs, CrossPairs: pr.CrossPairs, Wait: summarize(waits),
		OffPlan: b.offPlan(clients),
	}
	if el := last.Sub(start); el > 0 {
		br.MatchesPerSec = float64(pr.Pairs) / el.Seconds()
	}
	res.Burst = br
	res.Examples = append(res.Examples, pr.Problems...)
	if pr.Lost > 0 {
		res.fail("%d clients lost (no match_found within %v)", pr.Lost, b.cfg.MatchTimeout)
	}
	if pr.DoubleBooked > 0 {
		res.fail("%d clients double-booked", pr.DoubleBooked)
	}
}
