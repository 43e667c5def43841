package session

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// The session's transition table, without sockets or Redis: each case brings a session to a
// phase with some verbs (given), applies one more (when) and checks what it decided.

const (
	tkOld, tkCur          = "ticket-old", "ticket-current"
	mOld, mCur            = wire.MatchID("match-old"), wire.MatchID("match-current")
	partnerP, strangerQ   = wire.ClientID("P"), wire.ClientID("Q")
	instOther, instMoved  = wire.InstanceID("inst-2"), wire.InstanceID("inst-3")
	reasonNext, reasonLft = wire.ReasonNext, wire.ReasonLeft
	nextToken             = "ME.next-token"
)

type verb = func(*Session) Effects

func search(ticket string, mid wire.MatchID, interests ...string) verb {
	return searchFor(ticket, mid, wire.Wish{Interests: interests})
}

func searchFor(ticket string, mid wire.MatchID, wish wire.Wish) verb {
	return func(s *Session) Effects { fx, _ := s.beginSearch(ticket, mid, wire.ModeVideo, wish); return fx }
}
func queued(ticket string) verb {
	return func(s *Session) Effects { return s.queued(ticket, false, wire.Searching{Video: 3}) }
}
func passedOver(ticket string) verb {
	return func(s *Session) Effects { return s.passedOver(ticket, wire.Searching{Video: 2}) }
}
func own(ticket string, mid wire.MatchID, partner wire.ClientID) verb {
	return func(s *Session) Effects {
		return s.matchedOwn(Found{Ticket: ticket, Match: mid}, wire.Peer{ID: partner, Instance: instOther, Addr: "addr-" + string(partner)})
	}
}
func by(ticket string, mid wire.MatchID, from wire.ClientID) verb {
	return func(s *Session) Effects {
		return s.matchedBy(Found{Ticket: ticket, Match: mid, Common: []string{"jazz"}, Language: "pt"},
			wire.Peer{ID: from, Instance: instOther, Addr: "addr-" + string(from)}, wire.ModeVideo)
	}
}
func left(from wire.ClientID, mid wire.MatchID, reason string) verb {
	return func(s *Session) Effects { return s.partnerLeft(from, mid, reason) }
}
func disconnect(hold bool) verb {
	return func(s *Session) Effects { _, fx := s.disconnect(hold); return fx }
}
func relayed(from wire.ClientID, mid wire.MatchID) verb { return relayedFrom(from, instOther, mid) }
func relayedFrom(from wire.ClientID, finst wire.InstanceID, mid wire.MatchID) verb {
	return func(s *Session) Effects {
		return s.relayed(from, finst, mid, []byte(`{"event":"chat","data":{"text":"hi"}}`))
	}
}
func moved(from wire.ClientID, mid wire.MatchID) verb {
	return func(s *Session) Effects { return s.partnerMoved(mid, wire.Peer{ID: from, Instance: instMoved}) }
}
func gone(partner wire.ClientID, mid wire.MatchID) verb {
	return func(s *Session) Effects { return s.partnerGone(partner, mid, "") }
}
func abandon(ticket string) verb { return func(s *Session) Effects { return s.abandonSearch(ticket) } }
func restored(initiator bool) verb {
	return func(s *Session) Effects {
		return s.restore(&wire.MatchInfo{PartnerID: partnerP, MatchID: mCur, Initiator: initiator, Mode: wire.ModeText}, wire.Peer{ID: partnerP, Instance: instOther, Addr: "addr-P"})
	}
}

var (
	leaveV  verb = func(s *Session) Effects { return s.leave(nextToken) }
	heldV   verb = (*Session).held
	movedV  verb = (*Session).moved
	expireV verb = (*Session).expire
)

// matchedWithP is the phase "matched with P in mCur, P on instOther", reached by our own search.
var matchedWithP = []verb{search(tkCur, mCur), own(tkCur, mCur, partnerP)}

