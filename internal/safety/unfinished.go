package safety

import (
	"errors"
	"io"
	"slices"
	"sync"
)

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

// freeMessageBytes is what a message may grow to uncharged (most never do: no lock), and
// firstReadBuffer where its buffer starts.
const (
	freeMessageBytes = 4 << 10
	firstReadBuffer  = 512
)

// ErrUnfinishedCap: the address's unfinished messages are over its share.
var ErrUnfinishedCap = errors.New("the address's unfinished messages are over UNFINISHED_BYTES_PER_IP")

// MessageCharge is one connection's account of the message it is reading: what its buffer
// holds of the address's share. Only the connection's read pump uses it.
type MessageCharge struct {
	u       *UnfinishedBytes
	addr    string
	charged int64
}

// For is the account of a connection of addr.
func (u *UnfinishedBytes) For(addr string) MessageCharge { return MessageCharge{u: u, addr: addr} }

// ReadAll reads a message of at most limit bytes into a buffer that doubles as it fills (never
// past limit, and one spare byte to see the end), each growth past freeMessageBytes charged
// to the address first.
func (c *MessageCharge) ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b := make([]byte, 0, firstReadBuffer)
	for {
		if len(b) == cap(b) {
			size := min(2*int64(cap(b)), limit+1)
			if size > freeMessageBytes && !c.take(size-int64(cap(b))) {
				return nil, ErrUnfinishedCap
			}
			b = slices.Grow(b, int(size)-len(b))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// take counts n more bytes of the message being read against the address's share.
func (c *MessageCharge) take(n int64) bool {
	if !c.u.Take(c.addr, n) {
		return false
	}
	c.charged += n
	return true
}

// GiveBack returns what the last message was charged (it has been handled, or the read ended).
func (c *MessageCharge) GiveBack() {
	if c.charged > 0 {
		c.u.Give(c.addr, c.charged)
		c.charged = 0
	}
}
