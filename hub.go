package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// HubConfig is what the hub needs from Config.
type HubConfig struct {
	Self              InstanceID
	InterestFallback  time.Duration
	MatchTTL          time.Duration
	ResumeGrace       time.Duration
	HeartbeatInterval time.Duration
	HeartbeatTTL      time.Duration
	SweepInterval     time.Duration
	OnlineInterval    time.Duration
	PingInterval      time.Duration
	OpTimeout         time.Duration // upper bound of one Redis operation
}

// Hub owns this instance's clients (id -> *Client), delivers messages to them, and routes
// messages for partners on other instances through the Bus. It is the only place where a
// client is looked up by id, and it only ever delivers to a client that is matched with the
// sender in the same match: ids sent by clients are never trusted.
type Hub struct {
	cfg     HubConfig
	mm      *Matchmaker
	bus     *Bus
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time

	ctx    context.Context // ends when the hub stops; parent of every Redis operation
	cancel context.CancelFunc
	wg     sync.WaitGroup // background loops
	pumps  sync.WaitGroup // client read and write pumps; a read pump ends after its cleanup

	mu       sync.RWMutex
	clients  map[ClientID]*Client
	detached map[ClientID]*heldUser // matched clients whose socket dropped, held for a resume

	online      atomic.Int64 // cluster-wide, as last computed
	onlineLocal atomic.Int64 // the local client count when online was computed
	redisOK     atomic.Bool  // the last heartbeat reached Redis
	redisSince  atomic.Int64 // unix nanoseconds since Redis has been reachable again
	draining    atomic.Bool
	onlineFrame atomic.Pointer[[]byte]
}

// NewHub creates a hub; Run starts its background loops.
func NewHub(parent context.Context, cfg HubConfig, mm *Matchmaker, bus *Bus, log *slog.Logger, m *Metrics, now func() time.Time) *Hub {
	ctx, cancel := context.WithCancel(parent)
	return &Hub{
		cfg: cfg, mm: mm, bus: bus, log: log, metrics: m, now: now,
		ctx: ctx, cancel: cancel,
		clients: map[ClientID]*Client{}, detached: map[ClientID]*heldUser{},
	}
}

// Ready says whether this instance can serve new users: Redis reachable, subscription live,
// not draining.
func (h *Hub) Ready() (bool, string) {
	switch {
	case h.draining.Load():
		return false, "draining"
	case !h.redisOK.Load():
		return false, "redis unreachable"
	case !h.bus.Live():
		return false, "subscription down"
	}
	return true, "ready"
}

// Run keeps the heartbeat, the online count, the liveness sweep and the key refresh going,
// and delivers envelopes from other instances, until Stop.
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
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
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
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.bus.Run(h.ctx, h.handleEnvelope)
	}()
}

// Drain marks the instance not ready and closes every client with 1012 (service restart), so
// clients reconnect through the load balancer and resume elsewhere. Their matches are held
// for the resume grace period.
func (h *Hub) Drain() {
	h.mu.Lock() // admit and Register decide under the same lock
	h.draining.Store(true)
	h.mu.Unlock()
	for _, c := range h.snapshot() {
		c.Close(CloseServiceRestart, "server restarting")
	}
}

// Stop waits for every client's cleanup to finish (up to ctx), then stops the loops and
// removes the heartbeat so no one is matched with this instance any more.
func (h *Hub) Stop(ctx context.Context) error {
	h.draining.Store(true)
	cleaned := make(chan struct{})
	go func() {
		h.pumps.Wait()
		close(cleaned)
	}()
	select {
	case <-cleaned:
	case <-ctx.Done():
		h.log.Warn("shutdown: client cleanup still running at the deadline", "clients", h.ClientCount())
	}
	h.mu.Lock()
	for id, held := range h.detached {
		held.timer.Stop()
		delete(h.detached, id)
	}
	h.mu.Unlock()
	// the loops stop first, so no heartbeat can re-add the key after it is removed; the
	// removal gets a moment of its own even when the drain used up the deadline
	h.cancel()
	h.wg.Wait()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return h.mm.Deregister(dctx, h.cfg.Self)
}

