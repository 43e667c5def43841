package session

// Phase is where a user's conversation stands on this instance.
//
//	idle ──beginSearch──► searching ──matchedOwn / matchedBy──► matched ──partnerLeft / leave──► idle
//	  ▲                       │                                    │
//	  └────────leave──────────┘               disconnect(hold) ────┴──► held ──expire──► closed
//	                                                                     └──(resumed elsewhere)──► moved
//
// Any phase ends in closed when the socket goes for good; a session whose identity lives on
// another socket or instance is moved and never acts in Redis again.
type Phase int

const (
	PhaseIdle      Phase = iota
	PhaseSearching       // a search (ticket) is queued in Redis, or about to be
	PhaseMatched         // paired with partner in match
	PhaseHeld            // the socket dropped while matched; the match waits for a resume
	PhaseMoved           // the identity lives on elsewhere now (a resume on another socket)
	PhaseClosed          // the socket is gone and so is the conversation
)

var phaseNames = [...]string{"idle", "searching", "matched", "held", "moved", "closed"}

func (p Phase) String() string { return phaseNames[p] }
