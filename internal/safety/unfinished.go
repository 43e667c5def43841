package safety

import "sync"

// UnfinishedBytes is this instance's account of the memory held by inbound messages that are
// still arriving, per client address (UNFINISHED_BYTES_PER_IP): a connection's read buffer
// grows only by what its address may still take, so that many sockets of one address, each
// starting a large message and never finishing it, pin no more than one address's share
// (issue 21). A message's charge is given back when it has been handled, or its socket ends.
type UnfinishedBytes struct {
	max int64

	mu   sync.Mutex
	held map[string]int64 // address key -> bytes; an address holding nothing has no entry
}

func NewUnfinishedBytes(max int64) *UnfinishedBytes {
	return &UnfinishedBytes{max: max, held: map[string]int64{}}
}

// take charges n more bytes to addr, unless that would put it over its share.
func (u *UnfinishedBytes) Take(addr string, n int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.held[addr]+n > u.max {
		return false
	}
	u.held[addr] += n
	return true
}

// give returns n bytes charged to addr.
func (u *UnfinishedBytes) Give(addr string, n int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.held[addr] -= n; u.held[addr] <= 0 {
		delete(u.held, addr)
	}
}
