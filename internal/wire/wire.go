// Package wire is the WebSocket protocol between browsers and the server, in one place: the
// event names, the data of every event both ways, the error codes and error frames, the close
// codes and the limits; and the ids every part of the server names users, matches and
// instances by. The server and the load generator both speak it through these types;
// web/src/protocol.ts mirrors them for the browser, and a test holds the two together.
//
// It imports the standard library only, and is imported by every other package: it is the
// floor of the import graph (README, "Architecture"). Invariants: every frame is a JSON text
// frame {"event": "<name>", "data": {...}} made by Encode from a typed struct (never a map);
// the fast encoder writes exactly what encoding/json would (a fuzz test holds it to it).
package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Distinct identifier types, so a match id can never be passed where a client id is meant.
type (
	ClientID string
	MatchID  string
)

// Mode is what a user wants to share: video (with audio) or text only.
type Mode string

const (
	ModeVideo Mode = "video"
	ModeText  Mode = "text"
)

// Inbound event names (client -> server).
const (
	EvFindMatch = "find_match"
	EvSignal    = "signal"
	EvChat      = "chat"
	EvTyping    = "typing"
	EvMedia     = "media_state"
	EvLeave     = "leave"
	EvRTCStats  = "rtc_stats"
	EvReport    = "report"
)

// Outbound event names (server -> client). Signal, chat, typing and media_state go both ways.
const (
	EvHello       = "hello"
	EvWaiting     = "waiting"
	EvMatchFound  = "match_found"
	EvPartnerLeft = "partner_left"
	EvOnline      = "online"
	EvError       = "error"
	EvToken       = "token"
	EvReported    = "reported"
	EvBanned      = "banned"
)

// Error codes of the error event (all of them are in ErrorCodes).
const (
	ErrBadJSON      = "bad_json"
	ErrUnknownEvent = "unknown_event"
	ErrBadRequest   = "bad_request"
	ErrNotMatched   = "not_matched"
	ErrRateLimited  = "rate_limited"
	ErrUnavailable  = "unavailable"
	ErrPowRequired  = "pow_required"
)

// Reasons of partner_left (all of them are in Reasons).
const (
	ReasonLeft         = "left"
	ReasonNext         = "next"
	ReasonDisconnected = "disconnected"
)

var (
	ErrorCodes = []string{ErrBadJSON, ErrUnknownEvent, ErrBadRequest, ErrNotMatched, ErrRateLimited, ErrUnavailable, ErrPowRequired}
	Reasons    = []string{ReasonLeft, ReasonNext, ReasonDisconnected}
)

// Close codes the server ends a socket with (RFC 6455 7.4; 4000-4999 are the application's).
// protocol.ts mirrors the two of this application, and a test holds them together.
const (
	ClosePolicy         = 1008 // sustained rate-limit violation, a send queue not read, a message too slow or too large for its address
	CloseTooBig         = 1009 // a frame over the connection's read limit
	CloseServiceRestart = 1012 // a draining instance: reconnect and resume elsewhere
	CloseReplaced       = 4001 // the identity was resumed on a newer connection: do not resume
	CloseBanned         = 4003 // the address is banned (a banned event said until when and why)
)

// Limits of the protocol.
const (
	MaxInterests     = 10
	MaxInterestLen   = 32 // characters
	MaxLanguages     = 3
	MaxChatLen       = 2000
	MaxSignalTypeLen = 32
	MaxRelayBytes    = 64 << 10 // a relayed message (signal, chat, typing, media_state); a report may be larger
)

// Languages are the languages a search may ask for (find_match.languages): BCP 47 primary
// tags, the web app's eight first. A fixed list, so that the queues and the metric labels
// they make are bounded.
var Languages = []string{"en", "es", "pt", "fr", "de", "ru", "hi", "ar", "it", "tr", "ja", "zh"}

// Wish is what a search asks for besides its mode, validated: interests (lower case, unique),
// languages (from Languages, unique, most preferred first), and whether only a stranger who
// shares a language will do (never without Languages).
type Wish struct {
	Interests    []string
	Languages    []string
	OnlyLanguage bool
}

