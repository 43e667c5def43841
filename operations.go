package main

import (
	"errors"
	"slices"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// A user's operations as the hub carries them out: the session decides each step (a verb),
// the matchmaker runs the Redis part, and the hub routes what the partner must hear. Each
// operation holds the session's op lock, so one user's Redis steps, and the notifications
// they cause, keep their order.

var errMoved = errors.New("the identity lives on a newer socket")

// FindMatch leaves the user's current match or search ("next") and looks for a partner, in
// one match.lua run: it ends the match as Redis has it and searches. A connection's first
// find_match carries the solution of its proof of work (pow).
func (h *Hub) FindMatch(s *Session, mode wire.Mode, interests []string, pow string) {
	s.lockOps()
	defer s.unlockOps()
	if h.pow != nil && s.needsPow() {
		if err := h.pow.Verify(s.id, pow); err != nil {
			h.metrics.PowRefused.Inc()
			s.out.Send(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrPowRequired,
				Message: "solve this proof of work first (find_match.pow)", Pow: h.pow.Challenge(s.id)}))
			return
		}
		h.step(s, (*Session).powSolved)
	}
	if !h.retryUnfinished(s) {
		// an earlier end is not in Redis yet: a new search would be written over it
		s.out.Send(errorFrame(wire.ErrUnavailable, "matchmaking is unavailable right now; try again shortly"))
		return
	}
	ticket, mid := newID(), wire.MatchID(newID())
	var ok bool
	fx := h.step(s, func(s *Session) (fx Effects) {
		fx, ok = s.beginSearch(ticket, mid, mode, interests)
		return fx
	})
	if !ok {
		return // the identity lives on another socket: this one has nothing to say in Redis
	}
	res, err := h.mm.Enqueue(h.ctx, EnqueueRequest{
		Client: s.id, Instance: h.cfg.Self, Mode: mode, Interests: interests,
		Match: mid, Ticket: ticket, TokenHash: s.token(), Addr: s.addr,
	})
	if err != nil {
		h.log.Warn("find_match failed", "client", s.id, "err", err)
		// match.lua may have run although its answer was lost (a timeout): leave.lua ends
		// whatever Redis holds now, the conversation this search ended or a match the search
		// made, so that no partner is left matched with a ghost; then the search is over
		h.finish(s, fx.Ended)
		h.finish(s, h.step(s, func(s *Session) Effects { return s.abandonSearch(ticket) }).Ended)
		s.out.Send(errorFrame(wire.ErrUnavailable, "matchmaking is unavailable right now; try again shortly"))
		return
	}
	if res.Outcome != OutcomeMoved {
		// the conversation the search replaced is out of Redis: its partner is told
		ended := fx.Ended
		if ended == nil {
			ended = &Ended{Was: PhaseIdle, Reason: wire.ReasonNext}
		}
		h.finished(s, ended, h.endedInRedis(s, ended, res.Ended, false))
	}
	h.applyEnqueue(s, ticket, mid, mode, res, true)
}

// applyEnqueue applies what match.lua did for search ticket. Called with the op lock held.
func (h *Hub) applyEnqueue(s *Session, ticket string, mid wire.MatchID, mode wire.Mode, res EnqueueResult, first bool) {
	switch res.Outcome {
	case OutcomeWaiting:
		searching := h.Searching()
		if first {
			h.step(s, func(s *Session) Effects { return s.queued(ticket, res.PassedOver, searching) })
		} else if res.PassedOver {
			h.step(s, func(s *Session) Effects { return s.passedOver(ticket, searching) })
		}
		h.tellPassedOver(s, res.Skipped)
	case OutcomeMatched:
		h.applyOwnMatch(s, ticket, mid, mode, res)
	case OutcomeMoved:
		h.superseded(s)
	}
}

// tellPassedOver tells the users a search passed over (they met the searcher recently) that
// they wait for someone new: each once, on its own instance (a PUBLISH when that is another).
// This runs only when somebody was passed over, never on the common path; the notices count
// against the searcher's share of the bus.
func (h *Hub) tellPassedOver(s *Session, skipped []Waiter) {
	for i, w := range skipped {
		if slices.ContainsFunc(skipped[:i], func(o Waiter) bool { return o.Client == w.Client }) {
			continue // popped from another of its queues as well
		}
		h.route(w.Instance, &Envelope{Kind: KindPassedOver, To: w.Client, Ticket: w.Ticket}, s.addr)
	}
}

