package main

import (
	"encoding/json"
	"strconv"
)

// Event names of the wire protocol (DESIGN.md §2).
const (
	evHello       = "hello"
	evWaiting     = "waiting"
	evMatchFound  = "match_found"
	evSignal      = "signal"
	evChat        = "chat"
	evTyping      = "typing"
	evPartnerLeft = "partner_left"
	evOnline      = "online"
	evError       = "error"
	evFindMatch   = "find_match"
	evLeave       = "leave"
)

// Signal types the relay load uses.
const (
	sigOffer  = "offer"
	sigAnswer = "answer"
)

// inEnvelope is any server→client message; Data is decoded by event.
type inEnvelope struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// outEnvelope is any client→server message.
type outEnvelope[T any] struct {
	Event string `json:"event"`
	Data  T      `json:"data"`
}

type helloData struct {
	ID          string          `json:"id"`
	ResumeToken string          `json:"resume_token"`
	Online      int             `json:"online"`
	ICEServers  json.RawMessage `json:"ice_servers"`
	Resumed     bool            `json:"resumed"`
}

type matchFoundData struct {
	PartnerID       string   `json:"partner_id"`
	Initiator       bool     `json:"initiator"`
	MatchID         string   `json:"match_id"`
	CommonInterests []string `json:"common_interests"`
	Mode            string   `json:"mode"`
}

type signalInData struct {
	SenderID string          `json:"sender_id"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
}

// relaySignalData is a signal of the relay load, decoded in one pass.
type relaySignalData struct {
	SenderID string       `json:"sender_id"`
	Type     string       `json:"type"`
	Payload  relayPayload `json:"payload"`
}

type partnerLeftData struct {
	From   string `json:"from"`
	Reason string `json:"reason"`
}

type errorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type findMatchData struct {
	Interests []string `json:"interests,omitempty"`
	Mode      string   `json:"mode,omitempty"`
}

type leaveData struct{}

// relayPayload is the payload of the relay load's offers and answers. Seq is unique per
// sender; From and Match tie a signal to the pair that sent it, so a signal that reaches the
// wrong client is recognised even when its sender_id looks right.
type relayPayload struct {
	Seq   uint64 `json:"seq"`
	From  string `json:"from,omitempty"`
	Match string `json:"match,omitempty"`
}

// encodeFindMatch builds a find_match frame once; it is the same for every client.
func encodeFindMatch(mode string, interests []string) ([]byte, error) {
	return json.Marshal(outEnvelope[findMatchData]{Event: evFindMatch, Data: findMatchData{Interests: interests, Mode: mode}})
}

func encodeLeave() ([]byte, error) {
	return json.Marshal(outEnvelope[leaveData]{Event: evLeave})
}

// signalEncoder appends offer and answer frames without reflection: the relay path is the
// load generator's hot loop and shares the CPU with the server under test. The strings it
// embeds are JSON-quoted once, when the pair is formed.
type signalEncoder struct {
	fromJSON  []byte // JSON string of the sender's id
	matchJSON []byte // JSON string of the match id
}

func newSignalEncoder(from, match string) (signalEncoder, error) {
	f, err := json.Marshal(from)
	if err != nil {
		return signalEncoder{}, err
	}
	m, err := json.Marshal(match)
	if err != nil {
		return signalEncoder{}, err
	}
	return signalEncoder{fromJSON: f, matchJSON: m}, nil
}

// appendSignal appends {"event":"signal","data":{"type":<typ>,"payload":{"seq":N,"from":..,"match":..}}}.
// typ is one of the constants above and needs no escaping.
func (e signalEncoder) appendSignal(dst []byte, typ string, seq uint64, withFrom bool) []byte {
	dst = append(dst, `{"event":"signal","data":{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","payload":{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	if withFrom {
		dst = append(dst, `,"from":`...)
		dst = append(dst, e.fromJSON...)
	}
	dst = append(dst, `,"match":`...)
	dst = append(dst, e.matchJSON...)
	dst = append(dst, `}}}`...)
	return dst
}