// FallsBack says whether the search widens after the interest fallback: it has interests or
// languages to widen from, and the user did not ask for its languages only.
func (w Wish) FallsBack() bool {
	return (len(w.Interests) > 0 || len(w.Languages) > 0) && !w.OnlyLanguage
}

// Inbound is every client message before its data is decoded.
type Inbound struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// Outbound is every server message (and, in the load generator, every client message).
type Outbound[T any] struct {
	Event string `json:"event"`
	Data  T      `json:"data"`
}

// --- client -> server ---

// FindMatchRequest is find_match's data.
type FindMatchRequest struct {
	Interests []string `json:"interests,omitempty"`
	Mode      Mode     `json:"mode,omitempty"`
	// Languages the user speaks, most preferred first (at most MaxLanguages, from Languages):
	// a stranger who shares one is preferred; OnlyLanguage: never anyone else
	Languages    []string `json:"languages,omitempty"`
	OnlyLanguage bool     `json:"only_language,omitempty"`
	// Pow is the solution of hello.pow (base64 of the ALTCHA payload JSON), needed by a
	// connection's first find_match when the server asks for one
	Pow string `json:"pow,omitempty"`
}

// SignalRequest is signal's data. A target_id, which clients of the reference protocol send,
// is accepted and ignored (like any unknown field): a signal only ever reaches the sender's
// current partner.
type SignalRequest struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// ChatRequest is chat's data, both ways.
type ChatRequest struct {
	Text string `json:"text"`
}

// TypingRequest is typing's data, both ways.
type TypingRequest struct {
	Typing bool `json:"typing"`
}

// MediaStateRequest is media_state's data, both ways: whether the sender's camera and
// microphone are on, so that the partner's page can say "Camera off" or "Muted" instead of
// showing a black or silent tile. Both fields are required (internal/inbound checks).
type MediaStateRequest struct {
	Camera bool `json:"camera"`
	Mic    bool `json:"mic"`
}

// LeaveRequest is leave's data: an object, whose target_id is ignored like signal's.
type LeaveRequest struct{}

// RTCStatsRequest is rtc_stats's data: how the video call of the current match went, sent
// once per match by each side. Candidate is the local candidate type of the selected pair
// (host, srflx, relay, prflx), only when the call connected.
type RTCStatsRequest struct {
	Outcome   string `json:"outcome"` // connected | failed
	SetupMS   int64  `json:"setup_ms"`
	Candidate string `json:"candidate,omitempty"`
}

// Values of rtc_stats.
var (
	CallOutcomes   = []string{"connected", "failed"}
	CandidateTypes = []string{"host", "srflx", "relay", "prflx"}
)

// MaxSetupMS bounds rtc_stats.setup_ms (ten minutes).
const MaxSetupMS = 600_000

// ReportRequest is report's data: why the user reports its partner (or the partner it had in
// the last minute), and the evidence its browser holds.
type ReportRequest struct {
	Reason string     `json:"reason"`
	Note   string     `json:"note,omitempty"`
	Frame  string     `json:"frame,omitempty"` // data:image/jpeg;base64,...
	Chat   []ChatLine `json:"chat,omitempty"`
	// MatchID, when given, is the match the report is about: a report that would land on
	// another match (a new stranger arrived meanwhile) is refused with not_matched
	MatchID MatchID `json:"match_id,omitempty"`
}

// ChatLine is one line of a report's chat evidence, as the reporter saw it.
type ChatLine struct {
	From string `json:"from"` // you | stranger
	Text string `json:"text"`
}

// Report limits and values.
const (
	MaxReportNote       = 500       // characters
	MaxReportFrameBytes = 150 << 10 // the decoded JPEG
	MaxReportFrameWidth = 640       // pixels
	MaxReportChatLines  = 20
	ReportFramePrefix   = "data:image/jpeg;base64,"
)

var ReportReasons = []string{"nudity", "sexual", "harassment", "spam", "underage", "other"}

// --- server -> client ---