// armFallback schedules the interest fallback of a search (the session cancels it when the
// search ends).
func (h *Hub) armFallback(s *Session, ticket string) func() bool {
	return time.AfterFunc(h.cfg.InterestFallback, func() { h.runFallback(s, ticket) }).Stop
}

// runFallback re-runs the match for a user still waiting with interests, now also offering
// it to (and taking from) the plain queue of its mode.
func (h *Hub) runFallback(s *Session, ticket string) {
	s.lockOps()
	defer s.unlockOps()
	h.searchAgain(s, ticket, EnqueueRequest{Fallback: true})
}

// searchAgain runs a user's current search once more, as the interest fallback or as the
// requeue of a search Redis lost (the flags in how), if it is still the current search.
// Called with the op lock held.
func (h *Hub) searchAgain(s *Session, ticket string, how EnqueueRequest) {
	mid := wire.MatchID(newID())
	var mode wire.Mode
	var interests []string
	var current bool
	h.step(s, func(s *Session) Effects {
		mode, interests, current = s.searchAgain(ticket, mid)
		return Effects{}
	})
	if !current {
		return
	}
	res, err := h.mm.Enqueue(h.ctx, EnqueueRequest{
		Client: s.id, Instance: h.cfg.Self, Mode: mode, Interests: interests,
		Match: mid, Ticket: ticket, Fallback: how.Fallback, Requeue: how.Requeue, TokenHash: s.token(), Addr: s.addr,
	})
	if err != nil {
		h.log.Warn("searching again failed; the user stays where it waits", "client", s.id, "err", err)
		return
	}
	h.applyEnqueue(s, ticket, mid, mode, res, false)
}

// applyOwnMatch applies a match that this user's own enqueue made: the user is the
// initiator; the partner, wherever it is, is told first, so that nothing the user sends on
// its match_found can reach the partner before the partner knows the match. (Whatever the
// partner sends on its own match_found before ours is applied waits in our session.)
func (h *Hub) applyOwnMatch(s *Session, ticket string, mid wire.MatchID, mode wire.Mode, res EnqueueResult) {
	// The partner is matched in Redis whatever happens here, so it is always told; if this
	// side has moved on meanwhile, the partner_left that follows reaches it after this.
	h.route(res.PartnerInstance, &Envelope{Kind: KindMatched, To: res.Partner, From: s.id, Instance: h.cfg.Self,
		Match: mid, Ticket: res.PartnerTicket, Mode: mode, Common: res.Common, Addr: s.addr}, s.addr)
	kind := "random"
	if len(res.Common) > 0 {
		kind = "interest"
	}
	h.metrics.Matches.WithLabelValues(kind).Inc()
	h.step(s, func(s *Session) Effects {
		return s.matchedOwn(ticket, mid, res.Partner, res.PartnerInstance, res.PartnerAddr, res.Common)
	})
}

// Leave ends the user's match or search at its request, and replaces its resume token.
func (h *Hub) Leave(s *Session) {
	s.lockOps()
	defer s.unlockOps()
	if !h.retryUnfinished(s) {
		h.log.Debug("leave while an earlier end is unfinished; the sweep retries it", "client", s.id)
	}
	next := newResumeToken(s.id)
	h.finish(s, h.step(s, func(s *Session) Effects { return s.leave(next) }).Ended)
}

// Relay sends a ready-made frame to the user's current partner, and only to it.
func (h *Hub) Relay(s *Session, event string, frame []byte) {
	partner, pinst, mid, ok := s.partnerRoute()
	if !ok {
		s.out.Send(errorFrame(wire.ErrNotMatched, event+" needs a partner: send find_match first"))
		return
	}
	path := "local"
	if pinst != h.cfg.Self {
		path = "remote"
	}
	h.metrics.Relayed.WithLabelValues(event, path).Inc()
	if event == wire.EvChat {
		h.step(s, (*Session).wroteChat)
	}
	h.route(pinst, &Envelope{Kind: KindRelay, To: partner, From: s.id, Instance: h.cfg.Self, Match: mid, Frame: frame}, s.addr)
}

