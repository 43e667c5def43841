package main

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/wire"
)

// The hub's background loops: the heartbeat that says this instance is alive, pings, the
// cluster-wide online count, the sweep that ends matches with users of dead instances and
// reconciles waiting users with Redis, and the refresh of the keys of live conversations.

// loopState is what the background loops write (and the hub's readers read): the Hub's
// fields of this file.
type loopState struct {
	online      atomic.Int64                      // cluster-wide, as last computed
	onlineLocal atomic.Int64                      // the local client count when online was computed
	searchAll   metrics.ModeCounts                // cluster-wide, as last computed
	searchThen  metrics.ModeCounts                // the local counts when searchAll was computed
	redisOK     atomic.Bool                       // the last heartbeat reached Redis
	redisSince  atomic.Int64                      // unix nanoseconds since Redis has been reachable again
	sweeps      int                               // sweeps run (only the sweep loop touches it)
	missing     map[*session.Session]wire.MatchID // matches the last check found missing (the sweep's)
}

// Run keeps the loops going, and delivers envelopes from other instances, until Stop.
func (h *Hub) Run() {
	h.heartbeat() // mark ourselves alive before anyone can be matched with us
	loops := []struct {
		every time.Duration
		do    func()
	}{
		{h.cfg.HeartbeatInterval, h.heartbeat},
		{h.cfg.OnlineInterval, h.updateOnline},
		{h.cfg.SweepInterval, h.sweep},
		{h.cfg.MatchTTL / 3, h.refresh},
		{h.cfg.PingInterval, h.pingAll},
	}
	for _, l := range loops {
		h.loops.Add(1)
		go func() {
			defer h.loops.Done()
			t := time.NewTicker(l.every)
			defer t.Stop()
			for {
				select {
				case <-h.ctx.Done():
					return
				case <-t.C:
					l.do()
				}
			}
		}()
	}
	h.loops.Add(1)
	go func() {
		defer h.loops.Done()
		h.bus.Run(h.ctx, h.handleEnvelope)
	}()
}

func (h *Hub) heartbeat() {
	err := h.mm.Heartbeat(h.ctx, h.cfg.Self, h.ClientCount(), h.searching.Load(), h.cfg.HeartbeatTTL)
	if was := h.redisOK.Swap(err == nil); was != (err == nil) {
		if err == nil {
			h.redisSince.Store(h.now().UnixNano())
			h.log.Info("Redis reachable: ready")
		} else {
			h.log.Error("Redis unreachable: not ready; matchmaking answers unavailable", "err", err)
		}
	}
}

// pingAll pings every connection: one ticker for the instance instead of a timer per
// connection.
func (h *Hub) pingAll() { h.eachConn(session.Conn.Ping) }

// roundWorkers bounds the goroutines of a round over every connection (pings, the online
// count). They write themselves (Conn.SendNow, Conn.Ping): a writer goroutine per connection
// would be 10 000 stacks at once for 10 000 idle connections, held until the next GC. They
// write only to a socket that can take the frame at once: one that cannot (a client that does
// not read) gets a writer goroutine of its own, so no client holds up a round.
const roundWorkers = 16

// eachConn runs f for every local connection on at most roundWorkers goroutines.
func (h *Hub) eachConn(f func(session.Conn)) {
	sessions := h.snapshot()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(roundWorkers, len(sessions)) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(sessions)); i = next.Add(1) - 1 {
				f(sessions[i].Out)
			}
		})
	}
	wg.Wait()
}

// updateOnline recomputes the cluster-wide counts (users online, and searching per mode) and
// sends them to local users when they changed.
func (h *Hub) updateOnline() {
	local, localSearching := int64(h.ClientCount()), h.searching.Load()
	n, err := h.mm.Online(h.ctx)
	if err != nil {
		return
	}
	h.metrics.InstancesAlive.Set(float64(n.Instances))
	// the language queues' lengths are the cluster's, as every instance reads them (a failed
	// read is counted by Call; the gauges keep their last values)
	if q, err := h.mm.LanguageQueues(h.ctx); err == nil {
		for mode, lens := range q {
			for i, n := range lens {
				h.metrics.LanguageQueues.WithLabelValues(string(mode), wire.Languages[i]).Set(float64(n))
			}
		}
	}
	if q, err := h.mm.WatchedQueues(h.ctx); err == nil {
		for mode, n := range q {
			h.metrics.WatchedQueues.WithLabelValues(string(mode)).Set(float64(n))
		}
	}
	h.onlineLocal.Store(local)
	h.searchThen.Store(localSearching)
	searchingChanged := h.searchAll.Swap(n.Searching)
	if h.online.Swap(n.Clients) == n.Clients && !searchingChanged {
		return
	}
	frame := wire.MustEncode(wire.EvOnline, wire.OnlineData{Count: n.Clients, Searching: n.Searching})
	h.eachConn(func(out session.Conn) { out.SendNow(frame) })
}

