package poll

import (
	"bufio"
	"bytes"
	"testing"
)

// TakePong takes exactly one whole masked pong at the front of the buffer and nothing else.
func TestTakePong(t *testing.T) {
	pong := []byte{0x8a, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}
	text := []byte{0x81, 0x81, 0, 0, 0, 0, 'x'}
	for _, tc := range []struct {
		name  string
		in    []byte
		taken bool
		left  int
	}{
		{"a pong then a message", append(append([]byte{}, pong...), text...), true, len(text)},
		{"a message", text, false, len(text)},
		{"a pong in part", pong[:5], false, 5},
		{"an unmasked pong", []byte{0x8a, 0x00}, false, 2},
		{"a ping", []byte{0x89, 0x80, 0, 0, 0, 0}, false, 6},
		{"a fragmented pong", []byte{0x0a, 0x80, 0, 0, 0, 0}, false, 6},
		{"one byte", []byte{0x8a}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(bytes.NewReader(tc.in), 64)
			if _, err := br.Peek(len(tc.in)); err != nil {
				t.Fatal(err)
			}
			if got := TakePong(br); got != tc.taken {
				t.Fatalf("TakePong = %v, want %v", got, tc.taken)
			}
			if br.Buffered() != tc.left {
				t.Fatalf("%d bytes left, want %d", br.Buffered(), tc.left)
			}
		})
	}
}