// CallStats counts how a call of the current match went: once per user and match, ignored
// outside a match. A call that connected is told to the partner's session too: a report the
// partner files of this user then knows that this user's own page was in the call.
func (h *Hub) CallStats(s *Session, st wire.RTCStatsRequest) {
	var ok bool
	h.step(s, func(s *Session) Effects { ok = s.callStats(); return Effects{} })
	if !ok {
		return
	}
	candidate := st.Candidate
	if candidate == "" {
		candidate = "none"
	}
	h.metrics.Calls.WithLabelValues(st.Outcome, candidate).Inc()
	if st.Outcome == "connected" {
		h.metrics.CallSetup.Observe(float64(st.SetupMS) / 1000)
		if partner, pinst, mid, ok := s.partnerRoute(); ok {
			h.route(pinst, &Envelope{Kind: KindCall, To: partner, From: s.id, Instance: h.cfg.Self, Match: mid}, s.addr)
		}
	}
}

// Report files the user's report of its partner (or the partner it had in the last minute):
// the reporter hears `reported`, the two never meet again while it is open, and when enough
// addresses have reported the same one it is banned at once, everywhere.
func (h *Hub) Report(s *Session, r wire.ReportRequest) {
	s.lockOps()
	defer s.unlockOps()
	var t lastMatch
	var ok bool
	h.step(s, func(s *Session) Effects { t, ok = s.reportTarget(); return Effects{} })
	if !ok || r.MatchID != "" && r.MatchID != t.match {
		s.out.Send(errorFrame(wire.ErrNotMatched, "report is about your partner, now or in the last minute"))
		return
	}
	filed, err := h.safety.File(h.ctx, Report{Reporter: s.id, Reported: t.partner, ReporterAddr: s.addr,
		ReportedAddr: t.partnerAddr, Match: t.match, Conversation: t.conversation(), ReportRequest: r})
	switch {
	case errors.Is(err, ErrReportLimit):
		s.out.Send(errorFrame(wire.ErrRateLimited, "one report per conversation, and a few an hour; you have many open reports already"))
		return
	case err != nil:
		h.log.Warn("storing a report failed", "err", err)
		s.out.Send(errorFrame(wire.ErrUnavailable, "the report could not be stored right now; try again shortly"))
		return
	}
	h.metrics.Reports.WithLabelValues(r.Reason).Inc()
	s.out.Send(wire.MustEncode(wire.EvReported, wire.ReportedData{MatchID: t.match}))
	if filed.Ban != nil {
		h.metrics.Bans.WithLabelValues("auto").Inc()
		h.broadcastBan(*filed.Ban)
	}
}

// broadcastBan closes the sockets of a banned address on every instance.
func (h *Hub) broadcastBan(b Ban) {
	insts, err := h.mm.LiveInstances(h.ctx)
	if err != nil {
		h.log.Warn("telling the instances of a ban failed; it holds from the next connection on", "err", err)
	}
	if !slices.Contains(insts, h.cfg.Self) {
		insts = append(insts, h.cfg.Self)
	}
	env := Envelope{Kind: KindBan, Addr: b.Addr, Ticket: b.Until.UTC().Format(time.RFC3339), Reason: b.Reason}
	for _, inst := range insts {
		h.route(inst, &env, busSelf) // a ban must not wait behind anyone's flood
	}
}

// Disconnect cleans up after a user whose socket is gone. A matched user whose socket died
// without a close frame (or that this instance closed for a restart) is held for the resume
// grace period; everyone else ends at once.
func (h *Hub) Disconnect(s *Session, hold bool) {
	h.unregister(s)
	s.lockOps()
	defer s.unlockOps()
	var holdIt bool
	fx := h.step(s, func(s *Session) (fx Effects) {
		holdIt, fx = s.disconnect(hold)
		return fx
	})
	if holdIt && !h.hold(s) {
		fx = h.step(s, (*Session).holdFailed)
	}
	h.finish(s, fx.Ended)
}

