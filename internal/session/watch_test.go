package session

import (
	"testing"
	"time"
)

// HoldForWatch arms the watch run once per search, for what is left of the wait, never for a
// search that is over, and the run is cancelled when the search ends (matched or left).
func TestHoldForWatch(t *testing.T) {
	type armed struct {
		after   time.Duration
		stopped bool
	}
	for _, tc := range []struct {
		name    string
		given   []verb
		ticket  string
		holds   int  // HoldForWatch calls
		end     verb // then this
		want    int  // timers armed
		stopped bool // and the last one cancelled by end
	}{
		{name: "arms once per search", given: []verb{search(tkCur, mCur)}, ticket: tkCur, holds: 3, want: 1},
		{name: "not for an old search", given: []verb{search(tkCur, mCur)}, ticket: tkOld, holds: 1, want: 0},
		{name: "cancelled by a match", given: []verb{search(tkCur, mCur)}, ticket: tkCur, holds: 1, end: own(tkCur, mCur, partnerP), want: 1, stopped: true},
		{name: "cancelled by a new search", given: []verb{search(tkOld, mOld)}, ticket: tkOld, holds: 1, end: search(tkCur, mCur), want: 1, stopped: true},
		{name: "not while matched", given: []verb{search(tkCur, mCur), own(tkCur, mCur, partnerP)}, ticket: tkCur, holds: 1, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(nil)
			for _, v := range tc.given {
				s.step(v)
			}
			var timers []*armed
			for range tc.holds {
				s.HoldForWatch(tc.ticket, 30*time.Second, func(after time.Duration) func() bool {
					a := &armed{after: after}
					timers = append(timers, a)
					return func() bool { a.stopped = true; return true }
				})
			}
			if tc.end != nil {
				s.step(tc.end)
			}
			if len(timers) != tc.want {
				t.Fatalf("%d timers armed, want %d", len(timers), tc.want)
			}
			if tc.want == 0 {
				return
			}
			// the clock ticks a second a reading: the search began a second or two ago
			if a := timers[0]; a.after <= 0 || a.after >= 30*time.Second || a.stopped != tc.stopped {
				t.Fatalf("armed for %v, stopped %v; want under 30s (what is left) and stopped %v", a.after, a.stopped, tc.stopped)
			}
		})
	}
}
