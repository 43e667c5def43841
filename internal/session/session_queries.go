package session

import (
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// The hub's questions to a session: each takes the session's lock itself and changes nothing.

// token is the hash of the current resume token.
func (s *Session) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenHash
}

// partnerRoute is where the user's messages for its partner go; ok is false when not matched.
func (s *Session) PartnerRoute() (partner wire.ClientID, pinst wire.InstanceID, mid wire.MatchID, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.partner.ID, s.partner.Instance, s.match, s.phase == PhaseMatched
}

// isMatchedWith says whether the user is in match mid with partner.
func (s *Session) IsMatchedWith(partner wire.ClientID, mid wire.MatchID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matchedWith(partner, mid)
}

// waitingSince is the current search and when it began; ok is false when not searching.
func (s *Session) WaitingSince() (ticket string, since time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ticket, s.waitStart, s.phase == PhaseSearching
}

// liveKeys says which of the user's Redis keys this instance keeps alive: its user hash while
// it searches or talks, the queues it waits in, and the match hash on the initiator's side.
func (s *Session) LiveKeys() (user bool, match wire.MatchID, waiting wire.Mode, wish wire.Wish) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.phase {
	case PhaseMatched:
		if s.initiator {
			match = s.match
		}
	case PhaseSearching:
		waiting, wish = s.mode, s.wish
	}
	return s.phase == PhaseSearching || s.phase == PhaseMatched, match, waiting, wish
}

// needsPow says whether the connection still has to solve its proof of work.
func (s *Session) NeedsPow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.powPassed
}

// mayReportWithin says whether the user may report now, or could have up to slack ago: its
// connection may then send messages as large as a report with its evidence.
func (s *Session) MayReportWithin(slack time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase == PhaseMatched || s.last.Match != "" && s.now().Sub(s.last.ended) <= reportWindow+slack
}
