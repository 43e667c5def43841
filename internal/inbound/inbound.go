package inbound

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-megle/go-megle/internal/session"
	"github.com/go-megle/go-megle/internal/wire"
)

// Client messages on their way in: decoded and validated here, then handed to the hub for
// the sender's session. Nothing invalid gets further than this file.

// Inbound is what a connection hands each valid message to (the hub).
type Inbound interface {
	FindMatch(s *session.Session, mode wire.Mode, wish wire.Wish, pow string)
	Relay(s *session.Session, event string, frame []byte)
	Leave(s *session.Session)
	CallStats(s *session.Session, stats wire.RTCStatsRequest)
	Report(s *session.Session, r wire.ReportRequest)
	Disconnect(s *session.Session, hold bool)
}

// request is one decoded, valid client message.
type request struct {
	Event  string
	mode   wire.Mode // find_match
	wish   wire.Wish // find_match
	pow    string    // find_match
	Frame  []byte    // signal, chat, typing, media_state: the frame for the partner
	stats  wire.RTCStatsRequest
	Report wire.ReportRequest
}

// dispatch hands the request on for session s.
func (r request) dispatch(to Inbound, s *session.Session) {
	switch r.Event {
	case wire.EvFindMatch:
		to.FindMatch(s, r.mode, r.wish, r.pow)
	case wire.EvLeave:
		to.Leave(s)
	case wire.EvRTCStats:
		to.CallStats(s, r.stats)
	case wire.EvReport:
		to.Report(s, r.Report)
	default:
		to.Relay(s, r.Event, r.Frame)
	}
}

func problem(code, message string) *wire.ErrorData {
	return &wire.ErrorData{Code: code, Message: message}
}

// receive handles one text frame from the user of session s: a valid message that allow
// (nil: any) lets through goes on to the hub, anything else is answered with an error event.
func Receive(to Inbound, s *session.Session, data []byte, allow func(event string) bool) {
	req, bad := Decode(s.ID, data)
	switch {
	case bad != nil:
		s.Out.Send(wire.ErrorFrame(bad.Code, bad.Message))
	case allow != nil && !allow(req.Event):
		s.Out.Send(wire.ErrorFrame(wire.ErrRateLimited, req.Event+": too many; slow down"))
	default:
		req.dispatch(to, s)
	}
}

// decode parses and validates one client message from id, or says what is wrong with it:
// bad input gets an error event and the connection stays usable.
func Decode(id wire.ClientID, data []byte) (request, *wire.ErrorData) {
	if !utf8.Valid(data) {
		return request{}, problem(wire.ErrBadJSON, "message is not valid UTF-8")
	}
	in, ok := SplitEnvelope(data)
	if !ok {
		if err := json.Unmarshal(data, &in); err != nil {
			return request{}, problem(wire.ErrBadJSON, "message is not a JSON object {\"event\": ..., \"data\": {...}}")
		}
	}
	body := in.Data
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		body = []byte("{}")
	}
	req := request{Event: in.Event}
	if relayed := in.Event == wire.EvSignal || in.Event == wire.EvChat || in.Event == wire.EvTyping || in.Event == wire.EvMedia; relayed && len(data) > wire.MaxRelayBytes {
		return req, problem(wire.ErrBadRequest, in.Event+" is larger than a relayed message may be (64 KiB)")
	}
	switch in.Event {
	case wire.EvFindMatch:
		var r wire.FindMatchRequest
		if err := json.Unmarshal(body, &r); err != nil {
			return req, problem(wire.ErrBadRequest, "find_match data must be {interests?: [string], mode?: \"video\"|\"text\", languages?: [string], only_language?: boolean}")
		}
		var bad string
		req.pow = r.Pow
		if req.mode, req.wish, bad = validateFindMatch(r); bad != "" {
			return req, problem(wire.ErrBadRequest, bad)
		}
	case wire.EvSignal:
		var r wire.SignalRequest
		if err := json.Unmarshal(body, &r); err != nil {
			return req, problem(wire.ErrBadRequest, "signal data must be {type: string, payload: any}")
		}
		if r.Type == "" || len(r.Type) > wire.MaxSignalTypeLen || len(r.Payload) == 0 {
			return req, problem(wire.ErrBadRequest, "signal needs a type (1-32 characters) and a payload")
		}
		frame, err := wire.Encode(wire.EvSignal, wire.SignalData{SenderID: id, Type: r.Type, Payload: r.Payload})
		if err != nil {
			return req, problem(wire.ErrBadRequest, "signal payload is not valid JSON")
		}
		req.Frame = frame
	case wire.EvChat:
		var r wire.ChatRequest
		var raw wire.ChatData // the same text as it was written, relayed without re-escaping
		if json.Unmarshal(body, &r) != nil || json.Unmarshal(body, &raw) != nil {
			return req, problem(wire.ErrBadRequest, "chat data must be {text: string}")
		}
		if n := utf8.RuneCountInString(r.Text); n == 0 || n > wire.MaxChatLen || strings.TrimSpace(r.Text) == "" {
			return req, problem(wire.ErrBadRequest, "chat text must be 1-2000 characters and not blank")
		}
		frame, err := wire.Encode(wire.EvChat, raw)
		if err != nil {
			return req, problem(wire.ErrBadRequest, "chat text is not valid JSON")
		}
		req.Frame = frame
	case wire.EvTyping:
		var r wire.TypingRequest
		if err := json.Unmarshal(body, &r); err != nil {
			return req, problem(wire.ErrBadRequest, "typing data must be {typing: bool}")
		}
		req.Frame = wire.MustEncode(wire.EvTyping, wire.TypingData(r))
	case wire.EvMedia:
		// both fields, as booleans: a missing one would read as "off" on the partner's screen
		var r struct{ Camera, Mic *bool }
		if err := json.Unmarshal(body, &r); err != nil || r.Camera == nil || r.Mic == nil {
			return req, problem(wire.ErrBadRequest, "media_state data must be {camera: bool, mic: bool}")
		}
		req.Frame = wire.MustEncode(wire.EvMedia, wire.MediaStateData{Camera: *r.Camera, Mic: *r.Mic})
	case wire.EvLeave:
		var r wire.LeaveRequest
		if body[0] != '{' || !ok { // a valid object (splitEnvelope checked it) is all leave needs
			if err := json.Unmarshal(body, &r); err != nil {
				return req, problem(wire.ErrBadRequest, "leave data must be an object")
			}
		}
	case wire.EvRTCStats:
		r := &req.stats
		if err := json.Unmarshal(body, r); err != nil || !slices.Contains(wire.CallOutcomes, r.Outcome) ||
			r.SetupMS < 0 || r.SetupMS > wire.MaxSetupMS || r.Candidate != "" && !slices.Contains(wire.CandidateTypes, r.Candidate) {
			return req, problem(wire.ErrBadRequest, "rtc_stats data must be {outcome: \"connected\"|\"failed\", setup_ms: 0-600000, candidate?: \"host\"|\"srflx\"|\"relay\"|\"prflx\"}")
		}
	case wire.EvReport:
		if err := json.Unmarshal(body, &req.Report); err != nil {
			return req, problem(wire.ErrBadRequest, "report data must be {reason, note?, frame?, chat?}")
		}
		if bad := validateReport(&req.Report); bad != "" {
			return req, problem(wire.ErrBadRequest, bad)
		}
	default:
		return req, problem(wire.ErrUnknownEvent, "unknown event; expected find_match, signal, chat, typing, media_state, leave, rtc_stats or report")
	}
	return req, nil
}