// admit counts a new connection's read pump among the pumps Stop waits for, unless the
// instance is draining. Under h.mu, so that it cannot race Drain or a finished Stop.
func (h *Hub) admit() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining.Load() {
		return false
	}
	h.pumps.Add(1)
	return true
}

// opContext bounds one Redis operation.
func (h *Hub) opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(h.ctx, h.cfg.OpTimeout)
}

// --- the local client registry ---

// Register adds a connected client (admitted first). One that arrives while the instance
// drains is closed for a restart at once, like those Drain found.
func (h *Hub) Register(c *Client) {
	h.mu.Lock()
	h.clients[c.id] = c
	if held, ok := h.detached[c.id]; ok {
		held.timer.Stop()
		delete(h.detached, c.id)
	}
	n, draining := len(h.clients), h.draining.Load()
	h.mu.Unlock()
	h.metrics.Clients.Set(float64(n))
	if draining {
		c.Close(CloseServiceRestart, "server restarting")
	}
}

func (h *Hub) unregister(c *Client) {
	h.mu.Lock()
	if h.clients[c.id] == c {
		delete(h.clients, c.id)
	}
	n := len(h.clients)
	h.mu.Unlock()
	h.metrics.Clients.Set(float64(n))
}

func (h *Hub) lookup(id ClientID) *Client {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.clients[id]
}

// ClientCount is the number of local clients.
func (h *Hub) ClientCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}

func (h *Hub) snapshot() []*Client {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Client, 0, len(h.clients))
	for _, c := range h.clients {
		out = append(out, c)
	}
	return out
}

// Online is the cluster-wide number of connected users: as last computed, corrected by how the
// local count moved since (so a newcomer counts itself and whoever just arrived here).
func (h *Hub) Online() int64 {
	local := int64(h.ClientCount())
	return max(h.online.Load()+local-h.onlineLocal.Load(), local)
}

// --- matchmaking operations, called from a client's read pump ---

// FindMatch leaves the client's current match or search ("next") and looks for a partner.
func (h *Hub) FindMatch(c *Client, mode Mode, interests []string) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	h.endCurrent(c, ReasonNext, false)

	ticket, mid := newID(), MatchID(newID())
	c.mu.Lock()
	c.state, c.ticket, c.mode, c.interests = stateWaiting, ticket, mode, interests
	c.pendingMatch, c.pendingLeft, c.waitStart, c.everQueued = mid, "", h.now(), true
	c.mu.Unlock()
	h.metrics.Waiting.WithLabelValues(string(mode)).Inc()

	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	res, err := h.mm.Enqueue(ctx, EnqueueRequest{
		Client: c.id, Instance: h.cfg.Self, Mode: mode, Interests: interests,
		Match: mid, Ticket: ticket, TokenHash: c.tokenHash,
	})
	h.metrics.observeRedis("match", start, err)
	if err != nil {
		h.log.Warn("find_match failed", "client", c.id, "err", err)
		c.mu.Lock()
		still := c.state == stateWaiting && c.ticket == ticket
		c.mu.Unlock()
		if still {
			// match.lua may have run although its answer was lost (a timeout): undo whatever
			// it did, so that no partner it popped is left matched with a ghost
			h.endCurrent(c, ReasonNext, false)
		}
		c.SendError(ErrUnavailable, "matchmaking is unavailable right now; try again shortly")
		return
	}
	if res.Outcome == OutcomeWaiting {
		// Under c.mu, like every event that moves the client's state: another instance may
		// already have paired it, and waiting must never follow that match_found.
		c.mu.Lock()
		if c.state == stateWaiting && c.ticket == ticket {
			c.Send(mustEncode(EvWaiting, WaitingData{Message: defaultWaitingMsg, Interests: nonNil(interests), Mode: mode}))
			if len(interests) > 0 && h.cfg.InterestFallback > 0 {
				c.fallback = time.AfterFunc(h.cfg.InterestFallback, func() { h.runFallback(c, ticket) })
			}
		}
		c.mu.Unlock()
		return
	}
	h.applyOwnMatch(c, ticket, mid, res)
}