// matchCheckEvery: every this many sweeps, the matches of local users are checked against
// Redis (one round trip for all of them); a match missing twice in a row is over.
const matchCheckEvery = 3

// sweep keeps local conversations true to Redis: it retries ends Redis has not taken,
// reconciles users that have waited a while, ends matches whose partner's instance has died
// (a partner that resumed elsewhere has told us where it lives now, KindMoved, so its
// instance is alive), and every matchCheckEvery sweeps ends matches Redis no longer has and
// corrects routes to partners that moved.
func (h *Hub) sweep() {
	type remote struct {
		s       *session.Session
		partner wire.ClientID
		inst    wire.InstanceID
		match   wire.MatchID
	}
	var remotes, matched []remote
	var waiting []*session.Session
	seen := map[wire.InstanceID]bool{}
	var insts []wire.InstanceID
	now := h.now()
	for _, s := range h.snapshot() {
		if partner, inst, mid, ok := s.PartnerRoute(); ok {
			matched = append(matched, remote{s, partner, inst, mid})
			if inst != h.cfg.Self {
				remotes = append(remotes, remote{s, partner, inst, mid})
				if !seen[inst] {
					seen[inst] = true
					insts = append(insts, inst)
				}
			}
		}
		if _, since, ok := s.WaitingSince(); ok && now.Sub(since) > h.cfg.SweepInterval {
			waiting = append(waiting, s)
		}
	}
	if !h.redisOK.Load() {
		return
	}
	h.retryAllUnfinished()
	h.reconcileWaiting(waiting)
	if h.sweeps++; h.sweeps%matchCheckEvery == 0 && len(matched) > 0 {
		checks := make([]MatchCheck, len(matched))
		for i, m := range matched {
			checks[i] = MatchCheck{User: m.s.ID, Match: m.match, Partner: m.partner}
		}
		if states, err := h.mm.MatchStates(h.ctx, checks); err == nil {
			missing := map[*session.Session]wire.MatchID{}
			for i, m := range matched {
				if !states[i].Exists {
					missing[m.s] = m.match
				}
				h.correct(m.s, m.partner, m.inst, m.match, states[i])
			}
			h.missing = missing
		}
	}
	// Right after Redis comes back (or at start-up) other instances may not have renewed
	// their heartbeats yet: a missing heartbeat means death only once everyone has had a
	// full heartbeat TTL to renew it.
	if len(insts) == 0 || now.Sub(time.Unix(0, h.redisSince.Load())) < h.cfg.HeartbeatTTL {
		return
	}
	alive, err := h.mm.Alive(h.ctx, insts)
	if err != nil {
		return
	}
	for _, r := range remotes {
		if !alive[r.inst] {
			h.partnerGone(r.s, r.partner, r.match)
		}
	}
}

// correct applies what Redis says of one local user's match: a socket whose identity Redis
// knows elsewhere (another instance or token) is closed as superseded; a match Redis no longer has
// (restarted empty, or a partner_left that was lost) ends for this user, whose partner is
// told too; a partner that lives elsewhere than we route to (a lost moved notice) is routed
// to where it lives. A match found missing is only ended when the previous check found it
// missing too: one that just ended has its own partner_left on the way, with its own reason.
//
// What Redis said is only news while the session is still in the match that was checked and
// no operation of its own is under way: the read is not atomic with the session, and a user
// who pressed Next or Stop since has a new match, or none, and a new resume token (a churning
// user's token would otherwise look like another socket's).
func (h *Hub) correct(s *session.Session, partner wire.ClientID, inst wire.InstanceID, mid wire.MatchID, st MatchState) {
	if !s.TryLockOps() {
		return // an operation of its own is under way: the next check decides
	}
	defer s.UnlockOps()
	if !s.IsMatchedWith(partner, mid) {
		return // moved on since the check was read
	}
	switch {
	case st.Instance != "" && st.Instance != h.cfg.Self || st.Token != "" && st.Token != s.Token():
		// the identity lives on a newer socket (its replaced notice was lost): this one goes
		h.metrics.Reconciled.WithLabelValues("superseded").Inc()
		h.superseded(s)
	case !st.Exists && h.missing[s] != mid:
		// first seen missing: the next check decides
	case !st.Exists:
		h.metrics.Reconciled.WithLabelValues("match_vanished").Inc()
		h.finish(s, h.record(s.PartnerGone(partner, mid, inst)).Ended)
	case st.PartnerInstance != "" && st.PartnerInstance != inst:
		h.metrics.Reconciled.WithLabelValues("rerouted").Inc()
		h.record(s.PartnerMoved(mid, wire.Peer{ID: partner, Instance: st.PartnerInstance}))
	}
}