func TestSessionTransitions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		given  []verb
		when   verb
		phase  Phase
		frames []string // events sent to the user, in order
		ended  *Ended
		waited bool   // a search ended in a match
		left   string // a partner_left was sent, for this reason
	}{
		// searching
		{name: "a search starts from idle", when: search(tkCur, mCur), phase: PhaseSearching},
		{name: "Redis queued the search: waiting", given: []verb{search(tkCur, mCur)}, when: queued(tkCur),
			phase: PhaseSearching, frames: []string{wire.EvWaiting}},
		{name: "a waiting for an earlier search is stale", given: []verb{search(tkOld, mOld), search(tkCur, mCur)}, when: queued(tkOld),
			phase: PhaseSearching},
		{name: "waiting never follows the match it lost to", given: []verb{search(tkCur, mCur), by(tkCur, mCur, partnerP)}, when: queued(tkCur),
			phase: PhaseMatched},
		{name: "passed over by someone met recently: waiting again", given: []verb{search(tkCur, mCur), queued(tkCur)}, when: passedOver(tkCur),
			phase: PhaseSearching, frames: []string{wire.EvWaiting}},
		{name: "once per search", given: []verb{search(tkCur, mCur), queued(tkCur), passedOver(tkCur)}, when: passedOver(tkCur),
			phase: PhaseSearching},
		{name: "and again in the next search", given: []verb{search(tkOld, mOld), passedOver(tkOld), search(tkCur, mCur)}, when: passedOver(tkCur),
			phase: PhaseSearching, frames: []string{wire.EvWaiting}},
		{name: "passed over in an earlier search: stale", given: []verb{search(tkOld, mOld), search(tkCur, mCur)}, when: passedOver(tkOld),
			phase: PhaseSearching},
		{name: "passed over, but matched meanwhile: nothing", given: []verb{search(tkCur, mCur), by(tkCur, mCur, partnerP)}, when: passedOver(tkCur),
			phase: PhaseMatched},
		{name: "Next while searching ends that search", given: []verb{search(tkOld, mOld)}, when: search(tkCur, mCur),
			phase: PhaseSearching, ended: &Ended{Token: "hash", Was: PhaseSearching, Reason: reasonNext}},
		{name: "Next while matched ends the match and tells whom", given: matchedWithP, when: search(tkOld, mOld),
			phase: PhaseSearching, ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, PartnerInstance: instOther, Match: mCur, Reason: reasonNext}},
		{name: "a failed enqueue abandons its search", given: []verb{search(tkCur, mCur)}, when: abandon(tkCur),
			phase: PhaseIdle, ended: &Ended{Token: "hash", Was: PhaseSearching, Reason: reasonNext}},
		{name: "abandoning a search that is over does nothing", given: []verb{search(tkOld, mOld), search(tkCur, mCur)}, when: abandon(tkOld),
			phase: PhaseSearching},

		// matching
		{name: "our own enqueue matched us: we initiate", given: []verb{search(tkCur, mCur)}, when: own(tkCur, mCur, partnerP),
			phase: PhaseMatched, frames: []string{wire.EvMatchFound}, waited: true},
		{name: "someone else's enqueue matched our search", given: []verb{search(tkCur, mCur)}, when: by(tkCur, mCur, partnerP),
			phase: PhaseMatched, frames: []string{wire.EvMatchFound}, waited: true},
		{name: "a match for an earlier search is stale", given: []verb{search(tkOld, mOld), search(tkCur, mCur)}, when: by(tkOld, mOld, partnerP),
			phase: PhaseSearching},
		{name: "a match after Stop is stale", given: []verb{search(tkCur, mCur), leaveV}, when: by(tkCur, mCur, partnerP),
			phase: PhaseIdle},
		{name: "our own match after a newer search is stale", given: []verb{search(tkOld, mOld), search(tkCur, mCur)}, when: own(tkOld, mOld, partnerP),
			phase: PhaseSearching},
		{name: "a partner_left that overtook our own match arrives with it",
			given: []verb{search(tkCur, mCur), left(partnerP, mCur, reasonNext)}, when: own(tkCur, mCur, partnerP),
			phase: PhaseIdle, frames: []string{wire.EvMatchFound, wire.EvPartnerLeft}, waited: true, left: reasonNext},
		{name: "a second match_found never follows the first", given: []verb{search(tkCur, mCur), by(tkCur, mCur, partnerP)}, when: by(tkCur, mCur, strangerQ),
			phase: PhaseMatched},

		// the partner
		{name: "the partner leaves", given: matchedWithP, when: left(partnerP, mCur, reasonLft),
			phase: PhaseIdle, frames: []string{wire.EvPartnerLeft}, left: reasonLft},
		{name: "a partner_left for an earlier match is stale", given: matchedWithP, when: left(partnerP, mOld, reasonLft),
			phase: PhaseMatched},
		{name: "a partner_left from someone else is ignored", given: matchedWithP, when: left(strangerQ, mCur, reasonLft),
			phase: PhaseMatched},
		{name: "a partner_left while idle is ignored", when: left(partnerP, mCur, reasonLft), phase: PhaseIdle},
		{name: "the partner's frame is delivered", given: matchedWithP, when: relayed(partnerP, mCur),
			phase: PhaseMatched, frames: []string{wire.EvChat}},
		{name: "a frame from an earlier match is not", given: matchedWithP, when: relayed(partnerP, mOld), phase: PhaseMatched},
		{name: "a frame from anyone else is not", given: matchedWithP, when: relayed(strangerQ, mCur), phase: PhaseMatched},
		{name: "a frame while searching is not", given: []verb{search(tkCur, mCur)}, when: relayed(partnerP, mCur), phase: PhaseSearching},
		{name: "a frame of the partner's old socket after it moved is not (its 4001 notice was lost)",
			given: append(slices.Clone(matchedWithP), moved(partnerP, mCur)), when: relayed(partnerP, mCur), phase: PhaseMatched},
		{name: "a frame from where the partner lives now is", given: append(slices.Clone(matchedWithP), moved(partnerP, mCur)),
			when: relayedFrom(partnerP, instMoved, mCur), phase: PhaseMatched, frames: []string{wire.EvChat}},
		{name: "a frame that does not say where it comes from is (an older instance)", given: matchedWithP,
			when: relayedFrom(partnerP, "", mCur), phase: PhaseMatched, frames: []string{wire.EvChat}},
		{name: "the partner's instance died and it will not resume", given: matchedWithP, when: gone(partnerP, mCur),
			phase: PhaseIdle, frames: []string{wire.EvPartnerLeft}, left: wire.ReasonDisconnected,
			ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, Match: mCur, Reason: wire.ReasonDisconnected}},
		{name: "a dead partner of an earlier match changes nothing", given: matchedWithP, when: gone(partnerP, mOld), phase: PhaseMatched},

		// leaving
		{name: "Stop while idle and never queued: nothing in Redis", when: leaveV, phase: PhaseIdle},
		{name: "Stop while matched: and the resume token is replaced", given: matchedWithP, when: leaveV, phase: PhaseIdle, frames: []string{wire.EvToken},
			ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, PartnerInstance: instOther, Match: mCur, Reason: reasonLft, TokenHash: HashToken(nextToken)}},
		{name: "Stop while searching", given: []verb{search(tkCur, mCur)}, when: leaveV, phase: PhaseIdle, frames: []string{wire.EvToken},
			ended: &Ended{Token: "hash", Was: PhaseSearching, Reason: reasonLft, TokenHash: HashToken(nextToken)}},
		{name: "Stop while idle after a match: only the token is replaced", given: append(append([]verb{}, matchedWithP...), left(partnerP, mCur, reasonLft)),
			when: leaveV, phase: PhaseIdle, frames: []string{wire.EvToken},
			ended: &Ended{Token: "hash", Was: PhaseIdle, Reason: reasonLft, TokenHash: HashToken(nextToken)}},
		{name: "the next Stop acts under the new token", given: append(append([]verb{}, matchedWithP...), leaveV), when: leaveV, phase: PhaseIdle,
			frames: []string{wire.EvToken}, ended: &Ended{Token: HashToken(nextToken), Was: PhaseIdle, Reason: reasonLft, TokenHash: HashToken(nextToken)}},

		// the socket goes
		{name: "a dropped matched socket is held, not ended", given: matchedWithP, when: disconnect(true), phase: PhaseMatched},
		{name: "a closed matched socket ends the match and forgets the user", given: matchedWithP, when: disconnect(false), phase: PhaseClosed,
			ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, PartnerInstance: instOther, Match: mCur, Reason: wire.ReasonDisconnected, Forget: true}},
		{name: "a dropped searching socket is not held", given: []verb{search(tkCur, mCur)}, when: disconnect(true), phase: PhaseClosed,
			ended: &Ended{Token: "hash", Was: PhaseSearching, Reason: wire.ReasonDisconnected, Forget: true}},
		{name: "a socket that never searched leaves nothing to forget", when: disconnect(false), phase: PhaseClosed},
		{name: "an idle socket that searched before is forgotten", given: []verb{search(tkCur, mCur), leaveV}, when: disconnect(false),
			phase: PhaseClosed, ended: &Ended{Token: HashToken(nextToken), Was: PhaseIdle, Reason: wire.ReasonDisconnected, Forget: true}},

		// holding and moving
		{name: "a held match that nobody resumed expires", given: append(append([]verb{}, matchedWithP...), heldV), when: expireV, phase: PhaseClosed,
			ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, PartnerInstance: instOther, Match: mCur, Reason: wire.ReasonDisconnected, Forget: true, HeldOnly: true}},
		{name: "a session resumed elsewhere does not expire", given: append(append([]verb{}, matchedWithP...), heldV, movedV), when: expireV, phase: PhaseMoved},
		{name: "a session resumed elsewhere ends nothing when its socket goes", given: append(append([]verb{}, matchedWithP...), movedV), when: disconnect(false),
			phase: PhaseMoved},
		{name: "a session resumed elsewhere never searches again", given: []verb{movedV}, when: search(tkCur, mCur), phase: PhaseMoved},
		{name: "a session resumed elsewhere never hears of a match", given: []verb{search(tkCur, mCur), movedV}, when: by(tkCur, mCur, partnerP),
			phase: PhaseMoved},
		{name: "a resumed identity gets its match back", when: restored(false), phase: PhaseMatched},
		{name: "its partner's frames reach it again", given: []verb{restored(false)}, when: relayed(partnerP, mCur),
			phase: PhaseMatched, frames: []string{wire.EvChat}},
		{name: "a resumed identity that leaves tells its partner", given: []verb{restored(true)}, when: leaveV, phase: PhaseIdle, frames: []string{wire.EvToken},
			ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, PartnerInstance: instOther, Match: mCur, Reason: reasonLft, TokenHash: HashToken(nextToken)}},
		{name: "a match Redis lost ends, and the partner is told where it lives", given: matchedWithP,
			when: func(s *Session) Effects { return s.partnerGone(partnerP, mCur, instOther) }, phase: PhaseIdle,
			frames: []string{wire.EvPartnerLeft}, left: wire.ReasonDisconnected,
			ended: &Ended{Token: "hash", Was: PhaseMatched, Partner: partnerP, PartnerInstance: instOther, Match: mCur, Reason: wire.ReasonDisconnected}},
		{name: "the partner's frame that overtook our own match waits for it", given: []verb{search(tkCur, mCur)}, when: relayed(partnerP, mCur),
			phase: PhaseSearching},
		{name: "and arrives right after match_found", given: []verb{search(tkCur, mCur), relayed(partnerP, mCur)}, when: own(tkCur, mCur, partnerP),
			phase: PhaseMatched, frames: []string{wire.EvMatchFound, wire.EvChat}, waited: true},
		{name: "a frame for another match is not kept for ours", given: []verb{search(tkCur, mCur), relayed(partnerP, mOld)}, when: own(tkCur, mCur, partnerP),
			phase: PhaseMatched, frames: []string{wire.EvMatchFound}, waited: true},
		{name: "nor one from anyone but the partner our match names", given: []verb{search(tkCur, mCur), relayed(strangerQ, mCur)}, when: own(tkCur, mCur, partnerP),
			phase: PhaseMatched, frames: []string{wire.EvMatchFound}, waited: true},
		{name: "kept frames go with the search that ends", given: []verb{search(tkOld, mOld), relayed(partnerP, mOld), search(tkCur, mCur)},
			when: own(tkCur, mCur, partnerP), phase: PhaseMatched, frames: []string{wire.EvMatchFound}, waited: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(nil)
			for _, g := range tc.given {
				s.step(g)
			}
			fx := s.step(tc.when)
			if s.phase != tc.phase {
				t.Errorf("phase %v, want %v", s.phase, tc.phase)
			}
			if got := frameEvents(t, fx.Frames); !reflect.DeepEqual(got, tc.frames) {
				t.Errorf("frames %v, want %v", got, tc.frames)
			}
			if !reflect.DeepEqual(fx.Ended, tc.ended) {
				t.Errorf("ended %+v, want %+v", fx.Ended, tc.ended)
			}
			if (fx.Waited > 0) != tc.waited || fx.Left != tc.left {
				t.Errorf("waited %v left %q, want waited %v left %q", fx.Waited, fx.Left, tc.waited, tc.left)
			}
		})
	}
}

