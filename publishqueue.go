package main

import (
	"container/heap"
	"sync"
)

// publishQueue is what the bus has yet to publish, bounded in messages and in bytes, and
// shared fairly between senders: a sender is a client address (its keyed hash) or the
// instance itself (""). The publisher takes one message of each sender in turn, so a sender
// with a backlog delays only itself; and when a message does not fit, the newest message of
// the sender that holds the most bytes is dropped to make room, or the new one when its own
// sender holds the most. So an address that floods the bus loses its own messages, never
// another's (issue 21: 95 sockets of one address bursting typing cost a bystander 2 of 402
// chats).
//
// Each sender's messages keep their order: a match notice, then the relays that follow it.
type publishQueue struct {
	maxCount, maxBytes int

	mu        sync.Mutex
	senders   map[string]*senderQueue // senders with something queued
	turns     []*senderQueue          // senders in the order the publisher serves them; may hold emptied ones
	heaviest  senderHeap              // senders by bytes queued, the most first
	count     int                     // messages queued
	bytes     int                     // bytes queued, and taken by the publisher and not yet published
	ready     chan struct{}           // something was queued (one signal is enough)
	onDropped func(n int)             // messages dropped to make room, or refused
}

type senderQueue struct {
	key    string
	msgs   []outgoing // oldest first
	bytes  int
	index  int  // in heaviest
	inTurn bool // in turns
}

func newPublishQueue(maxCount, maxBytes int, onDropped func(int)) *publishQueue {
	return &publishQueue{maxCount: maxCount, maxBytes: maxBytes, senders: map[string]*senderQueue{},
		ready: make(chan struct{}, 1), onDropped: onDropped}
}

// push queues o for sender, making room as above; false when o itself is dropped.
func (q *publishQueue) push(sender string, o outgoing) bool {
	n := len(o.payload)
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
		s = &senderQueue{key: sender}
		q.senders[sender] = s
		heap.Push(&q.heaviest, s)
	}
	s.msgs = append(s.msgs, o)
	s.bytes += n
	heap.Fix(&q.heaviest, s.index)
	q.count++
	q.bytes += n
	if !s.inTurn {
		s.inTurn = true
		q.turns = append(q.turns, s)
	}
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// dropNewest drops the newest message of s. Called with mu held.
func (q *publishQueue) dropNewest(s *senderQueue) {
	last := s.msgs[len(s.msgs)-1]
	s.msgs[len(s.msgs)-1] = outgoing{}
	s.msgs = s.msgs[:len(s.msgs)-1]
	q.took(s, len(last.payload))
	q.bytes -= len(last.payload)
}

// took accounts for a message that left s's queue. Called with mu held.
func (q *publishQueue) took(s *senderQueue, n int) {
	s.bytes -= n
	q.count--
	if len(s.msgs) == 0 {
		heap.Remove(&q.heaviest, s.index)
		delete(q.senders, s.key) // still in turns, maybe: skipped there once empty
		return
	}
	heap.Fix(&q.heaviest, s.index)
}

// take takes up to max messages, one of each sender in turn, for the publisher; their bytes
// stay counted until published (done).
func (q *publishQueue) take(max int, batch []outgoing) []outgoing {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(batch) < max && len(q.turns) > 0 {
		s := q.turns[0]
		q.turns[0] = nil
		q.turns = q.turns[1:]
		if len(s.msgs) == 0 {
			s.inTurn = false
			continue
		}
		batch = append(batch, s.msgs[0])
		s.msgs[0] = outgoing{}
		s.msgs = s.msgs[1:]
		q.took(s, len(batch[len(batch)-1].payload))
		if len(s.msgs) > 0 {
			q.turns = append(q.turns, s)
		} else {
			s.inTurn = false
		}
	}
	return batch
}

// done says the publisher is through with n bytes it took.
func (q *publishQueue) done(n int) {
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
