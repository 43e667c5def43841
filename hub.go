package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/wire"
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
	Limits            ClientLimits
}

// Hub is this instance's registry of users: the sessions of connected users and those of
// dropped users held for a resume. It routes every message for a user (to the local session,
// or once through the Bus to the instance where the user lives), carries out what sessions
// decide (operations.go), keeps the background loops (liveness.go), and drains and stops.
//
// Whatever arrives for a local user is delivered only if that user is matched with the sender
// in the same match (Session.relayed): ids sent by clients are never trusted.
//
// Locks: a session's op lock may be held when h.mu is taken; h.mu may be held when a
// session's mu (and then a connection's queue lock) is taken; never the other way round.
type Hub struct {
	cfg     HubConfig
	mm      *Matchmaker
	bus     *Bus
	safety  *Safety
	pow     *PowGate // nil: no proof of work
	ice     *ICEProvider
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time

	ctx       context.Context // ends when the hub stops; parent of every Redis operation
	cancel    context.CancelFunc
	loops     sync.WaitGroup // background loops
	attaching sync.WaitGroup // Attach calls under way
	pumps     sync.WaitGroup // connections' pump goroutines (counted by client.go)

	mu         sync.RWMutex
	draining   atomic.Bool // set under mu: Attach and Drain decide under the same lock
	stopped    bool        // under mu: no hold starts any more
	sessions   map[wire.ClientID]*Session
	held       map[wire.ClientID]*heldSession
	unfinished map[*Session]*Ended // ends Redis has not confirmed yet; the sweep retries them

	online      atomic.Int64              // cluster-wide, as last computed
	onlineLocal atomic.Int64              // the local client count when online was computed
	searching   searchCounts              // local users searching, by mode (step keeps it)
	searchAll   searchCounts              // cluster-wide, as last computed
	searchThen  searchCounts              // the local counts when searchAll was computed
	redisOK     atomic.Bool               // the last heartbeat reached Redis
	redisSince  atomic.Int64              // unix nanoseconds since Redis has been reachable again
	sweeps      int                       // sweeps run (only the sweep loop touches it)
	missing     map[*Session]wire.MatchID // matches the last check found missing (the sweep's)
}

// heldSession is one hold of a dropped user; its identity tells a stale timer from the
// current one.
type heldSession struct {
	s     *Session
	timer *time.Timer // written under h.mu, before anyone reads it there
}