// superseded: the identity lives on a newer socket; this one is closed and acts no more.
func (h *Hub) superseded(s *Session) {
	h.step(s, (*Session).moved)
	s.out.Close(CloseReplaced, "replaced by a newer connection")
}

// --- ending conversations in Redis ---

// finish carries out a conversation that ended: Redis is told to end it, and the partner the
// session knew is told whatever Redis answered (with the match id, so that a stale notice is
// ignored there), after Redis, so that a partner that hears of it finds Redis agreeing. What
// Redis could not take is kept and retried (retryUnfinished, and the sweep) until it
// confirms; false says so. Called with the op lock held.
func (h *Hub) finish(s *Session, e *Ended) bool {
	if e == nil {
		return true
	}
	var err error
	if e.needsRedis() {
		err = h.endInRedis(s, e, false)
	}
	return h.finished(s, e, err)
}

// finished is the rest of finish once Redis has answered err for e (leave.lua, or the
// match.lua run of a Next). Called with the op lock held.
func (h *Hub) finished(s *Session, e *Ended, err error) bool {
	ok := true
	switch {
	case errors.Is(err, errMoved):
		// a newer socket owns the identity and its conversation: this one ends nothing
		h.superseded(s)
		return true
	case err != nil:
		h.log.Warn("ending a conversation in Redis failed; kept for a retry", "client", s.id, "err", err)
		h.keepUnfinished(s, e)
		ok = false
	}
	// A hold's expiry tells only whom Redis names: the held session cannot know whether the
	// user has come back meanwhile.
	if e.Was == PhaseMatched && !e.HeldOnly && e.PartnerInstance != "" {
		h.route(e.PartnerInstance, &Envelope{Kind: KindLeft, To: e.Partner, From: s.id, Match: e.Match, Reason: e.Reason}, s.addr)
	}
	return ok
}

// endInRedis runs leave.lua for an ended conversation and tells whichever partner Redis names
// that the session did not know of (a match another instance made a moment ago). A retry
// tells the partner again: the first notice may have been lost with Redis (duplicates are
// ignored as stale).
func (h *Hub) endInRedis(s *Session, e *Ended, retry bool) error {
	res, err := h.mm.Leave(h.ctx, LeaveRequest{Client: s.id, Instance: h.cfg.Self, Token: e.Token,
		Forget: e.Forget, HeldOnly: e.HeldOnly, NextToken: e.TokenHash})
	if err != nil {
		return err
	}
	return h.endedInRedis(s, e, res, retry)
}

// endedInRedis: Redis has ended e and answered res (leave.lua, or match.lua for a Next).
func (h *Hub) endedInRedis(s *Session, e *Ended, res LeaveResult, retry bool) error {
	if res.Moved {
		return errMoved
	}
	known := e.Was == PhaseMatched && !e.HeldOnly && res.Partner == e.Partner && res.Match == e.Match
	if known && res.PartnerInstance != "" {
		// Redis knows best where the partner lives: it may have resumed elsewhere, and the
		// notice of that be still on its way here
		e.PartnerInstance = res.PartnerInstance
	}
	switch {
	case res.Ended && (retry || !known):
		inst := res.PartnerInstance
		if inst == "" {
			inst = e.PartnerInstance
		}
		h.route(inst, &Envelope{Kind: KindLeft, To: res.Partner, From: s.id, Match: res.Match, Reason: e.Reason}, s.addr)
	case retry && e.Was == PhaseMatched && !e.HeldOnly && e.PartnerInstance != "":
		h.route(e.PartnerInstance, &Envelope{Kind: KindLeft, To: e.Partner, From: s.id, Match: e.Match, Reason: e.Reason}, s.addr)
	}
	return nil
}

// keepUnfinished records an end Redis has not taken. A later one of the same session joins
// it: Redis still holds the state the first one ended, so one leave.lua ends both.
func (h *Hub) keepUnfinished(s *Session, e *Ended) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.unfinished[s]; ok {
		old.Forget = old.Forget || e.Forget
		if e.TokenHash != "" {
			old.TokenHash = e.TokenHash
		}
		return
	}
	kept := *e
	h.unfinished[s] = &kept
}

