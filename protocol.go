package main

import (
	"crypto/rand"
	"encoding/json"
)

// Distinct identifier types, so a match id can never be passed where a client id is meant.
type (
	ClientID   string
	InstanceID string
	MatchID    string
)

// newID returns 128 random bits from crypto/rand as 26 base32 characters: unguessable, and
// unique across instances without coordination.
func newID() string { return rand.Text() }

// validIDText says whether s may be used as an id inside Redis keys and channel names.
func validIDText(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

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
	EvLeave     = "leave"
)

// Outbound event names (server -> client).
const (
	EvHello       = "hello"
	EvWaiting     = "waiting"
	EvMatchFound  = "match_found"
	EvPartnerLeft = "partner_left"
	EvOnline      = "online"
	EvError       = "error"
)

// Error codes of the error event.
const (
	ErrBadJSON      = "bad_json"
	ErrUnknownEvent = "unknown_event"
	ErrBadRequest   = "bad_request"
	ErrNotMatched   = "not_matched"
	ErrRateLimited  = "rate_limited"
	ErrTooLarge     = "too_large"
	ErrUnavailable  = "unavailable"
)

// Reasons of partner_left.
const (
	ReasonLeft         = "left"
	ReasonNext         = "next"
	ReasonDisconnected = "disconnected"
)

// Protocol limits (DESIGN.md §2).
const (
	maxInterests      = 10
	maxInterestLen    = 32
	maxChatLen        = 2000
	maxSignalTypeLen  = 32
	defaultWaitingMsg = "Looking for someone you can chat with..."
)

// InboundEnvelope is every client message: {"event": "...", "data": {...}}.
type InboundEnvelope struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// FindMatchRequest is find_match's data.
type FindMatchRequest struct {
	Interests []string `json:"interests"`
	Mode      Mode     `json:"mode"`
}

// SignalRequest is signal's data. TargetID is accepted for compatibility and ignored: a
// signal only ever reaches the sender's current partner.
type SignalRequest struct {
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
	TargetID json.RawMessage `json:"target_id,omitempty"`
}

// ChatRequest is chat's data.
type ChatRequest struct {
	Text string `json:"text"`
}

// TypingRequest is typing's data.
type TypingRequest struct {
	Typing bool `json:"typing"`
}

// LeaveRequest is leave's data; TargetID is ignored like signal's.
type LeaveRequest struct {
	TargetID json.RawMessage `json:"target_id,omitempty"`
}

// Outbound is every server message.
type Outbound[T any] struct {
	Event string `json:"event"`
	Data  T      `json:"data"`
}

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
}

type HelloData struct {
	ID          ClientID    `json:"id"`
	ResumeToken string      `json:"resume_token"`
	Online      int64       `json:"online"`
	ICEServers  []ICEServer `json:"ice_servers"`
	Resumed     bool        `json:"resumed"`
	Match       *MatchInfo  `json:"match,omitempty"`
}

type WaitingData struct {
	Message   string   `json:"message"`
	Interests []string `json:"interests"`
	Mode      Mode     `json:"mode"`
}

type MatchFoundData struct {
	PartnerID       ClientID `json:"partner_id"`
	Initiator       bool     `json:"initiator"`
	MatchID         MatchID  `json:"match_id"`
	CommonInterests []string `json:"common_interests"`
	Mode            Mode     `json:"mode"`
}

type SignalData struct {
	SenderID ClientID        `json:"sender_id"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
}

type ChatData struct {
	Text string `json:"text"`
}

type TypingData struct {
	Typing bool `json:"typing"`
}

type PartnerLeftData struct {
	From   ClientID `json:"from"`
	Reason string   `json:"reason"`
}

type OnlineData struct {
	Count int64 `json:"count"`
}

type ErrorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// encode marshals a typed server message. The types above cannot fail to marshal except for
// an invalid json.RawMessage, which the read path has already validated; the error is still
// returned, never dropped.
func encode[T any](event string, data T) ([]byte, error) {
	return json.Marshal(Outbound[T]{Event: event, Data: data})
}

// mustEncode is encode for server messages that hold no json.RawMessage: marshalling strings,
// numbers, booleans and slices of them cannot fail, so an error here is a programming error.
func mustEncode[T any](event string, data T) []byte {
	b, err := encode(event, data)
	if err != nil {
		panic("encode " + event + ": " + err.Error())
	}
	return b
}