func TestSessionMatchFoundSaysWhoInitiates(t *testing.T) {
	for _, tc := range []struct {
		name      string
		when      verb
		initiator bool
		common    []string
		language  string
	}{
		{"our own enqueue", own(tkCur, mCur, partnerP), true, []string{}, ""},
		{"someone else's", by(tkCur, mCur, partnerP), false, []string{"jazz"}, "pt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession(nil)
			s.step(search(tkCur, mCur))
			fx := s.step(tc.when)
			var m wire.Outbound[wire.MatchFoundData]
			if len(fx.Frames) != 1 || json.Unmarshal(fx.Frames[0], &m) != nil {
				t.Fatalf("frames %q", fx.Frames)
			}
			want := wire.MatchFoundData{PartnerID: partnerP, Initiator: tc.initiator, MatchID: mCur, CommonInterests: tc.common, Language: tc.language, Mode: wire.ModeVideo}
			if !reflect.DeepEqual(m.Data, want) {
				t.Fatalf("match_found %+v, want %+v", m.Data, want)
			}
			partner, inst, mid, ok := s.PartnerRoute()
			if !ok || partner != partnerP || inst != instOther || mid != mCur {
				t.Fatalf("route %v %v %v %v", partner, inst, mid, ok)
			}
		})
	}
}

