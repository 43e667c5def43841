package inbound

import (
	"encoding/json"
	"testing"

	"github.com/go-megle/go-megle/internal/wire"
)

// relayGrowth is the most a relayed frame may exceed the message it came in: the envelope
// around the data, and the sender's id.
const relayGrowth = 96

// FuzzSplitEnvelope holds the envelope's fast path to json.Unmarshal: whatever it takes, it
// reads as json.Unmarshal does.
func FuzzSplitEnvelope(f *testing.F) {
	for _, seed := range []string{`{"event":"leave"}`, `{"event":"leave","data":{}}`, `{"event":"find_match","data":{"mode":"video"}}`,
		`{"event":"signal","data":{"type":"offer","payload":{"sdp":"v=0"}}}`, `{"event":"x","data":null}`, `{"event":"x","data":1}`,
		`{"event":"x","data": {}}`, `{"event":"a\"b","data":{}}`, `{"event":"x","data":{}}}`, `{"event":"x","data":{"a":}`,
		`{"event":"x","data":"s"}`, `{"event":"x","data":{} }`, `{"event":"x","data":[1,2]}`, `{"event":"é","data":{}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := SplitEnvelope(b)
		if !ok {
			return
		}
		var slow wire.Inbound
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("the fast path took %q, which json.Unmarshal refuses: %v", b, err)
		}
		if fast.Event != slow.Event || string(fast.Data) != string(slow.Data) {
			t.Fatalf("%q: fast %q %q, slow %q %q", b, fast.Event, fast.Data, slow.Event, slow.Data)
		}
	})
}
