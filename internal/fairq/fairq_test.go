package fairq

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The publish queue's fair share, without Redis: a flooder fills it, a bystander's messages
// still get in (the flooder's newest make room) and go out first in the next batch; each
// sender's messages keep their order; the flooder's own messages are refused once it holds
// the most.
func TestPublishQueueIsFair(t *testing.T) {
	dropped := 0
	q := New(10, 1<<20, func(n int) { dropped += n })
	msg := func(s string) Message { return Message{Channel: "c", Payload: []byte(s)} }
	for i := range 10 {
		if !q.Push("flooder", msg(fmt.Sprint("flood ", i))) {
			t.Fatalf("flood %d refused with room left", i)
		}
	}
	if q.Push("flooder", msg("flood 10")) {
		t.Fatal("the flooder, holding the whole queue, got one more in")
	}
	for i := range 3 {
		if !q.Push("bystander", msg(fmt.Sprint("chat ", i))) {
			t.Fatalf("the bystander's chat %d was refused", i)
		}
	}
	if dropped != 4 { // flood 10, and flood 9, 8, 7 to make room
		t.Fatalf("%d dropped, want 4", dropped)
	}
	var got []string
	for _, o := range q.Take(8, nil) {
		got = append(got, string(o.Payload))
	}
	want := []string{"flood 0", "chat 0", "flood 1", "chat 1", "flood 2", "chat 2", "flood 3", "flood 4"}
	if !slices.Equal(got, want) {
		t.Fatalf("first batch %q, want %q (one of each sender in turn, each in order)", got, want)
	}
	q.Done(len(strings.Join(got, "")))
	if rest := q.Take(8, nil); len(rest) != 2 || string(rest[1].Payload) != "flood 6" {
		t.Fatalf("the rest: %d messages", len(rest))
	}
	// bytes, too: a sender alone over the byte bound is refused, a light one gets in
	q = New(1000, 100, func(int) {})
	if !q.Push("flooder", Message{Payload: make([]byte, 90)}) || q.Push("flooder", Message{Payload: make([]byte, 20)}) {
		t.Fatal("the byte bound does not hold for the heaviest sender")
	}
	if !q.Push("bystander", Message{Payload: make([]byte, 20)}) {
		t.Fatal("a light sender was refused while a heavy one held the queue")
	}
}

// BenchmarkPublishQueue is one message through the fair publish queue: pushed by one of 16
// senders, taken in a batch by the publisher.
func BenchmarkPublishQueue(b *testing.B) {
	q := New(8192, 32<<20, func(int) {})
	o := Message{Channel: "signals:{b}", Payload: make([]byte, 200)}
	senders := make([]string, 16)
	for i := range senders {
		senders[i] = fmt.Sprint("sender-", i)
	}
	batch := make([]Message, 0, 256)
	b.ReportAllocs()
	for i := range b.N {
		q.Push(senders[i%len(senders)], o)
		if i%64 == 63 {
			batch = q.Take(256, batch[:0])
			q.Done(len(batch) * len(o.Payload))
		}
	}
}

// The queues inside the publish queue keep their order through reuse and compaction.
func TestFIFOKeepsOrder(t *testing.T) {
	var f fifo[int]
	next, want := 0, 0
	for round := range 50 {
		for range round%7 + 3 {
			f.push(next)
			next++
		}
		for range round%5 + 1 {
			if f.len() == 0 {
				break
			}
			if got := f.pop(); got != want {
				t.Fatalf("popped %d, want %d", got, want)
			}
			want++
		}
	}
	if f.len() > 0 {
		if got := f.popBack(); got != next-1 {
			t.Fatalf("popBack %d, want %d", got, next-1)
		}
		next--
	}
	for f.len() > 0 {
		if got := f.pop(); got != want {
			t.Fatalf("popped %d, want %d", got, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("%d of %d came out", want, next)
	}
}
