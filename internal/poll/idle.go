package poll

import "bufio"

// IdleWait is what parking an idle connection needs: gorilla's read buffer (nothing in it
// means nothing read and not yet handled) and the connection's registration with the Poller.
// The zero value parks nothing: the read pump then waits in a read.
type IdleWait struct {
	Buffered *bufio.Reader
	Watch    *PollWatch
}

// pongOpcode is a WebSocket pong frame's opcode (RFC 6455 5.5.3).
const pongOpcode = 0xA

// TakePong takes one whole pong frame from the front of a read buffer at a message boundary,
// and says whether there was one. Anything else, a pong not read whole yet included, is left
// to gorilla's read: a client's frames are masked (RFC 6455 5.3), a pong is final with at most
// 125 bytes of payload (5.5).
func TakePong(br *bufio.Reader) bool {
	if br.Buffered() < 2 {
		return false
	}
	head, err := br.Peek(2) // buffered: reads nothing
	if err != nil || head[0] != 0x80|pongOpcode || head[1]&0x80 == 0 || head[1]&0x7f > 125 {
		return false
	}
	size := 2 + 4 + int(head[1]&0x7f)
	if br.Buffered() < size {
		return false
	}
	_, err = br.Discard(size) // buffered: cannot fail
	return err == nil
}
