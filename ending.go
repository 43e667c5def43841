package main

import (
	"errors"
	"time"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/session"
)

// Ending conversations in Redis, and holding a matched user whose socket dropped for a resume:
// the half of the user operations that runs after a session said its conversation ended.

// pendingEnds are the ends of conversations Redis has not taken yet (the Hub's field of this
// file, under Hub.mu): kept until a retry or the sweep gets them through.
type pendingEnds struct {
	unfinished map[*session.Session]*session.Ended
}

// finish carries out a conversation that ended: Redis is told to end it, and the partner the
// session knew is told whatever Redis answered (with the match id, so that a stale notice is
// ignored there), after Redis, so that a partner that hears of it finds Redis agreeing. What
// Redis could not take is kept and retried (retryUnfinished, and the sweep) until it
// confirms; false says so. Called with the op lock held.
func (h *Hub) finish(s *session.Session, e *session.Ended) bool {
	if e == nil {
		return true
	}
	var err error
	if e.NeedsRedis() {
		err = h.endInRedis(s, e, false)
	}
	return h.finished(s, e, err)
}

// finished is the rest of finish once Redis has answered err for e (leave.lua, or the
// match.lua run of a Next). Called with the op lock held.
func (h *Hub) finished(s *session.Session, e *session.Ended, err error) bool {
	ok := true
	switch {
	case errors.Is(err, errMoved):
		// a newer socket owns the identity and its conversation: this one ends nothing
		h.superseded(s)
		return true
	case err != nil:
		h.log.Warn("ending a conversation in Redis failed; kept for a retry", "client", s.ID, "err", err)
		h.keepUnfinished(s, e)
		ok = false
	}
	// A hold's expiry tells only whom Redis names: the held session cannot know whether the
	// user has come back meanwhile.
	if e.Was == session.PhaseMatched && !e.HeldOnly && e.PartnerInstance != "" {
		h.route(e.PartnerInstance, &envelope.Envelope{Kind: envelope.KindLeft, To: e.Partner, From: s.ID, Match: e.Match, Reason: e.Reason}, s.Addr)
	}
	return ok
}

// endInRedis runs leave.lua for an ended conversation and tells whichever partner Redis names
// that the session did not know of (a match another instance made a moment ago). A retry
// tells the partner again: the first notice may have been lost with Redis (duplicates are
// ignored as stale).
func (h *Hub) endInRedis(s *session.Session, e *session.Ended, retry bool) error {
	res, err := h.mm.Leave(h.ctx, LeaveRequest{Client: s.ID, Instance: h.cfg.Self, Token: e.Token,
		Forget: e.Forget, HeldOnly: e.HeldOnly, NextToken: e.TokenHash})
	if err != nil {
		return err
	}
	return h.endedInRedis(s, e, res, retry)
}

// endedInRedis: Redis has ended e and answered res (leave.lua, or match.lua for a Next).
func (h *Hub) endedInRedis(s *session.Session, e *session.Ended, res LeaveResult, retry bool) error {
	if res.Moved {
		return errMoved
	}
	known := e.Was == session.PhaseMatched && !e.HeldOnly && res.Partner == e.Partner && res.Match == e.Match
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
		h.route(inst, &envelope.Envelope{Kind: envelope.KindLeft, To: res.Partner, From: s.ID, Match: res.Match, Reason: e.Reason}, s.Addr)
	case retry && e.Was == session.PhaseMatched && !e.HeldOnly && e.PartnerInstance != "":
		h.route(e.PartnerInstance, &envelope.Envelope{Kind: envelope.KindLeft, To: e.Partner, From: s.ID, Match: e.Match, Reason: e.Reason}, s.Addr)
	}
	return nil
}

// keepUnfinished records an end Redis has not taken. A later one of the same session joins
// it: Redis still holds the state the first one ended, so one leave.lua ends both.
func (h *Hub) keepUnfinished(s *session.Session, e *session.Ended) {
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
func (h *Hub) retryUnfinished(s *session.Session) bool {
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
	id, ok := session.TokenOwner(token)
	if !ok {
		h.metrics.Resumes.WithLabelValues("invalid").Inc()
		return res, "", false
	}
	next = session.NewResumeToken(id)
	res, found, err := h.mm.Resume(h.ctx, id, session.HashToken(token), session.HashToken(next), h.cfg.Self, addr)
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
		h.route(res.Partner.Instance, &envelope.Envelope{Kind: envelope.KindMoved, To: res.Match.PartnerID, From: res.ID, Match: res.Match.MatchID,
			Instance: h.cfg.Self, Addr: addr}, addr)
	}
	if res.Previous != h.cfg.Self && !res.Held {
		h.route(res.Previous, &envelope.Envelope{Kind: envelope.KindReplaced, To: id, Instance: h.cfg.Self, TokenHash: session.HashToken(token)}, addr)
	}
	return res, next, true
}

// hold keeps a dropped matched user's identity and match for the grace period: its user hash
// is marked detached until a deadline, and a timer here ends the match if nobody resumed by
// then. If this instance dies first, the partner's instance sees the deadline and does it
// (partnerMayResume). false: it could not be held (end it now). Called with the op lock held.
func (h *Hub) hold(s *session.Session) bool {
	deadline := h.now().Add(h.cfg.ResumeGrace)
	held, err := h.mm.Detach(h.ctx, s.ID, h.cfg.Self, s.Token(), deadline, h.cfg.ResumeGrace)
	if err != nil {
		h.log.Warn("could not hold the match for a resume; ending it", "client", s.ID, "err", err)
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !held || h.sessions[s.ID] != nil {
		// it already lives on, resumed on another socket: nothing to hold or end
		h.record(s.Moved())
		return true
	}
	if h.stopped {
		return true // stopping: the partner's instance ends it at the deadline
	}
	h.record(s.Held())
	if old, ok := h.held[s.ID]; ok {
		old.timer.Stop() // an earlier hold of the same user: this one replaces it
	}
	hs := &heldSession{s: s}
	hs.timer = time.AfterFunc(h.cfg.ResumeGrace, func() { h.expireHeld(hs) })
	h.held[s.ID] = hs
	return true
}

// expireHeld ends a held match nobody resumed, unless the user resumed (here or elsewhere:
// leave.lua checks).
func (h *Hub) expireHeld(hs *heldSession) {
	h.mu.Lock()
	current := h.held[hs.s.ID] == hs
	if current {
		delete(h.held, hs.s.ID)
	}
	h.mu.Unlock()
	if !current {
		return // replaced by a later hold, or the user came back here
	}
	hs.s.LockOps()
	defer hs.s.UnlockOps()
	h.finish(hs.s, h.record(hs.s.Expire()).Ended)
}