// runFallback re-runs the match for a client still waiting with interests, now also offering
// it to (and taking from) the plain queue of its mode.
func (h *Hub) runFallback(c *Client, ticket string) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	h.searchAgain(c, ticket, EnqueueRequest{Fallback: true})
}

// searchAgain runs a client's current search once more, as the interest fallback or as the
// requeue of a search Redis lost (the flags in how), if it is still the current search.
// Called with c.opMu held.
func (h *Hub) searchAgain(c *Client, ticket string, how EnqueueRequest) {
	mid := MatchID(newID())
	c.mu.Lock()
	current := c.state == stateWaiting && c.ticket == ticket && !c.closed
	if current {
		c.pendingMatch, c.pendingLeft = mid, ""
	}
	mode, interests := c.mode, c.interests
	c.mu.Unlock()
	if !current {
		return
	}
	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	res, err := h.mm.Enqueue(ctx, EnqueueRequest{
		Client: c.id, Instance: h.cfg.Self, Mode: mode, Interests: interests,
		Match: mid, Ticket: ticket, Fallback: how.Fallback, Requeue: how.Requeue, TokenHash: c.tokenHash,
	})
	h.metrics.observeRedis("match", start, err)
	if err != nil {
		h.log.Warn("searching again failed; the user stays where it waits", "client", c.id, "err", err)
		return
	}
	if res.Outcome == OutcomeMatched {
		h.applyOwnMatch(c, ticket, mid, res)
	}
}

// applyOwnMatch applies a match that this client's own enqueue made: the client is the
// initiator; the partner, wherever it is, is told. Called with c.opMu held.
func (h *Hub) applyOwnMatch(c *Client, ticket string, mid MatchID, res EnqueueResult) {
	c.mu.Lock()
	current := c.state == stateWaiting && c.ticket == ticket
	leftReason := ""
	if c.pendingMatch == mid {
		leftReason = c.pendingLeft
	}
	mode, waited := c.mode, h.now().Sub(c.waitStart)
	if current {
		c.stopFallback()
		c.state, c.partner, c.partnerInst, c.match, c.initiator, c.common = stateMatched, res.Partner, res.PartnerInstance, mid, true, res.Common
		c.Send(mustEncode(EvMatchFound, MatchFoundData{PartnerID: res.Partner, Initiator: true, MatchID: mid,
			CommonInterests: nonNil(res.Common), Mode: mode}))
	}
	c.mu.Unlock()
	if current {
		h.metrics.Waiting.WithLabelValues(string(mode)).Dec()
	}
	kind := "random"
	if len(res.Common) > 0 {
		kind = "interest"
	}
	h.metrics.Matches.WithLabelValues(kind).Inc()
	h.metrics.MatchWait.Observe(waited.Seconds())

	// The partner is matched in Redis whatever happened here, so it is always told; if this
	// side has moved on meanwhile, the partner_left that follows reaches it after this.
	env := Envelope{Kind: KindMatched, To: res.Partner, From: c.id, Instance: h.cfg.Self, Match: mid,
		Ticket: res.PartnerTicket, Mode: mode, Common: res.Common}
	h.route(res.PartnerInstance, &env)

	if current && leftReason != "" {
		h.applyLeft(Envelope{Kind: KindLeft, To: c.id, From: res.Partner, Match: mid, Reason: leftReason})
	}
}

// Leave ends the client's match or search at its request.
func (h *Hub) Leave(c *Client) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	h.endCurrent(c, ReasonLeft, false)
}

// Disconnect cleans up after a client whose socket is gone. A matched client whose socket
// died without a close frame (or that this instance closed for a restart) is held for the
// resume grace period; everyone else ends at once.
func (h *Hub) Disconnect(c *Client, hold bool) {
	h.unregister(c)
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	c.closed = true
	matched := c.state == stateMatched
	c.mu.Unlock()
	if h.lookup(c.id) != nil {
		return // the user resumed on this instance before its old socket ended: it lives on
	}
	if hold && matched && h.holdForResume(c) {
		return
	}
	h.endCurrent(c, ReasonDisconnected, true)
}