// retryUnfinished runs the session's unfinished end again, if it has one; false: it is still
// unfinished. Called with the op lock held.
func (h *Hub) retryUnfinished(s *Session) bool {
	h.mu.Lock()
	e, ok := h.unfinished[s]
	h.mu.Unlock()
	if !ok {
		return true
	}
	if err := h.endInRedis(s, e, true); errors.Is(err, errMoved) {
		h.superseded(s)
	} else if err != nil {
		return false
	}
	h.mu.Lock()
	delete(h.unfinished, s)
	h.mu.Unlock()
	return true
}

// --- resume and hold ---

// resume gives a reconnecting user its identity and match back if the token is good, with
// the next token (the one presented resumes nobody again). The partner's instance is told
// where the user lives now, and an old socket of the identity on another instance is closed;
// the partner itself is told nothing.
func (h *Hub) resume(token, addr string) (res ResumeResult, next string, ok bool) {
	id, ok := tokenOwner(token)
	if !ok {
		h.metrics.Resumes.WithLabelValues("invalid").Inc()
		return res, "", false
	}
	next = newResumeToken(id)
	res, found, err := h.mm.Resume(h.ctx, id, hashToken(token), hashToken(next), h.cfg.Self, addr)
	switch {
	case err != nil:
		h.log.Warn("resume failed; giving a fresh identity", "err", err)
		h.metrics.Resumes.WithLabelValues("error").Inc()
		return res, "", false
	case !found:
		h.metrics.Resumes.WithLabelValues("expired").Inc()
		return res, "", false
	}
	h.metrics.Resumes.WithLabelValues("resumed").Inc()
	if res.Match != nil {
		h.route(res.PartnerInstance, &Envelope{Kind: KindMoved, To: res.Match.PartnerID, From: res.ID, Match: res.Match.MatchID,
			Instance: h.cfg.Self, Addr: addr}, addr)
	}
	if res.Previous != h.cfg.Self && !res.Held {
		h.route(res.Previous, &Envelope{Kind: KindReplaced, To: id, Instance: h.cfg.Self, Ticket: hashToken(token)}, addr)
	}
	return res, next, true
}

// hold keeps a dropped matched user's identity and match for the grace period: its user hash
// is marked detached until a deadline, and a timer here ends the match if nobody resumed by
// then. If this instance dies first, the partner's instance sees the deadline and does it
// (partnerMayResume). false: it could not be held (end it now). Called with the op lock held.
func (h *Hub) hold(s *Session) bool {
	deadline := h.now().Add(h.cfg.ResumeGrace)
	held, err := h.mm.Detach(h.ctx, s.id, h.cfg.Self, s.token(), deadline, h.cfg.ResumeGrace)
	if err != nil {
		h.log.Warn("could not hold the match for a resume; ending it", "client", s.id, "err", err)
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !held || h.sessions[s.id] != nil {
		// it already lives on, resumed on another socket: nothing to hold or end
		h.step(s, (*Session).moved)
		return true
	}
	if h.stopped {
		return true // stopping: the partner's instance ends it at the deadline
	}
	h.step(s, (*Session).held)
	if old, ok := h.held[s.id]; ok {
		old.timer.Stop() // an earlier hold of the same user: this one replaces it
	}
	hs := &heldSession{s: s}
	hs.timer = time.AfterFunc(h.cfg.ResumeGrace, func() { h.expireHeld(hs) })
	h.held[s.id] = hs
	return true
}

// expireHeld ends a held match nobody resumed, unless the user resumed (here or elsewhere:
// leave.lua checks).
func (h *Hub) expireHeld(hs *heldSession) {
	h.mu.Lock()
	current := h.held[hs.s.id] == hs
	if current {
		delete(h.held, hs.s.id)
	}
	h.mu.Unlock()
	if !current {
		return // replaced by a later hold, or the user came back here
	}
	hs.s.lockOps()
	defer hs.s.unlockOps()
	h.finish(hs.s, h.step(hs.s, (*Session).expire).Ended)
}
