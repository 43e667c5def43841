package main

import (
	"errors"
	"slices"
	"time"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/session"
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
func (h *Hub) FindMatch(s *session.Session, mode wire.Mode, wish wire.Wish, pow string) {
	s.LockOps()
	defer s.UnlockOps()
	if h.pow != nil && s.NeedsPow() {
		if err := h.pow.Verify(s.ID, pow); err != nil {
			h.metrics.PowRefused.Inc()
			s.Out.Send(wire.MustEncode(wire.EvError, wire.ErrorData{Code: wire.ErrPowRequired,
				Message: "solve this proof of work first (find_match.pow)", Pow: h.pow.Challenge(s.ID, h.openRate(s.Addr))}))
			return
		}
		h.record(s.PowSolved())
	}
	if !h.retryUnfinished(s) {
		// an earlier end is not in Redis yet: a new search would be written over it
		s.Out.Send(wire.ErrorFrame(wire.ErrUnavailable, "matchmaking is unavailable right now; try again shortly"))
		return
	}
	ticket, mid := wire.NewID(), wire.MatchID(wire.NewID())
	fx, ok := s.BeginSearch(ticket, mid, mode, wish)
	h.record(fx)
	if !ok {
		return // the identity lives on another socket: this one has nothing to say in Redis
	}
	res, err := h.mm.Enqueue(h.ctx, EnqueueRequest{
		Client: s.ID, Instance: h.cfg.Self, Mode: mode, Wish: wish,
		Match: mid, Ticket: ticket, TokenHash: s.Token(), Addr: s.Addr, WatchOver: h.cfg.WatchWait == 0,
	})
	if err != nil {
		h.log.Warn("find_match failed", "client", s.ID, "err", err)
		// match.lua may have run although its answer was lost (a timeout): leave.lua ends
		// whatever Redis holds now, the conversation this search ended or a match the search
		// made, so that no partner is left matched with a ghost; then the search is over
		h.finish(s, fx.Ended)
		h.finish(s, h.record(s.AbandonSearch(ticket)).Ended)
		s.Out.Send(wire.ErrorFrame(wire.ErrUnavailable, "matchmaking is unavailable right now; try again shortly"))
		return
	}
	if res.Outcome != OutcomeMoved {
		// the conversation the search replaced is out of Redis: its partner is told
		ended := fx.Ended
		if ended == nil {
			ended = &session.Ended{Was: session.PhaseIdle, Reason: wire.ReasonNext}
		}
		h.finished(s, ended, h.endedInRedis(s, ended, res.Ended, false))
	}
	h.applyEnqueue(s, ticket, mid, mode, res, true)
}

// applyEnqueue applies what match.lua did for search ticket. Called with the op lock held.
func (h *Hub) applyEnqueue(s *session.Session, ticket string, mid wire.MatchID, mode wire.Mode, res EnqueueResult, first bool) {
	switch res.Outcome {
	case OutcomeWaiting:
		searching := h.Searching()
		if first {
			h.record(s.Queued(ticket, res.PassedOver, searching))
		} else if res.PassedOver {
			h.record(s.PassedOver(ticket, searching))
		}
		h.tellPassedOver(s, res.Skipped)
		if res.WatchHeld {
			s.HoldForWatch(ticket, h.cfg.WatchWait, func(after time.Duration) func() bool {
				return time.AfterFunc(after, func() { h.runWatch(s, ticket) }).Stop
			})
		}
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
func (h *Hub) tellPassedOver(s *session.Session, skipped []Waiter) {
	for i, w := range skipped {
		if slices.ContainsFunc(skipped[:i], func(o Waiter) bool { return o.Client == w.Client }) {
			continue // popped from another of its queues as well
		}
		h.route(w.Instance, &envelope.Envelope{Kind: envelope.KindPassedOver, To: w.Client, Ticket: w.Ticket}, s.Addr)
	}
}

// armFallback schedules the interest fallback of a search (the session cancels it when the
// search ends).
func (h *Hub) armFallback(s *session.Session, ticket string) func() bool {
	return time.AfterFunc(h.cfg.InterestFallback, func() { h.runFallback(s, ticket) }).Stop
}

// runFallback re-runs the match for a user still waiting with interests, now also offering
// it to (and taking from) the plain queue of its mode.
func (h *Hub) runFallback(s *session.Session, ticket string) {
	s.LockOps()
	defer s.UnlockOps()
	h.searchAgain(s, ticket, EnqueueRequest{Fallback: true})
}

// runWatch re-runs the match for a watched user still waiting after WATCH_WAIT: it is offered
// to everyone now (and takes from everyone's queues).
func (h *Hub) runWatch(s *session.Session, ticket string) {
	s.LockOps()
	defer s.UnlockOps()
	h.searchAgain(s, ticket, EnqueueRequest{Again: true, WatchOver: true})
}

// searchAgain runs a user's current search once more, as the interest fallback, as the end of
// a watched user's wait, or as the requeue of a search Redis lost (the flags in how), if it is
// still the current search. Called with the op lock held.
func (h *Hub) searchAgain(s *session.Session, ticket string, how EnqueueRequest) {
	mid := wire.MatchID(wire.NewID())
	mode, wish, current, fx := s.SearchAgain(ticket, mid)
	h.record(fx)
	if !current {
		return
	}
	if _, since, ok := s.WaitingSince(); ok {
		waited := h.now().Sub(since)
		how.WatchOver = how.WatchOver || waited >= h.cfg.WatchWait
		// the end of a watch wait after the interest fallback's time widens as that would have
		how.Fallback = how.Fallback || how.Again && wish.FallsBack() && h.cfg.InterestFallback > 0 && waited >= h.cfg.InterestFallback
	}
	res, err := h.mm.Enqueue(h.ctx, EnqueueRequest{
		Client: s.ID, Instance: h.cfg.Self, Mode: mode, Wish: wish, Match: mid, Ticket: ticket, TokenHash: s.Token(), Addr: s.Addr,
		Fallback: how.Fallback, Requeue: how.Requeue, Again: how.Again && !how.Fallback, WatchOver: how.WatchOver,
	})
	if err != nil {
		h.log.Warn("searching again failed; the user stays where it waits", "client", s.ID, "err", err)
		return
	}
	h.applyEnqueue(s, ticket, mid, mode, res, false)
}

// applyOwnMatch applies a match that this user's own enqueue made: the user is the
// initiator; the partner, wherever it is, is told first, so that nothing the user sends on
// its match_found can reach the partner before the partner knows the match. (Whatever the
// partner sends on its own match_found before ours is applied waits in our session.)
func (h *Hub) applyOwnMatch(s *session.Session, ticket string, mid wire.MatchID, mode wire.Mode, res EnqueueResult) {
	// The partner is matched in Redis whatever happens here, so it is always told; if this
	// side has moved on meanwhile, the partner_left that follows reaches it after this.
	h.route(res.Partner.Instance, &envelope.Envelope{Kind: envelope.KindMatched, To: res.Partner.ID, From: s.ID, Instance: h.cfg.Self,
		Match: mid, Ticket: res.PartnerTicket, Mode: mode, Common: res.Common, Language: res.Language, Addr: s.Addr}, s.Addr)
	kind := "random"
	switch {
	case len(res.Common) > 0:
		kind = "interest"
	case res.Language != "":
		kind = "language"
	}
	h.metrics.Matches.WithLabelValues(kind).Inc()
	h.record(s.MatchedOwn(session.Found{Ticket: ticket, Match: mid, Common: res.Common, Language: res.Language}, res.Partner))
}

// Leave ends the user's match or search at its request, and replaces its resume token.
func (h *Hub) Leave(s *session.Session) {
	s.LockOps()
	defer s.UnlockOps()
	if !h.retryUnfinished(s) {
		h.log.Debug("leave while an earlier end is unfinished; the sweep retries it", "client", s.ID)
	}
	next := session.NewResumeToken(s.ID)
	h.finish(s, h.record(s.Leave(next)).Ended)
}

// Relay sends a ready-made frame to the user's current partner, and only to it.
func (h *Hub) Relay(s *session.Session, event string, frame []byte) {
	partner, pinst, mid, ok := s.PartnerRoute()
	if !ok {
		s.Out.Send(wire.ErrorFrame(wire.ErrNotMatched, event+" needs a partner: send find_match first"))
		return
	}
	path := "local"
	if pinst != h.cfg.Self {
		path = "remote"
	}
	h.metrics.Relayed.WithLabelValues(event, path).Inc()
	if event == wire.EvChat {
		h.record(s.WroteChat())
	}
	h.route(pinst, &envelope.Envelope{Kind: envelope.KindRelay, To: partner, From: s.ID, Instance: h.cfg.Self, Match: mid, Frame: frame}, s.Addr)
}

// CallStats counts how a call of the current match went: once per user and match, ignored
// outside a match. A call that connected is told to the partner's session too: a report the
// partner files of this user then knows that this user's own page was in the call.
func (h *Hub) CallStats(s *session.Session, st wire.RTCStatsRequest) {
	if !s.CallStats() {
		return
	}
	candidate := st.Candidate
	if candidate == "" {
		candidate = "none"
	}
	h.metrics.Calls.WithLabelValues(st.Outcome, candidate).Inc()
	if st.Outcome == "connected" {
		h.metrics.CallSetup.Observe(float64(st.SetupMS) / 1000)
		if partner, pinst, mid, ok := s.PartnerRoute(); ok {
			h.route(pinst, &envelope.Envelope{Kind: envelope.KindCall, To: partner, From: s.ID, Instance: h.cfg.Self, Match: mid}, s.Addr)
		}
	}
}

// Report files the user's report of its partner (or the partner it had in the last minute):
// the reporter hears `reported`, the two never meet again while it is open, and when enough
// addresses have reported the same one it is banned at once, everywhere.
func (h *Hub) Report(s *session.Session, r wire.ReportRequest) {
	s.LockOps()
	defer s.UnlockOps()
	t, ok := s.ReportTarget()
	if !ok || r.MatchID != "" && r.MatchID != t.Match {
		s.Out.Send(wire.ErrorFrame(wire.ErrNotMatched, "report is about your partner, now or in the last minute"))
		return
	}
	filed, err := h.safety.File(h.ctx, safety.Report{Reporter: s.ID, Reported: t.Partner, ReporterAddr: s.Addr,
		ReportedAddr: t.PartnerAddr, Match: t.Match, Conversation: t.Conversation(), ReportRequest: r})
	switch {
	case errors.Is(err, safety.ErrReportLimit):
		s.Out.Send(wire.ErrorFrame(wire.ErrRateLimited, "one report per conversation, and a few an hour; you have many open reports already"))
		return
	case err != nil:
		h.log.Warn("storing a report failed", "err", err)
		s.Out.Send(wire.ErrorFrame(wire.ErrUnavailable, "the report could not be stored right now; try again shortly"))
		return
	}
	h.metrics.Reports.WithLabelValues(r.Reason).Inc()
	s.Out.Send(wire.MustEncode(wire.EvReported, wire.ReportedData{MatchID: t.Match}))
	if filed.Ban != nil {
		h.metrics.Bans.WithLabelValues("auto").Inc()
		h.BroadcastBan(*filed.Ban)
	}
}

// BroadcastBan closes the sockets of a banned address on every instance.
func (h *Hub) BroadcastBan(b safety.Ban) {
	insts, err := h.mm.LiveInstances(h.ctx)
	if err != nil {
		h.log.Warn("telling the instances of a ban failed; it holds from the next connection on", "err", err)
	}
	if !slices.Contains(insts, h.cfg.Self) {
		insts = append(insts, h.cfg.Self)
	}
	env := envelope.Envelope{Kind: envelope.KindBan, Addr: b.Addr, Until: b.Until, Reason: b.Reason}
	if b.AppealToken != "" {
		env.To, env.Frame = b.User, b.OwnFrame()
	}
	for _, inst := range insts {
		h.route(inst, &env, busSelf) // a ban must not wait behind anyone's flood
	}
}

// Disconnect cleans up after a user whose socket is gone. A matched user whose socket died
// without a close frame (or that this instance closed for a restart) is held for the resume
// grace period; everyone else ends at once.
func (h *Hub) Disconnect(s *session.Session, hold bool) {
	h.unregister(s)
	s.LockOps()
	defer s.UnlockOps()
	holdIt, fx := s.Disconnect(hold)
	h.record(fx)
	if holdIt && !h.hold(s) {
		fx = h.record(s.HoldFailed())
	}
	h.finish(s, fx.Ended)
}

// superseded: the identity lives on a newer socket; this one is closed and acts no more.
func (h *Hub) superseded(s *session.Session) {
	h.record(s.Moved())
	s.Out.Close(wire.CloseReplaced, "replaced by a newer connection")
}
