package main

import (
	"encoding/json"
	"strconv"

	"github.com/go-megle/go-megle/internal/wire"
)

// Signal types the relay load uses.
const (
	sigOffer  = "offer"
	sigAnswer = "answer"
)

// relaySignalData is a signal of the relay load, decoded in one pass.
type relaySignalData struct {
	SenderID wire.ClientID `json:"sender_id"`
	Type     string        `json:"type"`
	Payload  relayPayload  `json:"payload"`
}

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
	return json.Marshal(wire.Outbound[wire.FindMatchRequest]{Event: wire.EvFindMatch, Data: wire.FindMatchRequest{Interests: interests, Mode: wire.Mode(mode)}})
}

func encodeLeave() ([]byte, error) {
	return json.Marshal(wire.Outbound[wire.LeaveRequest]{Event: wire.EvLeave})
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