// endCurrent ends the client's search or match in Redis and tells the partner. forget also
// deletes the client's user hash. Called with c.opMu held.
func (h *Hub) endCurrent(c *Client, reason string, forget bool) {
	c.mu.Lock()
	was, partner, pinst, mid, mode, queued := c.state, c.partner, c.partnerInst, c.match, c.mode, c.everQueued
	c.stopFallback()
	c.state, c.ticket, c.partner, c.partnerInst, c.match = stateIdle, "", "", "", ""
	c.mu.Unlock()
	if was == stateWaiting {
		h.metrics.Waiting.WithLabelValues(string(mode)).Dec()
	}
	if was == stateIdle && !(forget && queued) {
		return // nothing in Redis to end or forget
	}
	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	res, err := h.mm.LeaveIfOn(ctx, c.id, h.cfg.Self, forget)
	h.metrics.observeRedis("leave", start, err)
	if err != nil {
		h.log.Warn("leave failed", "client", c.id, "err", err)
		if was == stateMatched && pinst == h.cfg.Self {
			// Redis is away but the partner is here: it still learns at once.
			h.applyLeft(Envelope{Kind: KindLeft, To: partner, From: c.id, Match: mid, Reason: reason})
		}
		return
	}
	if res.Ended {
		if res.PartnerInstance == "" {
			res.PartnerInstance = pinst
		}
		h.route(res.PartnerInstance, &Envelope{Kind: KindLeft, To: res.Partner, From: c.id, Match: res.Match, Reason: reason})
	}
}

// --- relaying between partners ---

// Relay sends a ready-made frame to the client's current partner, and only to it.
func (h *Hub) Relay(c *Client, event string, frame []byte) {
	c.mu.Lock()
	st, partner, pinst, mid := c.state, c.partner, c.partnerInst, c.match
	c.mu.Unlock()
	if st != stateMatched {
		c.SendError(ErrNotMatched, event+" needs a partner: send find_match first")
		return
	}
	path := "local"
	if pinst != h.cfg.Self {
		path = "remote"
	}
	h.metrics.Relayed.WithLabelValues(event, path).Inc()
	h.route(pinst, &Envelope{Kind: KindRelay, To: partner, From: c.id, Match: mid, Frame: frame})
}

// route hands an envelope to the addressee's instance: straight to the local client, or once
// on that instance's channel. Never both, never every instance.
func (h *Hub) route(inst InstanceID, env *Envelope) {
	if inst == h.cfg.Self {
		h.handleEnvelope(*env)
		return
	}
	if inst == "" {
		return
	}
	if err := h.bus.Publish(inst, env); err != nil {
		h.log.Warn("cross-instance message dropped", "to_instance", inst, "err", err)
	}
}

// handleEnvelope applies a message for a local client. It never blocks.
func (h *Hub) handleEnvelope(env Envelope) {
	switch env.Kind {
	case KindRelay:
		c := h.lookup(env.To)
		if c == nil || !c.matchedWith(env.From, env.Match) {
			h.metrics.Dropped.WithLabelValues("not_matched").Inc()
			return
		}
		c.Send(env.Frame)
	case KindMatched:
		h.applyMatched(env)
	case KindLeft:
		h.applyLeft(env)
	case KindMoved:
		if c := h.lookup(env.To); c != nil {
			c.mu.Lock()
			if c.state == stateMatched && c.partner == env.From && c.match == env.Match {
				c.partnerInst = env.Instance
			}
			c.mu.Unlock()
		}
	}
}

// applyMatched tells a waiting local client that someone's enqueue paired it.
func (h *Hub) applyMatched(env Envelope) {
	c := h.lookup(env.To)
	if c == nil {
		return // gone: its own disconnect ends the match and tells the partner
	}
	c.mu.Lock()
	current := c.state == stateWaiting && c.ticket == env.Ticket
	mode, waited := c.mode, h.now().Sub(c.waitStart)
	if current {
		c.stopFallback()
		c.state, c.partner, c.partnerInst, c.match, c.initiator, c.common = stateMatched, env.From, env.Instance, env.Match, false, env.Common
		c.Send(mustEncode(EvMatchFound, MatchFoundData{PartnerID: env.From, Initiator: false, MatchID: env.Match,
			CommonInterests: nonNil(env.Common), Mode: env.Mode}))
	}
	c.mu.Unlock()
	if !current {
		return // a stale search: this client's own leave or next has ended that match
	}
	h.metrics.Waiting.WithLabelValues(string(mode)).Dec()
	h.metrics.MatchWait.Observe(waited.Seconds())
}