// NewHub creates a hub; Run starts its background loops.
func NewHub(parent context.Context, cfg HubConfig, mm *Matchmaker, bus *Bus, safety *Safety, pow *PowGate, ice *ICEProvider, log *slog.Logger, m *Metrics, now func() time.Time) *Hub {
	ctx, cancel := context.WithCancel(parent)
	return &Hub{
		cfg: cfg, mm: mm, bus: bus, safety: safety, pow: pow, ice: ice, log: log, metrics: m, now: now,
		ctx: ctx, cancel: cancel,
		sessions: map[wire.ClientID]*Session{}, held: map[wire.ClientID]*heldSession{},
		unfinished: map[*Session]*Ended{},
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

// Draining says whether the instance has stopped taking users.
func (h *Hub) Draining() bool { return h.draining.Load() }

// Drain stops taking users and closes every connection with 1012 (service restart), so
// clients reconnect through the load balancer and resume elsewhere. Their matches are held
// for the resume grace period.
func (h *Hub) Drain() {
	h.mu.Lock()
	h.draining.Store(true)
	h.mu.Unlock()
	for _, s := range h.snapshot() {
		s.out.Close(CloseServiceRestart, "server restarting")
	}
}

// Stop waits for every connection's cleanup to finish (up to ctx), then stops the loops and
// removes the heartbeat so no one is matched with this instance any more.
func (h *Hub) Stop(ctx context.Context) error {
	h.mu.Lock()
	h.draining.Store(true)
	h.mu.Unlock()
	cleaned := make(chan struct{})
	go func() {
		h.attaching.Wait() // every admitted connection has started its pumps
		h.pumps.Wait()
		close(cleaned)
	}()
	select {
	case <-cleaned:
	case <-ctx.Done():
		h.log.Warn("shutdown: client cleanup still running at the deadline", "clients", h.ClientCount())
	}
	h.mu.Lock()
	h.stopped = true
	for id, hs := range h.held {
		hs.timer.Stop()
		delete(h.held, id)
	}
	h.mu.Unlock()
	// the loops stop first, so no heartbeat can re-add the key after it is removed; the
	// removal gets a moment of its own even when the drain used up the deadline
	h.cancel()
	h.loops.Wait()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return h.mm.Deregister(dctx, h.cfg.Self)
}

// Attach takes a new connection from address ip: it admits it unless the instance drains,
// turns it away if the address is banned, resumes its identity if it brought a good resume
// token, registers its session, sends hello and starts the connection's pumps. onEnd runs
// once the connection's cleanup is done. A connection that lost the race with a drain is sent
// on with 1012 at once, before any resume.
func (h *Hub) Attach(conn *websocket.Conn, idle IdleWait, ip, resumeToken string, onEnd func()) {
	h.mu.Lock()
	if h.draining.Load() {
		h.mu.Unlock()
		closeWith(conn, nil, CloseServiceRestart, "server restarting", h.log)
		onEnd()
		return
	}
	h.attaching.Add(1)
	h.mu.Unlock()
	defer h.attaching.Done()

	addr := h.safety.AddrHash(ip)
	ban, err := h.safety.Arrive(h.ctx, addr, h.safety.LegacyAddrHash(ip))
	if err != nil {
		h.log.Warn("could not check the address for a ban; letting it in", "err", err)
	}
	if ban != nil {
		h.metrics.BannedConnections.Inc()
		closeWith(conn, bannedFrame(ban), CloseBanned, "banned", h.log)
		onEnd()
		return
	}

	id, token := wire.ClientID(newID()), ""
	var resumed *ResumeResult
	if resumeToken != "" {
		if res, next, ok := h.resume(resumeToken, addr); ok {
			id, token, resumed = res.ID, next, &res
		}
	}
	if token == "" {
		token = newResumeToken(id)
	}
	// no per-client logger (it costs every idle connection a handler copy): log lines name the client
	c := newClient(id, ip, h, conn, idle, &h.pumps, h.log, h.metrics, h.cfg.Limits)
	var arm func(*Session, string) func() bool
	if h.cfg.InterestFallback > 0 {
		arm = h.armFallback
	}
	s := newSession(id, hashToken(token), addr, c, h.now, arm)
	s.iceServers = func() []wire.ICEServer { return h.ice.ForMatch(id) }
	c.sess = s
	// TURN credentials only with a call to make (match_found), or to a resumed user who is in one
	hello := wire.HelloData{ID: id, ResumeToken: token, ICEServers: h.ice.STUN(), TURN: h.ice.HasTURN(), Resumed: resumed != nil}
	if resumed == nil {
		hello.Pow = h.pow.Challenge(id)
	} else {
		if resumed.Match != nil {
			hello.ICEServers = h.ice.Servers(id)
		}
		hello.Match = resumed.Match
		h.step(s, func(s *Session) Effects {
			return s.restore(resumed.Match, resumed.PartnerInstance, resumed.PartnerAddr)
		})
	}
	h.register(s)
	hello.Online, hello.Searching = h.Online(), h.Searching()
	c.SendNow(wire.MustEncode(wire.EvHello, hello)) // on this goroutine: no writer of its own to start
	c.start(onEnd)
}

// closeWith sends a connection that is not let in a last frame (if any) and a close code.
func closeWith(conn *websocket.Conn, frame []byte, code int, text string, log *slog.Logger) {
	deadline := time.Now().Add(closeWriteWait)
	if frame != nil {
		if err := conn.SetWriteDeadline(deadline); err == nil {
			if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
				log.Debug("last frame to a connection not let in", "err", peerErr(err))
			}
		}
	}
	if err := conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), deadline); err != nil {
		log.Debug("close frame to a connection not let in", "err", peerErr(err))
	}
	if err := conn.Close(); err != nil {
		log.Debug("close a connection not let in", "err", peerErr(err))
	}
}

func bannedFrame(b *Ban) []byte {
	return wire.MustEncode(wire.EvBanned, wire.BannedData{Until: b.Until.UTC().Format(time.RFC3339), Reason: b.Reason})
}

// --- the registry ---

// register adds a connected user's session. A session the user had here before is
// superseded: an old socket the server has not seen die yet is closed with 4001 (one identity,
// one socket), a hold is dropped. One that arrives while the instance drains is closed for a
// restart at once, like those Drain found.
func (h *Hub) register(s *Session) {
	h.mu.Lock()
	if old := h.sessions[s.id]; old != nil {
		h.step(old, (*Session).moved)
		old.out.Close(CloseReplaced, "replaced by a newer connection")
	}
	h.sessions[s.id] = s
	if hs, ok := h.held[s.id]; ok {
		hs.timer.Stop()
		delete(h.held, s.id)
		h.step(hs.s, (*Session).moved)
	}
	n, draining := len(h.sessions), h.draining.Load()
	h.mu.Unlock()
	h.metrics.Clients.Set(float64(n))
	if draining {
		s.out.Close(CloseServiceRestart, "server restarting")
	}
}

func (h *Hub) unregister(s *Session) {
	h.mu.Lock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	n := len(h.sessions)
	h.mu.Unlock()
	h.metrics.Clients.Set(float64(n))
}

func (h *Hub) lookup(id wire.ClientID) *Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.sessions[id]
}

// ClientCount is the number of connected users here.
func (h *Hub) ClientCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.sessions)
}

func (h *Hub) snapshot() []*Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		out = append(out, s)
	}
	return out
}

// Online is the cluster-wide number of connected users: as last computed, corrected by how the
// local count moved since (so a newcomer counts itself and whoever just arrived here).
func (h *Hub) Online() int64 {
	local := int64(h.ClientCount())
	return max(h.online.Load()+local-h.onlineLocal.Load(), local)
}

