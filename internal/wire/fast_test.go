package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

// slowEncode is Encode without the fast path: what encoding/json writes.
func slowEncode[T any](t testing.TB, event string, data T) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Outbound[T]{Event: event, Data: data}); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func same[T any](t *testing.T, event string, data T) {
	t.Helper()
	fast, err := Encode(event, data)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	if slow := slowEncode(t, event, data); !bytes.Equal(fast, slow) {
		t.Fatalf("%s:\nfast %s\nslow %s", event, fast, slow)
	}
}

var awkward = []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r\b\f\x00\x1f\x7f", "<html> & 'amp'",
	"naïve café 日本語 🎉", "\u2028\u2029", "bad \xff\xfe utf8", "\xed\xa0\x80 surrogate"}

func TestFastEncodingIsEncodingJSON(t *testing.T) {
	for _, s := range awkward {
		same(t, EvMatchFound, MatchFoundData{PartnerID: ClientID(s), Initiator: true, MatchID: MatchID(s), CommonInterests: []string{s, "x"}, Mode: Mode(s)})
		same(t, EvMatchFound, MatchFoundData{CommonInterests: []string{}})
		same(t, EvMatchFound, MatchFoundData{CommonInterests: []string{s}, Language: s})
		same(t, EvMatchFound, MatchFoundData{})
		same(t, EvMatchFound, MatchFoundData{ICEServers: []ICEServer{{URLs: []string{s}}, {URLs: []string{s, "turn:t"}, Username: s, Credential: s}, {}}})
		same(t, EvMatchFound, MatchFoundData{ICEServers: []ICEServer{}})
		same(t, EvWaiting, WaitingData{Message: s, Interests: []string{s}, Mode: ModeText})
		same(t, EvWaiting, WaitingData{Interests: nil})
		same(t, EvWaiting, WaitingData{Message: s, Mode: ModeVideo, Searching: 12, MetRecently: true})
		same(t, EvWaiting, WaitingData{Message: s, Searching: -1})
		same(t, EvPartnerLeft, PartnerLeftData{From: ClientID(s), Reason: s})
		same(t, EvToken, TokenData{ResumeToken: s})
		same(t, EvError, ErrorData{Code: s, Message: s})
		same(t, EvError, ErrorData{Code: "pow_required", Pow: &PowChallenge{Salt: s}})
		same(t, EvTyping, TypingData{Typing: s == ""})
		same(t, s, TokenData{})
	}
	for _, payload := range []string{`{"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n","type":"offer"}`, `{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}`,
		`[1,2.5e3,true,null,"x"]`, `"\u2028"`, "\"\u2028\"", `{ "spaced" : 1 }`, "\"\xff\"", `"<&>"`, `{"a":{"b":[{}]}}`} {
		same(t, EvSignal, SignalData{SenderID: "S", Type: "offer", Payload: json.RawMessage(payload)})
	}
}

func FuzzFastEncoding(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, `{"x":1}`)
	}
	f.Fuzz(func(t *testing.T, s, payload string) {
		same(t, EvMatchFound, MatchFoundData{PartnerID: ClientID(s), MatchID: "M", CommonInterests: []string{s}, Mode: ModeVideo,
			ICEServers: []ICEServer{{URLs: []string{"stun:s"}}, {URLs: []string{s}, Username: s, Credential: "c"}}})
		same(t, EvWaiting, WaitingData{Message: s, Interests: []string{s, s}, Mode: Mode(s), Searching: int64(len(s)), MetRecently: len(s)%2 == 1})
		same(t, EvPartnerLeft, PartnerLeftData{From: "F", Reason: s})
		if json.Valid([]byte(payload)) {
			same(t, EvSignal, SignalData{SenderID: ClientID(s), Type: s, Payload: json.RawMessage(payload)})
		}
	})
}