// applyLeft tells a local client that its partner ended the match.
func (h *Hub) applyLeft(env Envelope) {
	c := h.lookup(env.To)
	if c == nil {
		return
	}
	c.mu.Lock()
	ended := c.state == stateMatched && c.partner == env.From && c.match == env.Match
	if ended {
		c.state, c.ticket, c.partner, c.partnerInst, c.match = stateIdle, "", "", "", ""
		c.Send(mustEncode(EvPartnerLeft, PartnerLeftData{From: env.From, Reason: env.Reason}))
	} else if c.state == stateWaiting && c.pendingMatch == env.Match {
		c.pendingLeft = env.Reason // our own enqueue made this match and has not applied it yet
	}
	c.mu.Unlock()
	if ended {
		h.metrics.PartnerLeft.WithLabelValues(env.Reason).Inc()
	}
}

// --- background loops ---

func (h *Hub) heartbeat() {
	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	err := h.mm.Heartbeat(ctx, h.cfg.Self, h.ClientCount(), h.cfg.HeartbeatTTL)
	h.metrics.observeRedis("heartbeat", start, err)
	if was := h.redisOK.Swap(err == nil); was != (err == nil) {
		if err == nil {
			h.redisSince.Store(h.now().UnixNano())
		}
		if err != nil {
			h.log.Error("Redis unreachable: not ready; matchmaking answers unavailable", "err", err)
		} else {
			h.log.Info("Redis reachable: ready")
		}
	}
}

// pingAll asks every client's writer for a ping: one ticker for the instance instead of a
// timer per connection.
func (h *Hub) pingAll() {
	for _, c := range h.snapshot() {
		c.requestPing()
	}
}

// updateOnline recomputes the cluster-wide count and sends it to local clients when it changed.
func (h *Hub) updateOnline() {
	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	local := int64(h.ClientCount())
	n, instances, err := h.mm.Online(ctx)
	h.metrics.observeRedis("online", start, err)
	if err != nil {
		return
	}
	h.metrics.InstancesAlive.Set(float64(instances))
	h.onlineLocal.Store(local)
	if h.online.Swap(n) == n {
		return
	}
	frame := mustEncode(EvOnline, OnlineData{Count: n})
	for _, c := range h.snapshot() {
		c.Send(frame)
	}
}

// sweep ends the matches of local clients whose partner's instance has died. A partner that
// resumed elsewhere has told us where it lives now (KindMoved), so its instance is alive.
func (h *Hub) sweep() {
	type pair struct {
		c       *Client
		partner ClientID
		inst    InstanceID
		match   MatchID
	}
	var remote []pair
	var waiting []*Client
	seen := map[InstanceID]bool{}
	var insts []InstanceID
	now := h.now()
	for _, c := range h.snapshot() {
		c.mu.Lock()
		if c.state == stateMatched && c.partnerInst != h.cfg.Self {
			remote = append(remote, pair{c, c.partner, c.partnerInst, c.match})
			if !seen[c.partnerInst] {
				seen[c.partnerInst] = true
				insts = append(insts, c.partnerInst)
			}
		}
		if c.state == stateWaiting && now.Sub(c.waitStart) > h.cfg.SweepInterval {
			waiting = append(waiting, c)
		}
		c.mu.Unlock()
	}
	if !h.redisOK.Load() {
		return
	}
	h.reconcileWaiting(waiting)
	// Right after Redis comes back (or at start-up) other instances may not have renewed
	// their heartbeats yet: a missing heartbeat means death only once everyone has had a
	// full heartbeat TTL to renew it.
	if len(insts) == 0 || now.Sub(time.Unix(0, h.redisSince.Load())) < h.cfg.HeartbeatTTL {
		return
	}
	ctx, cancel := h.opContext()
	defer cancel()
	alive, err := h.mm.Alive(ctx, insts)
	if err != nil {
		return
	}
	for _, p := range remote {
		if alive[p.inst] {
			continue
		}
		h.partnerGone(p.c, p.partner, p.match)
	}
}