// TestSessionWaitingSaysWhatTheServerKnows: waiting carries the count of users searching in
// the user's mode, and whether the search met only strangers it met recently, from then on.
func TestSessionWaitingSaysWhatTheServerKnows(t *testing.T) {
	s := testSession(nil)
	waiting := func(v verb) (w wire.WaitingData) {
		t.Helper()
		fx := s.step(v)
		var m wire.Outbound[wire.WaitingData]
		if len(fx.Frames) != 1 || json.Unmarshal(fx.Frames[0], &m) != nil || m.Event != wire.EvWaiting {
			t.Fatalf("frames %q, want one waiting", fx.Frames)
		}
		return m.Data
	}
	s.step(func(s *Session) Effects {
		fx, _ := s.beginSearch(tkOld, mOld, wire.ModeText, wire.Wish{Interests: []string{"chess"}})
		return fx
	})
	w := waiting(func(s *Session) Effects { return s.queued(tkOld, false, wire.Searching{Video: 9, Text: 4}) })
	if w.Searching != 4 || w.MetRecently || w.Message != wire.WaitingMessage || w.Mode != wire.ModeText || !reflect.DeepEqual(w.Interests, []string{"chess"}) {
		t.Fatalf("waiting %+v, want the text count and nobody met", w)
	}
	if w = waiting(func(s *Session) Effects { return s.passedOver(tkOld, wire.Searching{Text: 2}) }); w.Searching != 2 || !w.MetRecently || w.Message != wire.WaitingForNewOnes {
		t.Fatalf("waiting after being passed over %+v", w)
	}
	s.step(search(tkCur, mCur))
	if w = waiting(func(s *Session) Effects { return s.queued(tkCur, true, wire.Searching{Video: 2}) }); w.Searching != 2 || !w.MetRecently {
		t.Fatalf("waiting of a search that passed someone over %+v", w)
	}
}

