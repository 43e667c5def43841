package wire

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendFast appends the frame {"event":...,"data":...} for the data types of every match
// without reflection, exactly as Encode's json.Encoder (no HTML escaping) writes it; ok is
// false for any other type, or a json.RawMessage that is not compact valid JSON (Encode then
// takes the long way, which compacts it or reports the error).
func appendFast(b []byte, event string, data any) ([]byte, bool) {
	b = append(b, `{"event":`...)
	b = appendString(b, event)
	b = append(b, `,"data":`...)
	switch d := data.(type) {
	case MatchFoundData:
		b = append(b, `{"partner_id":`...)
		b = appendString(b, string(d.PartnerID))
		b = append(b, `,"initiator":`...)
		b = strconv.AppendBool(b, d.Initiator)
		b = append(b, `,"match_id":`...)
		b = appendString(b, string(d.MatchID))
		b = append(b, `,"common_interests":`...)
		b = appendStrings(b, d.CommonInterests)
		if d.Language != "" {
			b = append(b, `,"language":`...)
			b = appendString(b, d.Language)
		}
		b = append(b, `,"mode":`...)
		b = appendString(b, string(d.Mode))
		if len(d.ICEServers) > 0 {
			b = append(b, `,"ice_servers":`...)
			b = appendICEServers(b, d.ICEServers)
		}
	case WaitingData:
		b = append(b, `{"message":`...)
		b = appendString(b, d.Message)
		b = append(b, `,"interests":`...)
		b = appendStrings(b, d.Interests)
		b = append(b, `,"mode":`...)
		b = appendString(b, string(d.Mode))
		if d.Searching != 0 {
			b = append(b, `,"searching":`...)
			b = strconv.AppendInt(b, d.Searching, 10)
		}
		if d.MetRecently {
			b = append(b, `,"met_recently":true`...)
		}
	case PartnerLeftData:
		b = append(b, `{"from":`...)
		b = appendString(b, string(d.From))
		b = append(b, `,"reason":`...)
		b = appendString(b, d.Reason)
	case TokenData:
		b = append(b, `{"resume_token":`...)
		b = appendString(b, d.ResumeToken)
	case ErrorData:
		if d.Pow != nil {
			return nil, false
		}
		b = append(b, `{"code":`...)
		b = appendString(b, d.Code)
		b = append(b, `,"message":`...)
		b = appendString(b, d.Message)
	case SignalData:
		if !compactJSON(d.Payload) {
			return nil, false
		}
		b = append(b, `{"sender_id":`...)
		b = appendString(b, string(d.SenderID))
		b = append(b, `,"type":`...)
		b = appendString(b, d.Type)
		b = append(b, `,"payload":`...)
		b = append(b, d.Payload...)
	case TypingData:
		b = append(b, `{"typing":`...)
		b = strconv.AppendBool(b, d.Typing)
	default:
		return nil, false
	}
	return append(b, "}}"...), true
}

// appendStrings appends a JSON array of strings (null for a nil slice, as encoding/json).
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendICEServers appends a non-empty list of ICE servers (username and credential omitted
// when empty, as their tags say).
func appendICEServers(b []byte, servers []ICEServer) []byte {
	b = append(b, '[')
	for i, s := range servers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"urls":`...)
		b = appendStrings(b, s.URLs)
		if s.Username != "" {
			b = append(b, `,"username":`...)
			b = appendString(b, s.Username)
		}
		if s.Credential != "" {
			b = append(b, `,"credential":`...)
			b = appendString(b, s.Credential)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does without HTML escaping:
// \\ and \" escaped, \b \f \n \r \t short, other control characters as \u00XX, invalid UTF-8
// as \ufffd, U+2028 and U+2029 as \u2028 and \u2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// compactJSON says whether raw is valid JSON that encoding/json would copy as it is: no
// whitespace to compact away outside strings, and nothing it would escape inside them (it
// rewrites U+2028 and U+2029, and invalid UTF-8, in a RawMessage too).
func compactJSON(raw json.RawMessage) bool {
	if len(raw) == 0 || !json.Valid(raw) {
		return false
	}
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString && c == '\\':
			i++ // the escaped byte
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				return false
			}
			i += size - 1
		}
	}
	return true
}
