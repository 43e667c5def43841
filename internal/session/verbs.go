package session

import "github.com/go-megle/go-megle/internal/wire"

// The verbs as the hub calls them. Each takes the session's lock itself, runs one transition
// (the verb of the same name in lower case, session.go), queues the frames it made for the
// user before it lets go, and returns its Effects for the hub to carry out: a caller cannot
// forget the lock, nor hold it across I/O.

func (s *Session) BeginSearch(ticket string, mid wire.MatchID, mode wire.Mode, wish wire.Wish) (fx Effects, ok bool) {
	fx = s.step(func(s *Session) (e Effects) { e, ok = s.beginSearch(ticket, mid, mode, wish); return e })
	return fx, ok
}

func (s *Session) Queued(ticket string, passedOver bool, searching wire.Searching) Effects {
	return s.step(func(s *Session) Effects { return s.queued(ticket, passedOver, searching) })
}

func (s *Session) PassedOver(ticket string, searching wire.Searching) Effects {
	return s.step(func(s *Session) Effects { return s.passedOver(ticket, searching) })
}

func (s *Session) SearchAgain(ticket string, mid wire.MatchID) (mode wire.Mode, wish wire.Wish, ok bool, fx Effects) {
	fx = s.step(func(s *Session) Effects { mode, wish, ok = s.searchAgain(ticket, mid); return Effects{} })
	return mode, wish, ok, fx
}

func (s *Session) MatchedOwn(f Found, partner wire.Peer) Effects {
	return s.step(func(s *Session) Effects { return s.matchedOwn(f, partner) })
}

func (s *Session) MatchedBy(f Found, from wire.Peer, mode wire.Mode) Effects {
	return s.step(func(s *Session) Effects { return s.matchedBy(f, from, mode) })
}

func (s *Session) PartnerLeft(from wire.ClientID, mid wire.MatchID, reason string) Effects {
	return s.step(func(s *Session) Effects { return s.partnerLeft(from, mid, reason) })
}

func (s *Session) PartnerMoved(mid wire.MatchID, to wire.Peer) Effects {
	return s.step(func(s *Session) Effects { return s.partnerMoved(mid, to) })
}

func (s *Session) PartnerGone(partner wire.ClientID, mid wire.MatchID, tell wire.InstanceID) Effects {
	return s.step(func(s *Session) Effects { return s.partnerGone(partner, mid, tell) })
}

func (s *Session) PartnerCalled(from wire.ClientID, mid wire.MatchID) Effects {
	return s.step(func(s *Session) Effects { return s.partnerCalled(from, mid) })
}

func (s *Session) Relayed(from wire.ClientID, finst wire.InstanceID, mid wire.MatchID, frame []byte) Effects {
	return s.step(func(s *Session) Effects { return s.relayed(from, finst, mid, frame) })
}

func (s *Session) Leave(next string) Effects {
	return s.step(func(s *Session) Effects { return s.leave(next) })
}

func (s *Session) Disconnect(hold bool) (holdIt bool, fx Effects) {
	fx = s.step(func(s *Session) (e Effects) { holdIt, e = s.disconnect(hold); return e })
	return holdIt, fx
}

func (s *Session) HoldFailed() Effects { return s.step((*Session).holdFailed) }
func (s *Session) Held() Effects       { return s.step((*Session).held) }
func (s *Session) Moved() Effects      { return s.step((*Session).moved) }
func (s *Session) Expire() Effects     { return s.step((*Session).expire) }
func (s *Session) WroteChat() Effects  { return s.step((*Session).wroteChat) }
func (s *Session) PowSolved() Effects  { return s.step((*Session).powSolved) }
func (s *Session) AbandonSearch(ticket string) Effects {
	return s.step(func(s *Session) Effects { return s.abandonSearch(ticket) })
}

func (s *Session) Restore(m *wire.MatchInfo, partner wire.Peer) Effects {
	return s.step(func(s *Session) Effects { return s.restore(m, partner) })
}

// CallStats and ReportTarget change no phase: they take the lock and make no Effects.

func (s *Session) CallStats() (ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callStats()
}

func (s *Session) ReportTarget() (t LastMatch, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reportTarget()
}
