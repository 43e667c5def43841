package session

import (
	"sync"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// Session is one user's conversation on this instance: the only owner of its state, changed
// only by the verbs below. The verbs do no I/O: each returns Effects, what must happen
// because of it, and the hub carries them out. step runs a verb under the lock and queues the
// frames for the user before it lets go, so the user sees frames in the order of transitions.
//
// Its two locks, op (a whole operation of this user, held with LockOps) and mu (one
// transition, held by Step), are first and third in the instance's lock order, which the
// root package's doc comment (main.go) writes down once.
type Session struct {
	ID   wire.ClientID
	Addr string // the user's address as its keyed hash (reports and bans find it by this)
	Out  Conn   // the user's connection
	now  func() time.Time
	// armFallback schedules the interest fallback of a search and returns its cancel; nil:
	// no fallback.
	armFallback func(ticket string) (cancel func() bool)
	// iceServers are match_found's ICE servers, with a fresh TURN credential; nil (or a nil
	// result): none in match_found.
	iceServers func() []wire.ICEServer

	op sync.Mutex

	mu           sync.Mutex
	tokenHash    string // SHA-256 of the current resume token; Redis acts for this session only while it holds the same
	phase        Phase
	ticket       string // the current search
	mode         wire.Mode
	wish         wire.Wish
	partner      wire.Peer // in a match: the other side
	match        wire.MatchID
	initiator    bool
	talk         talk         // what the server saw of the current match, for a report of it
	last         LastMatch    // the match that ended last, for a report within reportWindow
	pendingMatch wire.MatchID // the match id our own in-flight enqueue would create
	pendingLeft  string       // the reason of a partner_left for pendingMatch that came before the match applied
	early        []earlyFrame // frames for pendingMatch that came before the match applied
	waitStart    time.Time
	stopFallback func() bool
	stopWatch    func() bool  // the run that offers a watched search to everyone (watch.go)
	everQueued   bool         // the user has a hash in Redis to forget at the end
	metRecently  bool         // the current search passed over, or was passed over by, someone met recently
	callReported wire.MatchID // the match whose rtc_stats this user sent
	powPassed    bool         // this connection solved its proof of work (or did not need to)
}

// Identity is who a session is for.
type Identity struct {
	ID        wire.ClientID
	TokenHash string // SHA-256 of the user's resume token (HashToken)
	Addr      string // the user's address as its keyed hash
}

// Parts are what a session hands its frames to and asks of its caller; all but Out and Now
// may be nil.
type Parts struct {
	Out Conn
	Now func() time.Time
	// ArmFallback schedules the interest fallback of a search (the session cancels it when
	// the search ends).
	ArmFallback func(s *Session, ticket string) (cancel func() bool)
	// ICEServers gives match_found's ICE servers, with a fresh TURN credential.
	ICEServers func() []wire.ICEServer
}

// NewSession makes the session of a user that has just connected (or resumed).
func NewSession(who Identity, p Parts) *Session {
	s := &Session{ID: who.ID, tokenHash: who.TokenHash, Addr: who.Addr, Out: p.Out, now: p.Now, iceServers: p.ICEServers}
	if p.ArmFallback != nil {
		s.armFallback = func(ticket string) func() bool { return p.ArmFallback(s, ticket) }
	}
	return s
}

// step runs one transition under the lock and queues its frames for the user before the lock
// is released. The hub carries out the rest of the returned Effects.
func (s *Session) step(verb func(*Session) Effects) Effects {
	s.mu.Lock()
	defer s.mu.Unlock()
	// a search is one ticket: the gauge moves when the ticket searching changes
	wasSearching, ticket, mode := s.phase == PhaseSearching, s.ticket, s.mode
	fx := verb(s)
	same := s.phase == PhaseSearching && s.ticket == ticket
	if wasSearching && !same {
		fx.StoppedSearching = mode
	}
	if s.phase == PhaseSearching && !(wasSearching && same) {
		fx.StartedSearching = s.mode
	}
	for _, f := range fx.Frames {
		s.Out.Send(f)
	}
	return fx
}

func (s *Session) LockOps()         { s.op.Lock() }
func (s *Session) UnlockOps()       { s.op.Unlock() }
func (s *Session) TryLockOps() bool { return s.op.TryLock() }

// --- the verbs: called with s.mu held (through step; verbs.go has them as the hub calls them), no I/O ---

// end closes the current conversation, if any, and says what of it must be undone in Redis.
func (s *Session) end(reason string, forget bool) *Ended {
	e := &Ended{Was: s.phase, Reason: reason, Forget: forget && s.everQueued, Token: s.tokenHash}
	switch s.phase {
	case PhaseMatched:
		e.Partner, e.PartnerInstance, e.Match = s.partner.ID, s.partner.Instance, s.match
	case PhaseSearching:
	default:
		e.Was = PhaseIdle
	}
	s.stopTimers()
	s.toIdle()
	s.early = nil
	if !e.NeedsRedis() {
		return nil
	}
	return e
}

// beginSearch ends the current conversation ("next") and starts a search: ticket names it,
// mid is the match id our own enqueue would create. A session that is over (its identity
// lives elsewhere now) refuses: ok is false.
func (s *Session) beginSearch(ticket string, mid wire.MatchID, mode wire.Mode, wish wire.Wish) (fx Effects, ok bool) {
	if s.phase >= PhaseHeld {
		return Effects{}, false
	}
	ended := s.end(wire.ReasonNext, false)
	s.phase, s.ticket, s.mode, s.wish, s.metRecently = PhaseSearching, ticket, mode, wish, false
	s.pendingMatch, s.pendingLeft, s.waitStart, s.everQueued = mid, "", s.now(), true
	return Effects{Ended: ended}, true
}

// toIdle leaves a match or search; a match is remembered for a report.
func (s *Session) toIdle() {
	if s.phase == PhaseMatched {
		s.last = LastMatch{Match: s.match, Partner: s.partner.ID, PartnerAddr: s.partner.Addr, talk: s.talk, ended: s.now()}
	}
	s.phase, s.ticket, s.partner, s.match, s.initiator = PhaseIdle, "", wire.Peer{}, "", false
}

// queued: Redis has the search waiting in its queues; passedOver says someone the user met
// recently was passed over (it waits for someone new). searching is the cluster's count.
func (s *Session) queued(ticket string, passedOver bool, searching wire.Searching) Effects {
	if !s.searching(ticket) {
		return Effects{} // matched meanwhile (waiting must never follow that match_found), or moved on
	}
	if s.wish.FallsBack() && s.armFallback != nil {
		s.stopFallback = s.armFallback(ticket)
	}
	s.metRecently = s.metRecently || passedOver
	return Effects{Frames: [][]byte{s.waitingFrame(searching)}}
}

// passedOver: search ticket was passed over by someone it met recently (another user's
// search, or a later run of its own, the interest fallback). The user hears it once per
// search: waiting again, saying so.
func (s *Session) passedOver(ticket string, searching wire.Searching) Effects {
	if !s.searching(ticket) || s.metRecently {
		return Effects{}
	}
	s.metRecently = true
	return Effects{Frames: [][]byte{s.waitingFrame(searching)}}
}

func (s *Session) waitingFrame(searching wire.Searching) []byte {
	msg := wire.WaitingMessage
	if s.metRecently {
		msg = wire.WaitingForNewOnes
	}
	return wire.MustEncode(wire.EvWaiting, wire.WaitingData{Message: msg, Interests: wire.NonNil(s.wish.Interests), Mode: s.mode,
		Searching: searching.Of(s.mode), MetRecently: s.metRecently})
}

func (s *Session) searching(ticket string) bool {
	return s.phase == PhaseSearching && s.ticket == ticket
}

// searchAgain prepares another run of the current search (the interest fallback, or the
// requeue of a search Redis lost) with a new match id; ok is false when that search is over.
func (s *Session) searchAgain(ticket string, mid wire.MatchID) (mode wire.Mode, wish wire.Wish, ok bool) {
	if !s.searching(ticket) {
		return "", wire.Wish{}, false
	}
	s.pendingMatch, s.pendingLeft, s.early = mid, "", nil
	return s.mode, s.wish, true
}

// matchedOwn: our own enqueue for search f.Ticket paired us with partner in match f.Match; we
// initiate. If the partner already left that match (its partner_left overtook our answer),
// the user learns both at once.
func (s *Session) matchedOwn(f Found, partner wire.Peer) Effects {
	if !s.searching(f.Ticket) {
		return Effects{}
	}
	early := s.early
	fx := s.matched(f, partner, true)
	if s.pendingMatch != f.Match {
		return fx
	}
	for _, e := range early {
		if e.from == partner.ID {
			fx.Frames = append(fx.Frames, e.frame)
			s.talk.heard = s.talk.heard || isEvent(e.frame, wire.EvChat)
		}
	}
	if s.pendingLeft != "" {
		left := s.partnerLeft(partner.ID, f.Match, s.pendingLeft)
		fx.Frames, fx.Left = append(fx.Frames, left.Frames...), left.Left
	}
	return fx
}

// matchedBy: someone else's enqueue paired our search f.Ticket with from in match f.Match, in
// mode (the mode of the other side's search, which the pair shares).
func (s *Session) matchedBy(f Found, from wire.Peer, mode wire.Mode) Effects {
	if !s.searching(f.Ticket) {
		return Effects{} // a stale search: our own leave or next has ended that match
	}
	s.mode = mode
	return s.matched(f, from, false)
}

func (s *Session) matched(f Found, partner wire.Peer, initiator bool) Effects {
	s.stopTimers()
	s.phase, s.partner, s.match, s.initiator = PhaseMatched, partner, f.Match, initiator
	s.talk = talk{started: s.now()}
	s.early = nil
	return Effects{
		Waited: max(s.now().Sub(s.waitStart), time.Nanosecond),
		Frames: [][]byte{wire.MustEncode(wire.EvMatchFound, wire.MatchFoundData{PartnerID: partner.ID, Initiator: initiator,
			MatchID: f.Match, CommonInterests: wire.NonNil(f.Common), Language: f.Language, Mode: s.mode, ICEServers: s.matchICE()})},
	}
}

// partnerLeft: from ended match mid. Anything else is stale and ignored, except a partner_left
// for the match our own enqueue is making, which is kept for matchedOwn.
func (s *Session) partnerLeft(from wire.ClientID, mid wire.MatchID, reason string) Effects {
	switch {
	case s.matchedWith(from, mid):
		s.toIdle()
		return Effects{Left: reason, Frames: [][]byte{wire.MustEncode(wire.EvPartnerLeft, wire.PartnerLeftData{From: from, Reason: reason})}}
	case s.phase == PhaseSearching && s.pendingMatch == mid:
		s.pendingLeft = reason
	}
	return Effects{}
}

// partnerMoved: the partner of match mid lives on to.Instance now, and comes from to.Addr (its
// keyed hash; empty: as before), so that a report of it reaches where it is.
func (s *Session) partnerMoved(mid wire.MatchID, to wire.Peer) Effects {
	if s.matchedWith(to.ID, mid) {
		s.partner.Instance = to.Instance
		if to.Addr != "" {
			s.partner.Addr = to.Addr
		}
	}
	return Effects{}
}

// partnerGone: the match with partner is over without the partner saying so: its instance
// died and it will not resume, or Redis has lost the match. The match is ended in Redis too,
// and the partner told through tell (empty: it is gone with its instance).
func (s *Session) partnerGone(partner wire.ClientID, mid wire.MatchID, tell wire.InstanceID) Effects {
	if !s.matchedWith(partner, mid) {
		return Effects{}
	}
	fx := s.partnerLeft(partner, mid, wire.ReasonDisconnected)
	fx.Ended = &Ended{Was: PhaseMatched, Partner: partner, PartnerInstance: tell, Match: mid,
		Reason: wire.ReasonDisconnected, Token: s.tokenHash}
	return fx
}

// leave ends the current search or match at the user's request. The resume token is replaced
// by next, which the user is sent: after a Stop, the last token resumes nobody.
func (s *Session) leave(next string) Effects {
	if s.phase >= PhaseHeld {
		return Effects{}
	}
	fx := Effects{Ended: s.end(wire.ReasonLeft, false)}
	if !s.everQueued {
		return fx // Redis holds no token of this user: the one it has resumes nobody anyway
	}
	if fx.Ended == nil {
		fx.Ended = &Ended{Was: PhaseIdle, Reason: wire.ReasonLeft, Token: s.tokenHash}
	}
	s.tokenHash = HashToken(next)
	fx.Ended.TokenHash = s.tokenHash
	fx.Frames = [][]byte{wire.MustEncode(wire.EvToken, wire.TokenData{ResumeToken: next})}
	return fx
}

// disconnect: the socket is gone. A matched user whose socket died without meaning to
// (hold) is to be held for a resume: holdIt, and the hub asks Redis (then held or ended).
// Everyone else ends at once, and Redis forgets them.
func (s *Session) disconnect(hold bool) (holdIt bool, fx Effects) {
	switch {
	case s.phase == PhaseMoved || s.phase == PhaseClosed:
		return false, Effects{}
	case s.phase == PhaseMatched && hold:
		return true, Effects{}
	}
	fx.Ended = s.end(wire.ReasonDisconnected, true)
	s.phase = PhaseClosed
	return false, fx
}

// holdFailed: Redis could not hold the match; it ends now, as for a closed socket.
func (s *Session) holdFailed() Effects {
	_, fx := s.disconnect(false)
	return fx
}

// held: Redis holds the match for a resume (after disconnect said holdIt).
func (s *Session) held() Effects {
	if s.phase == PhaseMatched {
		s.phase = PhaseHeld
	}
	return Effects{}
}

// moved: the identity lives on another socket or instance now; this session has nothing
// left to do anywhere.
func (s *Session) moved() Effects {
	s.stopTimers()
	s.phase = PhaseMoved
	return Effects{}
}

// expire: nobody resumed a held match within the grace period.
func (s *Session) expire() Effects {
	if s.phase != PhaseHeld {
		return Effects{}
	}
	e := &Ended{Was: PhaseMatched, Partner: s.partner.ID, PartnerInstance: s.partner.Instance, Match: s.match,
		Reason: wire.ReasonDisconnected, Forget: true, HeldOnly: true, Token: s.tokenHash}
	s.phase = PhaseClosed
	return Effects{Ended: e}
}

// restore gives a resumed identity its match back (nil: none survived) with partner, its other
// side (partner.ID is m.PartnerID).
func (s *Session) restore(m *wire.MatchInfo, partner wire.Peer) Effects {
	s.everQueued, s.powPassed = true, true // a resumed connection does not solve again
	if m != nil {
		s.phase, s.partner, s.match = PhaseMatched, partner, m.MatchID
		s.initiator, s.mode = m.Initiator, m.Mode
		s.talk = talk{started: s.now()} // what the old socket saw is gone with it: counted from here
	}
	return Effects{}
}

// relayed: a frame from the partner reaches the user only within the same match, and only
// from the instance the partner lives on (finst; "" from an instance that does not say): a
// partner that resumed on another socket has told us where it lives now, and its old socket,
// whose 4001 notice may have been lost, relays into the match no more. One for the match our
// own enqueue is applying (the partner heard of it first and answered at once) is kept until
// the match applies.
func (s *Session) relayed(from wire.ClientID, finst wire.InstanceID, mid wire.MatchID, frame []byte) Effects {
	switch {
	case s.matchedWith(from, mid):
		if finst != "" && finst != s.partner.Instance {
			return Effects{} // a superseded socket of the partner's identity
		}
		s.talk.heard = s.talk.heard || isEvent(frame, wire.EvChat)
		return Effects{Frames: [][]byte{frame}}
	case s.phase == PhaseSearching && s.pendingMatch == mid && len(s.early) < maxEarly:
		s.early = append(s.early, earlyFrame{from, frame})
	}
	return Effects{}
}

// callStats: the user reports how its call went; counted once per match, and only while in
// it (ok).
func (s *Session) callStats() (ok bool) {
	if s.phase != PhaseMatched || s.callReported == s.match {
		return false
	}
	s.callReported = s.match
	return true
}

// wroteChat: the user wrote to its partner.
func (s *Session) wroteChat() Effects {
	if s.phase == PhaseMatched {
		s.talk.wrote = true
	}
	return Effects{}
}

// partnerCalled: the partner of match mid said (rtc_stats) that its video call connected.
func (s *Session) partnerCalled(from wire.ClientID, mid wire.MatchID) Effects {
	if s.matchedWith(from, mid) {
		s.talk.partnerCall = true
	}
	return Effects{}
}

// powSolved: the connection's proof of work opened the gate, for good.
func (s *Session) powSolved() Effects {
	s.powPassed = true
	return Effects{}
}

// abandonSearch ends search ticket if it is still the current one (its enqueue failed).
func (s *Session) abandonSearch(ticket string) Effects {
	if !s.searching(ticket) {
		return Effects{}
	}
	return Effects{Ended: s.end(wire.ReasonNext, false)}
}

// matchICE is what match_found carries for a call (see iceServers).
func (s *Session) matchICE() []wire.ICEServer {
	if s.iceServers == nil {
		return nil
	}
	return s.iceServers()
}

func (s *Session) matchedWith(partner wire.ClientID, mid wire.MatchID) bool {
	return s.phase == PhaseMatched && s.partner.ID == partner && s.match == mid
}

// reportTarget is whom a report of the user is about: its partner, or the partner it had in
// the last reportWindow; ok is false when there is none.
func (s *Session) reportTarget() (t LastMatch, ok bool) {
	if s.phase == PhaseMatched {
		return LastMatch{Match: s.match, Partner: s.partner.ID, PartnerAddr: s.partner.Addr, talk: s.talk, ended: s.now()}, true
	}
	if s.last.Match != "" && s.now().Sub(s.last.ended) <= reportWindow {
		return s.last, true
	}
	return LastMatch{}, false
}
