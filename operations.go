package main

import (
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// A user's operations as the hub carries them out: the session decides each step (a verb),
// the matchmaker runs the Redis part, and the hub routes what the partner must hear. Each
// operation holds the session's op lock, so one user's Redis steps, and the notifications
// they cause, keep their order.

// FindMatch leaves the user's current match or search ("next") and looks for a partner.
func (h *Hub) FindMatch(s *Session, mode wire.Mode, interests []string) {
	s.lockOps()
	defer s.unlockOps()
	ticket, mid := newID(), wire.MatchID(newID())
	fx := h.step(s, func(s *Session) Effects { return s.beginSearch(ticket, mid, mode, interests) })
	h.finish(s, fx.Ended)

	res, err := h.mm.Enqueue(h.ctx, EnqueueRequest{
		Client: s.id, Instance: h.cfg.Self, Mode: mode, Interests: interests,
		Match: mid, Ticket: ticket, TokenHash: s.tokenHash,
	})
	if err != nil {
		h.log.Warn("find_match failed", "client", s.id, "err", err)
		// match.lua may have run although its answer was lost (a timeout): undo whatever it
		// did, so that no partner it popped is left matched with a ghost
		fx := h.step(s, func(s *Session) Effects { return s.abandonSearch(ticket) })
		h.finish(s, fx.Ended)
		s.out.Send(errorFrame(wire.ErrUnavailable, "matchmaking is unavailable right now; try again shortly"))
		return
	}
	switch res.Outcome {
	case OutcomeWaiting:
		h.step(s, func(s *Session) Effects { return s.queued(ticket) })
	case OutcomeMatched:
		h.applyOwnMatch(s, ticket, mid, mode, res)
	}
}

func errorFrame(code, message string) []byte {
	return wire.MustEncode(wire.EvError, wire.ErrorData{Code: code, Message: message})
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
		Match: mid, Ticket: ticket, Fallback: how.Fallback, Requeue: how.Requeue, TokenHash: s.tokenHash,
	})
	if err != nil {
		h.log.Warn("searching again failed; the user stays where it waits", "client", s.id, "err", err)
		return
	}
	if res.Outcome == OutcomeMatched {
		h.applyOwnMatch(s, ticket, mid, mode, res)
	}
}

// applyOwnMatch applies a match that this user's own enqueue made: the user is the
// initiator; the partner, wherever it is, is told. Called with the op lock held.
func (h *Hub) applyOwnMatch(s *Session, ticket string, mid wire.MatchID, mode wire.Mode, res EnqueueResult) {
	h.step(s, func(s *Session) Effects {
		return s.matchedOwn(ticket, mid, res.Partner, res.PartnerInstance, res.Common)
	})
	kind := "random"
	if len(res.Common) > 0 {
		kind = "interest"
	}
	h.metrics.Matches.WithLabelValues(kind).Inc()
	// The partner is matched in Redis whatever happened here, so it is always told; if this
	// side has moved on meanwhile, the partner_left that follows reaches it after this.
	h.route(res.PartnerInstance, &Envelope{Kind: KindMatched, To: res.Partner, From: s.id, Instance: h.cfg.Self,
		Match: mid, Ticket: res.PartnerTicket, Mode: mode, Common: res.Common})
}

// Leave ends the user's match or search at its request.
func (h *Hub) Leave(s *Session) {
	s.lockOps()
	defer s.unlockOps()
	h.finish(s, h.step(s, (*Session).leave).Ended)
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
	h.route(pinst, &Envelope{Kind: KindRelay, To: partner, From: s.id, Match: mid, Frame: frame})
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
	if holdIt {
		if h.hold(s) {
			return
		}
		fx = h.step(s, func(s *Session) Effects { _, fx := s.disconnect(false); return fx })
	}
	h.finish(s, fx.Ended)
}

// finish ends in Redis what a session ended, and tells the partner Redis names. Called with
// the op lock held.
func (h *Hub) finish(s *Session, e *Ended) {
	if !e.needsRedis() {
		return
	}
	var res LeaveResult
	var err error
	if e.HeldOnly {
		res, err = h.mm.ExpireHold(h.ctx, s.id, h.cfg.Self)
	} else {
		res, err = h.mm.LeaveIfOn(h.ctx, s.id, h.cfg.Self, e.Forget)
	}
	if err != nil {
		h.log.Warn("leave failed", "client", s.id, "err", err)
		if e.Was == PhaseMatched && e.PartnerInstance == h.cfg.Self {
			// Redis is away but the partner is here: it still learns at once.
			h.handleEnvelope(Envelope{Kind: KindLeft, To: e.Partner, From: s.id, Match: e.Match, Reason: e.Reason})
		}
		return
	}
	if res.Ended {
		inst := res.PartnerInstance
		if inst == "" {
			inst = e.PartnerInstance
		}
		h.route(inst, &Envelope{Kind: KindLeft, To: res.Partner, From: s.id, Match: res.Match, Reason: e.Reason})
	}
}

// --- resume and hold ---

// resume gives a reconnecting user its identity and match back if the token is good. The
// partner's instance is told where the user lives now; the partner itself is told nothing.
func (h *Hub) resume(token string) (ResumeResult, bool) {
	id, ok := tokenOwner(token)
	if !ok {
		h.metrics.Resumes.WithLabelValues("invalid").Inc()
		return ResumeResult{}, false
	}
	res, found, err := h.mm.Resume(h.ctx, id, hashToken(token), h.cfg.Self)
	switch {
	case err != nil:
		h.log.Warn("resume failed; giving a fresh identity", "err", err)
		h.metrics.Resumes.WithLabelValues("error").Inc()
		return ResumeResult{}, false
	case !found:
		h.metrics.Resumes.WithLabelValues("expired").Inc()
		return ResumeResult{}, false
	}
	h.metrics.Resumes.WithLabelValues("resumed").Inc()
	if res.Match != nil {
		h.route(res.PartnerInstance, &Envelope{Kind: KindMoved, To: res.Match.PartnerID, From: res.ID, Match: res.Match.MatchID, Instance: h.cfg.Self})
	}
	return res, true
}

// hold keeps a dropped matched user's identity and match for the grace period: its user hash
// is marked detached until a deadline, and a timer here ends the match if nobody resumed by
// then. If this instance dies first, the partner's instance sees the deadline and does it
// (partnerMayResume). false: it could not be held (end it now). Called with the op lock held.
func (h *Hub) hold(s *Session) bool {
	deadline := h.now().Add(h.cfg.ResumeGrace)
	held, err := h.mm.Detach(h.ctx, s.id, h.cfg.Self, deadline, h.cfg.ResumeGrace)
	if err != nil {
		h.log.Warn("could not hold the match for a resume; ending it", "client", s.id, "err", err)
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !held || h.sessions[s.id] != nil {
		// it already resumed (on another instance, or here): nothing to hold or end
		h.step(s, (*Session).moved)
		return true
	}
	if h.ctx.Err() != nil {
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