// Searching is the cluster-wide number of users searching per mode: as last computed,
// corrected by how the local counts moved since (so a user who starts searching counts itself).
func (h *Hub) Searching() wire.Searching {
	now, all, then := h.searching.load(), h.searchAll.load(), h.searchThen.load()
	return wire.Searching{Video: max(all.Video+now.Video-then.Video, now.Video), Text: max(all.Text+now.Text-then.Text, now.Text)}
}

// searchCounts counts users searching, by mode.
type searchCounts struct{ video, text atomic.Int64 }

func (c *searchCounts) of(m wire.Mode) *atomic.Int64 {
	if m == wire.ModeText {
		return &c.text
	}
	return &c.video
}

func (c *searchCounts) load() wire.Searching {
	return wire.Searching{Video: c.video.Load(), Text: c.text.Load()}
}

func (c *searchCounts) store(s wire.Searching) {
	c.video.Store(s.Video)
	c.text.Store(s.Text)
}

// swap stores s and says whether it differs from what was there.
func (c *searchCounts) swap(s wire.Searching) (changed bool) {
	video, text := c.video.Swap(s.Video), c.text.Swap(s.Text)
	return video != s.Video || text != s.Text
}

// --- routing ---

// step runs a session verb and records what it did in the metrics.
func (h *Hub) step(s *Session, verb func(*Session) Effects) Effects {
	fx := s.step(verb)
	if fx.stoppedSearching != "" {
		h.metrics.Waiting.WithLabelValues(string(fx.stoppedSearching)).Dec()
		h.searching.of(fx.stoppedSearching).Add(-1)
	}
	if fx.startedSearching != "" {
		h.metrics.Waiting.WithLabelValues(string(fx.startedSearching)).Inc()
		h.searching.of(fx.startedSearching).Add(1)
	}
	if fx.Waited > 0 {
		h.metrics.MatchWait.Observe(fx.Waited.Seconds())
	}
	if fx.Left != "" {
		h.metrics.PartnerLeft.WithLabelValues(fx.Left).Inc()
	}
	return fx
}

// route hands an envelope to the addressee's instance: straight to the local session, or
// once on that instance's channel. Never both, never every instance. sender is whose doing
// it is (the keyed hash of the address of the user whose action it carries, busSelf for the
// instance's own), for the bus's fair share.
func (h *Hub) route(inst InstanceID, env *Envelope, sender string) {
	if inst == h.cfg.Self {
		h.handleEnvelope(*env)
		return
	}
	if inst == "" {
		return
	}
	if err := h.bus.Publish(inst, env, sender); err != nil {
		// counted (gomegle_messages_dropped_total); a flood's drops are no reason to fill the log
		h.log.Debug("cross-instance message dropped", "to_instance", inst, "err", err)
	}
}

// handleEnvelope applies a message for a local user. It never blocks.
func (h *Hub) handleEnvelope(env Envelope) {
	if env.Kind == KindBan {
		h.closeBanned(env.Addr, &wire.BannedData{Until: env.Ticket, Reason: env.Reason})
		return
	}
	s := h.lookup(env.To)
	if s == nil {
		if env.Kind == KindRelay {
			h.metrics.Dropped.WithLabelValues("not_matched").Inc()
		}
		return // gone: its own disconnect ends its match and tells the partner
	}
	var verb func(*Session) Effects
	switch env.Kind {
	case KindRelay:
		verb = func(s *Session) Effects { return s.relayed(env.From, env.Instance, env.Match, env.Frame) }
	case KindMatched:
		verb = func(s *Session) Effects {
			return s.matchedBy(env.Ticket, env.Match, env.From, env.Instance, env.Addr, env.Mode, env.Common)
		}
	case KindLeft:
		verb = func(s *Session) Effects { return s.partnerLeft(env.From, env.Match, env.Reason) }
	case KindMoved:
		verb = func(s *Session) Effects { return s.partnerMoved(env.From, env.Match, env.Instance, env.Addr) }
	case KindCall:
		verb = func(s *Session) Effects { return s.partnerCalled(env.From, env.Match) }
	case KindPassedOver:
		searching := h.Searching()
		verb = func(s *Session) Effects { return s.passedOver(env.Ticket, searching) }
	case KindReplaced:
		if s.token() == env.Ticket { // the socket of the token that was just used elsewhere
			h.superseded(s)
		}
		return
	default:
		return
	}
	if fx := h.step(s, verb); env.Kind == KindRelay && len(fx.Frames) == 0 {
		h.metrics.Dropped.WithLabelValues("not_matched").Inc()
	}
}

// closeBanned tells every local user of a banned address so and closes its socket with 4003.
func (h *Hub) closeBanned(addr string, ban *wire.BannedData) {
	frame := wire.MustEncode(wire.EvBanned, *ban)
	for _, s := range h.snapshot() {
		if s.addr == addr {
			s.out.Send(frame)
			s.out.Close(CloseBanned, "banned")
		}
	}
}