// splitEnvelope reads the envelope in the form every client sends it, {"event":"<name>"} or
// {"event":"<name>","data":<JSON value>} with nothing in between, without reflection; ok is
// false for any other form (then json.Unmarshal decides, as for everything else). In that
// form the result is what json.Unmarshal gives: the name has no escapes or control
// characters, and data is checked to be one valid JSON value.
func SplitEnvelope(b []byte) (in wire.Inbound, ok bool) {
	rest, found := bytes.CutPrefix(b, []byte(`{"event":"`))
	if !found {
		return in, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return in, false
	}
	for _, c := range rest[:end] {
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return in, false
		}
	}
	in.Event, rest = string(rest[:end]), rest[end+1:]
	if len(rest) == 1 && rest[0] == '}' {
		return in, true
	}
	data, found := bytes.CutPrefix(rest, []byte(`,"data":`))
	if !found || len(data) < 2 || data[len(data)-1] != '}' {
		return in, false
	}
	data = data[:len(data)-1]
	if isJSONSpace(data[0]) || isJSONSpace(data[len(data)-1]) || !json.Valid(data) {
		return in, false // json.Unmarshal would leave the spaces out
	}
	in.Data = data
	return in, true
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// validateFindMatch normalises a find_match request or says what is wrong with it.
func validateFindMatch(r wire.FindMatchRequest) (wire.Mode, wire.Wish, string) {
	mode := r.Mode
	if mode == "" {
		mode = wire.ModeVideo
	}
	if mode != wire.ModeVideo && mode != wire.ModeText {
		return "", wire.Wish{}, "mode must be \"video\" or \"text\""
	}
	if len(r.Interests) > wire.MaxInterests {
		return "", wire.Wish{}, "at most 10 interests"
	}
	var out []string
	seen := map[string]bool{}
	for _, raw := range r.Interests {
		i := strings.ToLower(strings.Join(strings.Fields(raw), " "))
		if n := utf8.RuneCountInString(i); n == 0 || n > wire.MaxInterestLen {
			return "", wire.Wish{}, "each interest must be 1-32 characters"
		}
		if strings.IndexFunc(i, unicode.IsControl) >= 0 {
			return "", wire.Wish{}, "interests must not contain control characters"
		}
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	langs, bad := validateLanguages(r)
	if bad != "" {
		return "", wire.Wish{}, bad
	}
	return mode, wire.Wish{Interests: out, Languages: langs, OnlyLanguage: r.OnlyLanguage}, ""
}

// validateLanguages checks find_match's languages: at most wire.MaxLanguages of the server's
// list (a tag it does not know is refused, not dropped: the user would wait for nobody), and
// only_language only with some. Repeats are dropped, the order kept.
func validateLanguages(r wire.FindMatchRequest) ([]string, string) {
	if len(r.Languages) > wire.MaxLanguages {
		return nil, "at most 3 languages"
	}
	if r.OnlyLanguage && len(r.Languages) == 0 {
		return nil, "only_language needs languages"
	}
	var out []string
	for _, l := range r.Languages {
		if !slices.Contains(wire.Languages, l) {
			return nil, "unknown language; known: " + strings.Join(wire.Languages, " ")
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, ""
}