func TestSessionPartnerMoves(t *testing.T) {
	s := testSession(nil)
	for _, v := range matchedWithP {
		s.step(v)
	}
	s.step(moved(partnerP, mOld)) // stale: an earlier match's partner
	s.step(moved(strangerQ, mCur))
	if _, inst, _, _ := s.PartnerRoute(); inst != instOther {
		t.Fatalf("a stale moved notice rerouted the partner to %s", inst)
	}
	s.step(moved(partnerP, mCur))
	if _, inst, _, _ := s.PartnerRoute(); inst != instMoved {
		t.Fatalf("partner routed to %s after it moved to %s", inst, instMoved)
	}
}

func TestSessionInterestFallback(t *testing.T) {
	var armed []string
	cancelled := 0
	s := testSession(func(_ *Session, ticket string) func() bool {
		armed = append(armed, ticket)
		return func() bool { cancelled++; return true }
	})
	s.step(search(tkOld, mOld)) // no interests: no fallback
	s.step(queued(tkOld))
	if len(armed) != 0 {
		t.Fatalf("a search without interests armed a fallback: %v", armed)
	}
	s.step(search(tkCur, mCur, "chess"))
	s.step(queued(tkCur))
	if !reflect.DeepEqual(armed, []string{tkCur}) {
		t.Fatalf("armed %v, want the current search", armed)
	}
	again := func(ticket string) (mode wire.Mode, wish wire.Wish, ok bool) {
		s.step(func(s *Session) Effects { mode, wish, ok = s.searchAgain(ticket, "match-again"); return Effects{} })
		return mode, wish, ok
	}
	if _, _, ok := again(tkOld); ok {
		t.Fatal("a fallback for an ended search went ahead")
	}
	if mode, wish, ok := again(tkCur); !ok || mode != wire.ModeVideo || !reflect.DeepEqual(wish.Interests, []string{"chess"}) {
		t.Fatalf("the fallback of the current search: %v %v %v", mode, wish, ok)
	}
	s.step(by(tkCur, mCur, partnerP))
	if cancelled != 1 {
		t.Fatalf("the match cancelled %d fallbacks, want 1", cancelled)
	}

	// languages fall back to anyone like interests do, unless only a shared language will do
	s.step(searchFor("t-lang", "m-lang", wire.Wish{Languages: []string{"pt"}}))
	s.step(queued("t-lang"))
	s.step(searchFor("t-only", "m-only", wire.Wish{Languages: []string{"pt"}, Interests: []string{"chess"}, OnlyLanguage: true}))
	s.step(queued("t-only"))
	if !reflect.DeepEqual(armed, []string{tkCur, "t-lang"}) {
		t.Fatalf("armed %v, want a language search's fallback and none for only my language", armed)
	}
	if _, wish, ok := again("t-only"); !ok || !wish.OnlyLanguage || !reflect.DeepEqual(wish.Languages, []string{"pt"}) {
		t.Fatalf("a requeue of an only-my-language search: %+v %v", wish, ok)
	}
}