// reconcileWaiting compares clients that have waited a while with what Redis says of them.
// Messages between instances are at-most-once, and a Redis restart forgets the queues: a
// client that was paired but never told is told now, and one Redis no longer has waiting is
// queued again with the same search.
func (h *Hub) reconcileWaiting(clients []*Client) {
	if len(clients) == 0 {
		return
	}
	ids := make([]ClientID, len(clients))
	for i, c := range clients {
		ids[i] = c.id
	}
	ctx, cancel := h.opContext()
	defer cancel()
	states, err := h.mm.UserStates(ctx, ids)
	if err != nil {
		return
	}
	for i, c := range clients {
		// A client with an operation of its own under way (a find_match whose script is
		// queued in Redis, say) is left alone: that operation knows what Redis did.
		if !c.opMu.TryLock() {
			continue
		}
		h.reconcileOne(ctx, c, states[i])
		c.opMu.Unlock()
	}
}

// reconcileOne applies what Redis says of one waiting client. Called with c.opMu held.
func (h *Hub) reconcileOne(ctx context.Context, c *Client, st UserState) {
	c.mu.Lock()
	ticket, current := c.ticket, c.state == stateWaiting
	c.mu.Unlock()
	switch {
	case !current || st.Ticket != ticket && st.State != "":
		// moved on locally, or a newer search of this user is in Redis
	case st.State == "matched":
		// someone else's enqueue paired it (its own would have been under way): it is
		// the side that waits for the offer
		m, err := h.mm.MatchOf(ctx, st.Match, st.Partner)
		if err != nil || m.PartnerInstance == "" {
			return
		}
		h.metrics.Reconciled.WithLabelValues("match_applied").Inc()
		h.applyMatched(Envelope{Kind: KindMatched, To: c.id, From: st.Partner, Instance: m.PartnerInstance,
			Match: st.Match, Ticket: ticket, Mode: m.Mode, Common: m.Common})
	case st.State != "waiting":
		h.metrics.Reconciled.WithLabelValues("requeued").Inc()
		h.searchAgain(c, ticket, EnqueueRequest{Requeue: true})
	}
}

// partnerGone ends a match whose partner vanished with its instance, unless the partner is
// still within its resume grace (resume.go decides), and tells the local client.
func (h *Hub) partnerGone(c *Client, partner ClientID, mid MatchID) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	if !c.matchedWith(partner, mid) {
		return
	}
	if h.partnerMayResume(c, partner, mid) {
		return
	}
	c.mu.Lock()
	c.state, c.ticket, c.partner, c.partnerInst, c.match = stateIdle, "", "", "", ""
	c.mu.Unlock()
	ctx, cancel := h.opContext()
	defer cancel()
	if _, err := h.mm.LeaveIfOn(ctx, c.id, h.cfg.Self, false); err != nil {
		h.log.Warn("ending a match with a dead instance's user failed", "client", c.id, "err", err)
	}
	h.metrics.PartnerLeft.WithLabelValues(ReasonDisconnected).Inc()
	c.Send(mustEncode(EvPartnerLeft, PartnerLeftData{From: partner, Reason: ReasonDisconnected}))
}

// refresh extends the Redis TTLs of local users that are waiting or matched, in one round
// trip, so a long conversation keeps its state.
func (h *Hub) refresh() {
	var users []ClientID
	var matches []MatchID
	for _, c := range h.snapshot() {
		c.mu.Lock()
		if c.state != stateIdle {
			users = append(users, c.id)
		}
		if c.state == stateMatched && c.initiator {
			matches = append(matches, c.match) // one side refreshes the match hash
		}
		c.mu.Unlock()
	}
	ctx, cancel := h.opContext()
	defer cancel()
	start := time.Now()
	err := h.mm.Refresh(ctx, users, matches)
	h.metrics.observeRedis("refresh", start, err)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