// ICEServer is one RTCIceServer as the browser takes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// MatchInfo describes a current match (in hello after a resume).
type MatchInfo struct {
	PartnerID       ClientID `json:"partner_id"`
	MatchID         MatchID  `json:"match_id"`
	Initiator       bool     `json:"initiator"`
	Mode            Mode     `json:"mode"`
	CommonInterests []string `json:"common_interests"`
	Language        string   `json:"language,omitempty"` // the language the two share ("": none)
}

type HelloData struct {
	ID          ClientID  `json:"id"`
	ResumeToken string    `json:"resume_token"`
	Online      int64     `json:"online"`
	Searching   Searching `json:"searching"`
	// ICEServers are the STUN servers; TURN too only after a resume into a match (TURN
	// credentials come with match_found otherwise)
	ICEServers []ICEServer   `json:"ice_servers"`
	Resumed    bool          `json:"resumed"`
	Match      *MatchInfo    `json:"match,omitempty"`
	Pow        *PowChallenge `json:"pow,omitempty"` // solve it before the first find_match
	// TURN says that the server has a TURN relay (its credentials still come with match_found
	// only), so that the page can offer, before Start, to hide the user's address behind it
	TURN bool `json:"turn,omitempty"`
	// AppealKey is this identity's secret for a ban made on it later, while the page is gone:
	// the page keeps it and claims the ban's appeal with it (POST /api/appeal/claim)
	AppealKey string `json:"appeal_key"`
}

// PowChallenge is a proof-of-work challenge in the ALTCHA format: find the number n in
// [0, maxnumber] with SHA-256(salt + n) = challenge (hex); signature is the server's.
type PowChallenge struct {
	Algorithm string `json:"algorithm"` // SHA-256
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// WaitingData answers a find_match that queued the user (and comes again when the waiting
// user is passed over later). Searching is how many users search in Mode, cluster-wide, the
// recipient included, as the server last counted (0: not known). MetRecently says that the
// only strangers the search found were met recently (REMATCH_COOLDOWN, or kept apart by a
// report): the user waits for someone new. Both are left out when 0 or false.
type WaitingData struct {
	Message     string   `json:"message"`
	Interests   []string `json:"interests"`
	Mode        Mode     `json:"mode"`
	Searching   int64    `json:"searching,omitempty"`
	MetRecently bool     `json:"met_recently,omitempty"`
}

// The messages of waiting: a search, and a search whose only strangers were met recently.
const (
	WaitingMessage    = "Looking for someone you can chat with..."
	WaitingForNewOnes = "Waiting for someone new..."
)

// NonNil is s, or an empty list for nil: a list the page reads is [] in JSON, never null.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type MatchFoundData struct {
	PartnerID       ClientID `json:"partner_id"`
	Initiator       bool     `json:"initiator"`
	MatchID         MatchID  `json:"match_id"`
	CommonInterests []string `json:"common_interests"`
	// Language is the first of the initiator's languages the two share ("": none)
	Language string `json:"language,omitempty"`
	Mode     Mode   `json:"mode"`
	// ICEServers, when the server has TURN, are all the ICE servers for this match's call with
	// a fresh TURN credential (hello has the STUN servers only: TURN needs the work done)
	ICEServers []ICEServer `json:"ice_servers,omitempty"`
}