func TestSessionSearchGauge(t *testing.T) {
	s := testSession(nil)
	for _, tc := range []struct {
		name             string
		when             verb
		started, stopped wire.Mode
	}{
		{"a search starts", search(tkOld, mOld), wire.ModeVideo, ""},
		{"it is queued: the same search", queued(tkOld), "", ""},
		{"Next: one search stops, another starts", func(s *Session) Effects { fx, _ := s.beginSearch(tkCur, mCur, wire.ModeText, wire.Wish{}); return fx }, wire.ModeText, wire.ModeVideo},
		{"it is matched", by(tkCur, mCur, partnerP), "", wire.ModeText},
		{"the partner leaves: no search", left(partnerP, mCur, reasonLft), "", ""},
	} {
		fx := s.step(tc.when)
		if fx.StartedSearching != tc.started || fx.StoppedSearching != tc.stopped {
			t.Errorf("%s: started %q stopped %q, want %q %q", tc.name, fx.StartedSearching, fx.StoppedSearching, tc.started, tc.stopped)
		}
	}
}

// nopConn is a connection that takes every frame: the verbs' frames are read from Effects.
type nopConn struct{}

func (nopConn) Send([]byte) bool    { return true }
func (nopConn) Close(int, string)   {}
func (nopConn) SendNow([]byte) bool { return true }
func (nopConn) Ping()               {}

// testSession is a session with a clock that ticks a second a reading.
func testSession(arm func(*Session, string) func() bool) *Session {
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	return NewSession(Identity{ID: "ME", TokenHash: "hash", Addr: "addr-me"}, Parts{Out: nopConn{}, Now: now, ArmFallback: arm})
}

func frameEvents(t *testing.T, frames [][]byte) []string {
	t.Helper()
	var out []string
	for _, f := range frames {
		var in wire.Inbound
		if err := json.Unmarshal(f, &in); err != nil {
			t.Fatalf("frame %q: %v", f, err)
		}
		out = append(out, in.Event)
	}
	return out
}

