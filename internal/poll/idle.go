package poll

import "bufio"

// IdleWait is what parking an idle connection needs: gorilla's read buffer (nothing in it
// means nothing read and not yet handled) and the connection's registration with the Poller.
// The zero value parks nothing: the read pump then waits in a read.
type IdleWait struct {
	Buffered *bufio.Reader
	Watch    *PollWatch
}