type SignalData struct {
	SenderID ClientID        `json:"sender_id"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
}

// ChatData is chat's data as the server relays it: the text exactly as the sender wrote it
// in JSON (validated), so that no character is re-escaped into a longer form.
type ChatData struct {
	Text json.RawMessage `json:"text"`
}

type TypingData = TypingRequest

type MediaStateData = MediaStateRequest

type PartnerLeftData struct {
	From   ClientID `json:"from"`
	Reason string   `json:"reason"`
}

// TokenData replaces the client's resume token (after a Stop, the last one resumes nobody).
type TokenData struct {
	ResumeToken string `json:"resume_token"`
}

// ReportedData confirms a stored report.
type ReportedData struct {
	MatchID MatchID `json:"match_id"`
}

// BannedData tells a banned user until when, and why; the socket closes with 4003 after it.
// Appeal is the secret that lets the banned user see its own evidence and appeal
// (GET/POST /api/appeal): only in the banned user's own socket's frame, as the ban is made.
type BannedData struct {
	Until  string `json:"until"` // RFC 3339, UTC
	Reason string `json:"reason"`
	Appeal string `json:"appeal,omitempty"`
}

// MaxAppealText is the longest appeal a banned user may write (characters).
const MaxAppealText = 1000

// OnlineData is the cluster-wide number of connected users, and of those searching in each
// mode.
type OnlineData struct {
	Count     int64     `json:"count"`
	Searching Searching `json:"searching"`
}

// Searching counts the users searching for a partner, cluster-wide, by mode.
type Searching struct {
	Video int64 `json:"video"`
	Text  int64 `json:"text"`
}

// Of is the count of mode m.
func (s Searching) Of(m Mode) int64 {
	if m == ModeText {
		return s.Text
	}
	return s.Video
}

type ErrorData struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Pow     *PowChallenge `json:"pow,omitempty"` // with pow_required: a fresh challenge
}

// ErrorFrame is the error event with code and message, encoded.
func ErrorFrame(code, message string) []byte {
	return MustEncode(EvError, ErrorData{Code: code, Message: message})
}

// ServerEvents and ClientEvents name the data type of every event, for the test that holds
// web/src/protocol.ts to these types.
var (
	ServerEvents = map[string]any{
		EvHello: HelloData{}, EvWaiting: WaitingData{}, EvMatchFound: MatchFoundData{}, EvSignal: SignalData{},
		EvChat: ChatData{}, EvTyping: TypingData{}, EvMedia: MediaStateData{}, EvPartnerLeft: PartnerLeftData{}, EvOnline: OnlineData{},
		EvError: ErrorData{}, EvToken: TokenData{}, EvReported: ReportedData{}, EvBanned: BannedData{},
	}
	ClientEvents = map[string]any{
		EvFindMatch: FindMatchRequest{}, EvSignal: SignalRequest{}, EvChat: ChatRequest{}, EvTyping: TypingRequest{},
		EvMedia: MediaStateRequest{}, EvLeave: LeaveRequest{}, EvRTCStats: RTCStatsRequest{}, EvReport: ReportRequest{},
	}
)

// Encode marshals one message. It does not HTML-escape, so a relayed json.RawMessage leaves
// as long as it came (json.Marshal would turn each '<' into six bytes). The types above cannot
// fail to marshal except through an invalid json.RawMessage, which the server validates on the
// way in; the error is still returned, never dropped. The frames of every match (match_found,
// waiting, partner_left, token, error, signal) are appended by hand (appendFast), byte for byte
// what encoding/json writes (a fuzz test holds them to it); the others go through reflection.
func Encode[T any](event string, data T) ([]byte, error) {
	if b, ok := appendFast(nil, event, any(data)); ok {
		return b, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Outbound[T]{Event: event, Data: data}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// MustEncode is Encode for messages that hold no json.RawMessage: marshalling strings,
// numbers, booleans and slices of them cannot fail, so an error here is a programming error.
func MustEncode[T any](event string, data T) []byte {
	b, err := Encode(event, data)
	if err != nil {
		panic("encode " + event + ": " + err.Error())
	}
	return b
}

// SolvePow finds the number of a proof-of-work challenge and returns the payload find_match
// carries (what ALTCHA's widget sends): for clients that are programs, such as the load
// generator. ok is false when no number in range fits.
func SolvePow(c PowChallenge) (payload string, ok bool) {
	for n := int64(0); n <= c.MaxNumber; n++ {
		sum := sha256.Sum256([]byte(c.Salt + strconv.FormatInt(n, 10)))
		if hex.EncodeToString(sum[:]) == c.Challenge {
			b, err := json.Marshal(map[string]any{"algorithm": c.Algorithm, "challenge": c.Challenge, "number": n,
				"salt": c.Salt, "signature": c.Signature})
			if err != nil {
				return "", false
			}
			return base64.StdEncoding.EncodeToString(b), true
		}
	}
	return "", false
}