func TestSessionReportTarget(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	s := NewSession(Identity{ID: "ME", TokenHash: "hash", Addr: "addr-me"}, Parts{Out: nopConn{}, Now: func() time.Time { return clock }})
	target := func() (LastMatch, bool) {
		var t LastMatch
		var ok bool
		s.step(func(s *Session) Effects { t, ok = s.reportTarget(); return Effects{} })
		return t, ok
	}
	if _, ok := target(); ok {
		t.Fatal("a report target before any match")
	}
	for _, v := range matchedWithP {
		s.step(v)
	}
	if m, ok := target(); !ok || m.Partner != partnerP || m.Match != mCur || m.PartnerAddr != "addr-P" {
		t.Fatalf("while matched: %+v %v", m, ok)
	}
	s.step(left(partnerP, mCur, reasonLft))
	clock = clock.Add(reportWindow)
	if m, ok := target(); !ok || m.Partner != partnerP || m.PartnerAddr != "addr-P" {
		t.Fatalf("a minute after the end: %+v %v, want the last partner", m, ok)
	}
	s.step(search(tkOld, mOld)) // searching again: still the last partner
	if m, ok := target(); !ok || m.Partner != partnerP {
		t.Fatalf("searching after the end: %+v %v", m, ok)
	}
	clock = clock.Add(time.Second)
	if m, ok := target(); ok {
		t.Fatalf("past the minute: %+v", m)
	}
}

// What a report says of its conversation: its length until the report or the end, and
// whether the reported user took part (wrote back, or its page's call connected). Only the
// partner's own doing counts for that: what the user alone does (writing, its own page's
// rtc_stats) does not.
func TestSessionConversation(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	s := NewSession(Identity{ID: "ME", TokenHash: "hash", Addr: "addr-me"}, Parts{Out: nopConn{}, Now: func() time.Time { return clock }})
	talk := func() Conversation {
		var m LastMatch
		s.step(func(s *Session) Effects { m, _ = s.reportTarget(); return Effects{} })
		return m.Conversation()
	}
	chat := wire.MustEncode(wire.EvChat, wire.ChatData{Text: json.RawMessage(`"hi"`)})
	typing := wire.MustEncode(wire.EvTyping, wire.TypingData{Typing: true})
	for _, v := range matchedWithP {
		s.step(v)
	}
	clock = clock.Add(7 * time.Second)
	s.step((*Session).wroteChat)
	s.step(func(s *Session) Effects { return s.relayed(partnerP, instOther, mCur, typing) })
	s.step(func(s *Session) Effects { return s.relayed("someone-else", instOther, mCur, chat) }) // not the partner's
	if c := talk(); c.Length != 7*time.Second || c.Exchange {
		t.Fatalf("after writing alone: %+v", c)
	}
	s.step(func(s *Session) Effects { return s.relayed(partnerP, instOther, mCur, chat) })
	if c := talk(); !c.Exchange {
		t.Fatalf("after the partner wrote back: %+v", c)
	}
	// the match ends; a minute later its length is still until its end
	s.step(left(partnerP, mCur, reasonLft))
	clock = clock.Add(time.Minute)
	if c := talk(); c.Length != 7*time.Second || !c.Exchange {
		t.Fatalf("the last match: %+v", c)
	}
	// a new match starts from nothing; the partner's call counts on its own
	for _, v := range matchedWithP {
		s.step(v)
	}
	if c := talk(); c.Exchange || c.Length != 0 {
		t.Fatalf("a new match: %+v", c)
	}
	s.step(func(s *Session) Effects { return s.partnerCalled("someone-else", mCur) })
	if c := talk(); c.Exchange {
		t.Fatalf("another's call counted: %+v", c)
	}
	s.step(func(s *Session) Effects { return s.partnerCalled(partnerP, mCur) })
	if c := talk(); !c.Exchange {
		t.Fatalf("the partner's call: %+v", c)
	}
	// the partner's line that overtook our own match counts as heard when the match applies
	s.step(left(partnerP, mCur, reasonLft))
	s.step(search(tkCur, mCur))
	s.step(relayed(partnerP, mCur))
	s.step(own(tkCur, mCur, partnerP))
	s.step((*Session).wroteChat)
	if c := talk(); !c.Exchange {
		t.Fatalf("a line that came before the match: %+v", c)
	}
}

func TestIsEvent(t *testing.T) {
	for _, tc := range []struct {
		frame []byte
		want  bool
	}{
		{wire.MustEncode(wire.EvChat, wire.ChatData{Text: json.RawMessage(`"x"`)}), true},
		{wire.MustEncode(wire.EvTyping, wire.TypingData{}), false},
		{[]byte(`{"event":"chatter","data":{}}`), false},
		{[]byte(`{"event":"chat"`), true},
		{[]byte(`{"event":"cha`), false},
	} {
		if got := isEvent(tc.frame, wire.EvChat); got != tc.want {
			t.Errorf("isEvent(%s) = %v", tc.frame, got)
		}
	}
}
