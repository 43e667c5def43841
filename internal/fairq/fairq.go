package fairq

import (
	"container/heap"
	"sync"
)

// Queue is what the bus has yet to publish, bounded in messages and in bytes, and
// shared fairly between senders: a sender is a client address (its keyed hash) or the
// instance itself (""). The publisher takes one message of each sender in turn, so a sender
// with a backlog delays only itself; and when a message does not fit, the newest message of
// the sender that holds the most bytes is dropped to make room, or the new one when its own
// sender holds the most. So an address that floods the bus loses its own messages, never
// another's (issue 21: 95 sockets of one address bursting typing cost a bystander 2 of 402
// chats).
//
// Each sender's messages keep their order: a match notice, then the relays that follow it.
type Queue struct {
	maxCount, maxBytes int

	mu        sync.Mutex
	senders   map[string]*senderQueue // senders with something queued
	turns     fifo[*senderQueue]      // senders in the order the publisher serves them; may hold emptied ones
	heaviest  senderHeap              // senders by bytes queued, the most first
	count     int                     // messages queued
	bytes     int                     // bytes queued, and taken by the publisher and not yet published
	ready     chan struct{}           // something was queued (one signal is enough)
	onDropped func(n int)             // messages dropped to make room, or refused
	free      []*senderQueue          // emptied queues, kept with their arrays: a message costs no allocation
}

// Message is one message for the publisher: its payload, for the channel.
type Message struct {
	Channel string
	Payload []byte
}

type senderQueue struct {
	key    string
	msgs   fifo[Message]
	bytes  int
	index  int  // in heaviest
	inTurn bool // in turns
}

// fifo is a queue in a slice that is reused once it has been emptied (and compacted when
// what was taken from its front is most of it), so that a steady flow allocates nothing.
type fifo[T any] struct {
	items []T
	head  int
}

func (f *fifo[T]) len() int { return len(f.items) - f.head }

func (f *fifo[T]) push(v T) { f.items = append(f.items, v) }

func (f *fifo[T]) pop() T {
	var zero T
	v := f.items[f.head]
	f.items[f.head] = zero
	f.head++
	switch {
	case f.head == len(f.items):
		f.items, f.head = f.items[:0], 0
	case f.head >= 64 && 2*f.head >= len(f.items):
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items, f.head = f.items[:n], 0
	}
	return v
}

// popBack takes the newest item.
func (f *fifo[T]) popBack() T {
	var zero T
	v := f.items[len(f.items)-1]
	f.items[len(f.items)-1] = zero
	f.items = f.items[:len(f.items)-1]
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	}
	return v
}

// New makes a queue of at most maxCount messages and maxBytes bytes; onDropped counts what it
// drops.
func New(maxCount, maxBytes int, onDropped func(int)) *Queue {
	return &Queue{maxCount: maxCount, maxBytes: maxBytes, senders: map[string]*senderQueue{},
		ready: make(chan struct{}, 1), onDropped: onDropped}
}

// Ready is signalled when something was queued (one signal for any number of messages).
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Push queues o for sender, making room as above; false when o itself is dropped.
func (q *Queue) Push(sender string, o Message) bool {
	n := len(o.Payload)
	dropped := 0
	defer func() {
		if dropped > 0 {
			q.onDropped(dropped)
		}
	}()
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.senders[sender]
	held := 0
	if s != nil {
		held = s.bytes
	}
	for q.count+1 > q.maxCount || q.bytes+n > q.maxBytes {
		if len(q.heaviest) == 0 || q.heaviest[0] == s || q.heaviest[0].bytes <= held+n {
			dropped++ // nothing queued to make room with (all in flight), or the sender is the heaviest
			return false
		}
		q.dropNewest(q.heaviest[0])
		dropped++
	}
	if s == nil {
		s = q.newSender(sender)
		q.senders[sender] = s
		heap.Push(&q.heaviest, s)
	}
	s.msgs.push(o)
	s.bytes += n
	heap.Fix(&q.heaviest, s.index)
	q.count++
	q.bytes += n
	if !s.inTurn {
		s.inTurn = true
		q.turns.push(s)
	}
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// dropNewest drops the newest message of s. Called with mu held.
func (q *Queue) dropNewest(s *senderQueue) {
	n := len(s.msgs.popBack().Payload)
	q.took(s, n)
	q.bytes -= n
}

// took accounts for a message that left s's queue. Called with mu held.
func (q *Queue) took(s *senderQueue, n int) {
	s.bytes -= n
	q.count--
	if s.msgs.len() == 0 {
		heap.Remove(&q.heaviest, s.index)
		delete(q.senders, s.key) // still in turns, maybe: skipped there once empty, and kept then
		if !s.inTurn {
			q.keep(s)
		}
		return
	}
	heap.Fix(&q.heaviest, s.index)
}

// newSender is an emptied queue again, or a new one. Called with mu held.
func (q *Queue) newSender(key string) *senderQueue {
	if n := len(q.free); n > 0 {
		s := q.free[n-1]
		q.free[n-1] = nil
		q.free = q.free[:n-1]
		s.key = key
		return s
	}
	return &senderQueue{key: key}
}

// keep holds on to an emptied queue that nothing refers to any more, a few of them. Called
// with mu held.
func (q *Queue) keep(s *senderQueue) {
	if len(q.free) < 64 {
		q.free = append(q.free, s)
	}
}

// Take takes up to max messages, one of each sender in turn, for the publisher; their bytes
// stay counted until published (Done).
func (q *Queue) Take(max int, batch []Message) []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(batch) < max && q.turns.len() > 0 {
		s := q.turns.pop()
		if s.msgs.len() == 0 { // emptied by dropNewest: out of the turns now, and free
			s.inTurn = false
			q.keep(s)
			continue
		}
		batch = append(batch, s.msgs.pop())
		q.took(s, len(batch[len(batch)-1].Payload))
		if s.msgs.len() > 0 {
			q.turns.push(s)
		} else {
			s.inTurn = false
			q.keep(s)
		}
	}
	return batch
}

// Done says the publisher is through with n bytes it took.
func (q *Queue) Done(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bytes -= n
}

// senderHeap orders senders by the bytes they have queued, the most first (container/heap).
type senderHeap []*senderQueue

func (h senderHeap) Len() int           { return len(h) }
func (h senderHeap) Less(i, j int) bool { return h[i].bytes > h[j].bytes }
func (h senderHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *senderHeap) Push(x any) {
	s := x.(*senderQueue)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *senderHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}
