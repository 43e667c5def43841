package session

import (
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// What a session's verbs hand the hub (Effects, Ended), what a session needs of its
// connection (Conn), and the small records a session keeps (lastMatch, earlyFrame).

// Conn is what a session needs of its user's connection.
type Conn interface {
	// Send queues a frame and never blocks; false when the connection is closing or full.
	Send(frame []byte) bool
	// Close ends the connection with a close code (none for 0).
	Close(code int, text string)
	// SendNow is Send for the hub's rounds over every connection: it writes on the caller's
	// goroutine when the socket can take the frame at once, else it leaves it to a writer.
	SendNow(frame []byte) bool
	// Ping sends a keep-alive ping, like SendNow.
	Ping()
}

// Effects is what a transition asks of the hub besides the frames, which step has queued.
type Effects struct {
	Frames [][]byte
	// Ended is a conversation that ended: leave.lua must end it in Redis, and its partner
	// be told.
	Ended *Ended
	// Waited is set when a search of this user ended in a match, after Waited.
	Waited time.Duration
	// Left is the reason of a partner_left this user was sent.
	Left string

	// the searching gauge's movement, set by step
	StoppedSearching, StartedSearching wire.Mode
}

// Found is a match a search found, as the matchmaker tells it: the search (Ticket), the match
// id, and what the two have in common (interests, else a shared language; neither: a random
// pair).
type Found struct {
	Ticket   string
	Match    wire.MatchID
	Common   []string
	Language string
}

// lastMatch is a match that has ended (or, for a report of the current one, the match until
// now), as a report of it needs it.
type LastMatch struct {
	Match       wire.MatchID
	Partner     wire.ClientID
	PartnerAddr string
	talk        talk
	ended       time.Time
}

// talk is what the server saw of a match: when it began, whether the user wrote to its
// partner and heard from it, and whether the partner's page said its video call connected.
// Only what the partner did is beyond the user's own making, which is why a report counts
// towards an automatic ban only with it (report.lua).
type talk struct {
	started      time.Time
	wrote, heard bool
	partnerCall  bool
}

// Conversation is what the reporter's instance saw of the match a report is about.
type Conversation struct {
	Length time.Duration // from match_found to the report, or to the end of the match
	// Exchange: the reported user took part: the two wrote to each other, or the reported
	// user's own page said its video call connected (rtc_stats)
	Exchange bool
}

// conversation is what a report of the match says of it.
func (m LastMatch) Conversation() Conversation {
	return Conversation{Length: m.ended.Sub(m.talk.started),
		Exchange: m.talk.wrote && m.talk.heard || m.talk.partnerCall}
}

// isEvent says whether a frame the server encoded (wire.Encode) is of the event: the envelope's
// first member is the event, always written the same way.
func isEvent(frame []byte, event string) bool {
	const head = `{"event":"`
	return len(frame) > len(head)+len(event) && string(frame[:len(head)]) == head &&
		string(frame[len(head):len(head)+len(event)]) == event && frame[len(head)+len(event)] == '"'
}

// reportWindow: a user may report its last partner this long after their match ended.
const reportWindow = 60 * time.Second

// earlyFrame is a partner's frame that overtook our own match's answer.
type earlyFrame struct {
	from  wire.ClientID
	frame []byte
}

// maxEarly bounds the frames kept for a match that is being applied.
const maxEarly = 32

// Ended is what a finished conversation leaves for the hub to do in Redis and for the partner.
type Ended struct {
	Was             Phase // searching or matched (idle: only Forget)
	Partner         wire.ClientID
	PartnerInstance wire.InstanceID
	Match           wire.MatchID
	Reason          string
	Forget          bool   // delete the user hash as well: the user is gone
	HeldOnly        bool   // only if Redis still holds the user for a resume (a hold's expiry)
	Token           string // the resume token hash the session acted under: Redis acts only while it holds the same
	TokenHash       string // the user's resume token is replaced by this one (a Stop)
}

// needsRedis says whether anything of the ended conversation is in Redis.
func (e *Ended) NeedsRedis() bool {
	return e != nil && (e.Was != PhaseIdle || e.Forget || e.TokenHash != "")
}
