package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/ice"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/poll"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/web"
	"github.com/go-megle/go-megle/internal/wire"
)

// HubConfig is what the hub needs from Config.
type HubConfig struct {
	Self              wire.InstanceID
	InterestFallback  time.Duration
	WatchWait         time.Duration // a watched user waits this long for another before everyone is offered
	MatchTTL          time.Duration
	ResumeGrace       time.Duration
	HeartbeatInterval time.Duration
	HeartbeatTTL      time.Duration
	SweepInterval     time.Duration
	OnlineInterval    time.Duration
	PingInterval      time.Duration
	Limits            ClientLimits
}

// HubParts are the parts the hub carries out its users' operations with.
type HubParts struct {
	Matchmaker *Matchmaker
	Bus        *Bus
	Safety     *safety.Safety
	Pow        *safety.PowGate
	ICE        *ice.ICEProvider
	Log        *slog.Logger
	Metrics    *metrics.Metrics
	Now        func() time.Time
}

// Hub is this instance's registry of users: the sessions of connected users and those of
// dropped users held for a resume. It routes every message for a user (to the local session,
// or once through the Bus to the instance where the user lives), carries out what sessions
// decide (operations.go), keeps the background loops (liveness.go), and drains and stops.
//
// Whatever arrives for a local user is delivered only if that user is matched with the sender
// in the same match (session.Session.Relayed): ids sent by clients are never trusted.
//
// mu is second in the lock order (main.go's package comment): after a session's op lock,
// before a session's mu and a connection's locks.
type Hub struct {
	cfg     HubConfig
	mm      *Matchmaker
	bus     *Bus
	safety  *safety.Safety
	pow     *safety.PowGate // nil: no proof of work
	ice     *ice.ICEProvider
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time

	ctx       context.Context // ends when the hub stops; parent of every Redis operation
	cancel    context.CancelFunc
	loops     sync.WaitGroup // background loops
	attaching sync.WaitGroup // Attach calls under way
	pumps     sync.WaitGroup // connections' pump goroutines (counted by client.go)

	mu        sync.RWMutex
	draining  atomic.Bool // set under mu: Attach and Drain decide under the same lock
	stopped   bool        // under mu: no hold starts any more
	sessions  map[wire.ClientID]*session.Session
	held      map[wire.ClientID]*heldSession
	searching metrics.ModeCounts // local users searching, by mode (step keeps it)

	pendingEnds // ending.go's: ends Redis has not taken yet
	loopState   // liveness.go's: what the loops found
}

// heldSession is one hold of a dropped user; its identity tells a stale timer from the
// current one.
type heldSession struct {
	s     *session.Session
	timer *time.Timer // written under h.mu, before anyone reads it there
}

