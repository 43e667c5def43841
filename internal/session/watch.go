package session

import "time"

// Watched users (issue 25): Redis decides whether a user is watched (match.lua reads its
// address's standing on every run of its search), and the session only keeps the timer of the
// run that offers a watched search to everyone once it has waited long enough. Nothing of it
// reaches the user: no frame, no field; the user only waits longer.

// HoldForWatch says search ticket is watched and waits among watched users only: arm, once
// per search, the run that offers it to everyone when it has waited wait in all (arm gets how
// long is left and returns the timer's cancel). The session cancels it when the search ends.
func (s *Session) HoldForWatch(ticket string, wait time.Duration, arm func(after time.Duration) (cancel func() bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.searching(ticket) || s.stopWatch != nil {
		return
	}
	s.stopWatch = arm(max(wait-s.now().Sub(s.waitStart), 0))
}

// stopTimers stops the search's timers: the interest fallback and the watch run.
func (s *Session) stopTimers() {
	for _, stop := range []*func() bool{&s.stopFallback, &s.stopWatch} {
		if *stop != nil {
			(*stop)()
			*stop = nil
		}
	}
}