// retryAllUnfinished runs again every end Redis has not taken yet.
func (h *Hub) retryAllUnfinished() {
	h.mu.RLock()
	pending := make([]*session.Session, 0, len(h.unfinished))
	for s := range h.unfinished {
		pending = append(pending, s)
	}
	h.mu.RUnlock()
	for _, s := range pending {
		if s.TryLockOps() {
			h.retryUnfinished(s)
			s.UnlockOps()
		}
	}
}

// reconcileWaiting compares users that have waited a while with what Redis says of them.
// Messages between instances are at-most-once, and a Redis restart forgets the queues: a
// user that was paired but never told is told now, and one Redis no longer has waiting is
// queued again with the same search.
func (h *Hub) reconcileWaiting(sessions []*session.Session) {
	if len(sessions) == 0 {
		return
	}
	ids := make([]wire.ClientID, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	states, err := h.mm.UserStates(h.ctx, ids)
	if err != nil {
		return
	}
	for i, s := range sessions {
		// A user with an operation of its own under way (a find_match whose script is
		// queued in Redis, say) is left alone: that operation knows what Redis did.
		if !s.TryLockOps() {
			continue
		}
		h.reconcileOne(s, states[i])
		s.UnlockOps()
	}
}

// reconcileOne applies what Redis says of one waiting user. Called with its op lock held.
func (h *Hub) reconcileOne(s *session.Session, st UserState) {
	ticket, _, current := s.WaitingSince()
	switch {
	case !current || st.Ticket != ticket && st.State != "":
		// moved on locally, or a newer search of this user is in Redis
	case st.State == "matched":
		// someone else's enqueue paired it (its own would have been under way): it is
		// the side that waits for the offer
		m, err := h.mm.MatchOf(h.ctx, st.Match, st.Partner)
		if err != nil || m.Partner.Instance == "" {
			return
		}
		h.metrics.Reconciled.WithLabelValues("match_applied").Inc()
		h.record(s.MatchedBy(session.Found{Ticket: ticket, Match: st.Match, Common: m.Common, Language: m.Language}, m.Partner, m.Mode))
	case st.State != "waiting":
		h.metrics.Reconciled.WithLabelValues("requeued").Inc()
		h.searchAgain(s, ticket, EnqueueRequest{Requeue: true})
	}
}

// partnerGone ends a match whose partner vanished with its instance, unless the partner is
// still within its resume grace, and tells the local user.
func (h *Hub) partnerGone(s *session.Session, partner wire.ClientID, mid wire.MatchID) {
	s.LockOps()
	defer s.UnlockOps()
	if !s.IsMatchedWith(partner, mid) || h.partnerMayResume(s, partner, mid) {
		return
	}
	h.finish(s, h.record(s.PartnerGone(partner, mid, "")).Ended)
}

// partnerMayResume is asked when the partner's instance is dead: it says whether to keep the
// match for now, because the partner resumed on a live instance (routing is updated) or is
// still within its grace period. Called with the op lock held.
func (h *Hub) partnerMayResume(s *session.Session, partner wire.ClientID, mid wire.MatchID) bool {
	p, err := h.mm.UserRoute(h.ctx, partner)
	if err != nil {
		return true // Redis is away: decide at the next sweep
	}
	if p.Match != mid {
		return false
	}
	if p.Instance != "" {
		if alive, err := h.mm.Alive(h.ctx, []wire.InstanceID{p.Instance}); err == nil && alive[p.Instance] {
			if _, inst, _, _ := s.PartnerRoute(); inst != p.Instance {
				h.metrics.Reconciled.WithLabelValues("rerouted").Inc()
				h.record(s.PartnerMoved(mid, wire.Peer{ID: partner, Instance: p.Instance}))
			}
			return true
		}
	}
	return h.now().Before(p.DetachedUntil)
}

// refresh extends the Redis TTLs of local users that are waiting or matched, and of the
// queues they wait in, in one round trip, so a long conversation (or wait) keeps its state.
func (h *Hub) refresh() {
	var users []wire.ClientID
	var matches []wire.MatchID
	queues := map[string]bool{}
	for _, s := range h.snapshot() {
		user, match, mode, wish := s.LiveKeys()
		if user {
			users = append(users, s.ID)
		}
		if match != "" {
			matches = append(matches, match) // one side refreshes the match hash
		}
		if mode != "" {
			for _, q := range h.mm.keys.Queues(mode, wish) {
				queues[q] = true
			}
		}
	}
	if err := h.mm.Refresh(h.ctx, users, matches, slices.Collect(maps.Keys(queues))); err != nil {
		h.log.Debug("refresh failed; the next one retries", "err", err)
	}
}