// NewHub creates a hub; Run starts its background loops.
func NewHub(parent context.Context, cfg HubConfig, p HubParts) *Hub {
	ctx, cancel := context.WithCancel(parent)
	return &Hub{
		cfg: cfg, mm: p.Matchmaker, bus: p.Bus, safety: p.Safety, pow: p.Pow, ice: p.ICE, log: p.Log, metrics: p.Metrics, now: p.Now,
		ctx: ctx, cancel: cancel,
		sessions: map[wire.ClientID]*session.Session{}, held: map[wire.ClientID]*heldSession{},
		pendingEnds: pendingEnds{unfinished: map[*session.Session]*session.Ended{}},
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
		s.Out.Close(wire.CloseServiceRestart, "server restarting")
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
func (h *Hub) Attach(conn *websocket.Conn, idle poll.IdleWait, ip, resumeToken string, onEnd func()) {
	h.mu.Lock()
	if h.draining.Load() {
		h.mu.Unlock()
		web.Refuse(conn, nil, wire.CloseServiceRestart, "server restarting", h.log)
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
		web.Refuse(conn, ban.Frame(), wire.CloseBanned, "banned", h.log)
		onEnd()
		return
	}

	id, token := wire.ClientID(wire.NewID()), ""
	var resumed *ResumeResult
	if resumeToken != "" {
		if res, next, ok := h.resume(resumeToken, addr); ok {
			id, token, resumed = res.ID, next, &res
		}
	}
	if token == "" {
		token = session.NewResumeToken(id)
	}
	// no per-client logger (it costs every idle connection a handler copy): log lines name the client
	c := newClient(id, ip, h.cfg.Limits, clientParts{To: h, Conn: conn, Idle: idle, Pumps: &h.pumps, Log: h.log, Metrics: h.metrics})
	var arm func(*session.Session, string) func() bool
	if h.cfg.InterestFallback > 0 {
		arm = h.armFallback
	}
	s := session.NewSession(session.Identity{ID: id, TokenHash: session.HashToken(token), Addr: addr},
		session.Parts{Out: c, Now: h.now, ArmFallback: arm, ICEServers: func() []wire.ICEServer { return h.ice.ForMatch(id) }})
	c.sess = s
	// TURN credentials only with a call to make (match_found), or to a resumed user who is in one
	hello := wire.HelloData{ID: id, ResumeToken: token, ICEServers: h.ice.STUN(), TURN: h.ice.HasTURN(), Resumed: resumed != nil,
		AppealKey: h.safety.AppealKey(id)}
	perMinute := h.opened(addr, id)
	if resumed == nil {
		if hello.Pow = h.pow.Challenge(id, perMinute); hello.Pow != nil {
			h.metrics.PowPrice.Observe(float64(hello.Pow.MaxNumber) / float64(h.pow.MaxNumber))
		}
	} else {
		if resumed.Match != nil {
			hello.ICEServers = h.ice.Servers(id)
		}
		hello.Match = resumed.Match
		h.record(s.Restore(resumed.Match, resumed.Partner))
	}
	h.register(s)
	hello.Online, hello.Searching = h.Online(), h.Searching()
	c.SendNow(wire.MustEncode(wire.EvHello, hello)) // on this goroutine: no writer of its own to start
	c.start(onEnd)
}

// opened records a connection opening of the address addr as user id (the address's rate, for
// the proof of work's price, and its distinct users, for the console) and returns the
// address's openings in the last minute: 0 when Redis cannot say, and the base price then.
func (h *Hub) opened(addr string, id wire.ClientID) float64 {
	perMinute, err := h.safety.Opened(h.ctx, addr, id)
	if err != nil {
		h.log.Debug("could not count the connection opening; the proof of work costs the base", "err", err)
	}
	return perMinute
}

// openRate is the address's openings in the last minute, counting none (the price of a fresh
// challenge after a refused solution): 0 when Redis cannot say.
func (h *Hub) openRate(addr string) float64 {
	perMinute, err := h.safety.OpenRate(h.ctx, addr)
	if err != nil {
		h.log.Debug("could not read the address's openings; the proof of work costs the base", "err", err)
	}
	return perMinute
}

// --- the registry ---

// register adds a connected user's session. A session the user had here before is
// superseded: an old socket the server has not seen die yet is closed with 4001 (one identity,
// one socket), a hold is dropped. One that arrives while the instance drains is closed for a
// restart at once, like those Drain found.
func (h *Hub) register(s *session.Session) {
	h.mu.Lock()
	if old := h.sessions[s.ID]; old != nil {
		h.record(old.Moved())
		old.Out.Close(wire.CloseReplaced, "replaced by a newer connection")
	}
	h.sessions[s.ID] = s
	if hs, ok := h.held[s.ID]; ok {
		hs.timer.Stop()
		delete(h.held, s.ID)
		h.record(hs.s.Moved())
	}
	n, draining := len(h.sessions), h.draining.Load()
	h.mu.Unlock()
	h.metrics.Clients.Set(float64(n))
	if draining {
		s.Out.Close(wire.CloseServiceRestart, "server restarting")
	}
}

func (h *Hub) unregister(s *session.Session) {
	h.mu.Lock()
	if h.sessions[s.ID] == s {
		delete(h.sessions, s.ID)
	}
	n := len(h.sessions)
	h.mu.Unlock()
	h.metrics.Clients.Set(float64(n))
}

func (h *Hub) lookup(id wire.ClientID) *session.Session {
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

func (h *Hub) snapshot() []*session.Session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*session.Session, 0, len(h.sessions))
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
	now, all, then := h.searching.Load(), h.searchAll.Load(), h.searchThen.Load()
	return wire.Searching{Video: max(all.Video+now.Video-then.Video, now.Video), Text: max(all.Text+now.Text-then.Text, now.Text)}
}

// --- routing ---

// record counts what a session's transition did in the metrics and the searching counts, and
// hands its Effects on.
func (h *Hub) record(fx session.Effects) session.Effects {
	if fx.StoppedSearching != "" {
		h.metrics.Waiting.WithLabelValues(string(fx.StoppedSearching)).Dec()
		h.searching.Of(fx.StoppedSearching).Add(-1)
	}
	if fx.StartedSearching != "" {
		h.metrics.Waiting.WithLabelValues(string(fx.StartedSearching)).Inc()
		h.searching.Of(fx.StartedSearching).Add(1)
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
func (h *Hub) route(inst wire.InstanceID, env *envelope.Envelope, sender string) {
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
func (h *Hub) handleEnvelope(env envelope.Envelope) {
	if env.Kind == envelope.KindBan {
		h.closeBanned(safety.Ban{Addr: env.Addr, Until: env.Until, Reason: env.Reason}, env.To, env.Frame)
		return
	}
	s := h.lookup(env.To)
	if s == nil {
		if env.Kind == envelope.KindRelay {
			h.metrics.Dropped.WithLabelValues("not_matched").Inc()
		}
		return // gone: its own disconnect ends its match and tells the partner
	}
	var fx session.Effects
	switch env.Kind {
	case envelope.KindRelay:
		fx = s.Relayed(env.From, env.Instance, env.Match, env.Frame)
	case envelope.KindMatched:
		fx = s.MatchedBy(session.Found{Ticket: env.Ticket, Match: env.Match, Common: env.Common, Language: env.Language}, env.Sender(), env.Mode)
	case envelope.KindLeft:
		fx = s.PartnerLeft(env.From, env.Match, env.Reason)
	case envelope.KindMoved:
		fx = s.PartnerMoved(env.Match, env.Sender())
	case envelope.KindCall:
		fx = s.PartnerCalled(env.From, env.Match)
	case envelope.KindPassedOver:
		fx = s.PassedOver(env.Ticket, h.Searching())
	case envelope.KindReplaced:
		if s.Token() == env.TokenHash { // the socket of the token that was just used elsewhere
			h.superseded(s)
		}
		return
	}
	if fx = h.record(fx); env.Kind == envelope.KindRelay && len(fx.Frames) == 0 {
		h.metrics.Dropped.WithLabelValues("not_matched").Inc()
	}
}

// closeBanned tells every local user of a banned address so and closes its socket with 4003;
// the banned user (user, if it is here) is sent its own frame, which holds the appeal token.
func (h *Hub) closeBanned(ban safety.Ban, user wire.ClientID, own []byte) {
	frame := ban.Frame()
	for _, s := range h.snapshot() {
		if s.Addr == ban.Addr {
			if len(own) > 0 && s.ID == user {
				s.Out.Send(own)
			} else {
				s.Out.Send(frame)
			}
			s.Out.Close(wire.CloseBanned, "banned")
		}
	}
}
