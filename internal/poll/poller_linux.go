package poll

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Poller tells parked connections that they have something to read, all of them from one
// goroutine, so that an idle connection holds no goroutine (and no stack) of its own: its read
// pump parks it at a message boundary with nothing buffered and ends, and the poller starts
// it again when the socket is readable (data, a close frame, an end or an error).
//
// It is one epoll instance with one-shot registrations, itself waited on through Go's own
// network poller (an epoll descriptor is readable while it has events), so no thread blocks in
// epoll_wait. A registration is keyed by a number of its own, never by the descriptor, which
// the kernel reuses after a close.
type Poller struct {
	epfd *os.File // waited on through Go's poller
	fd   int      // the same descriptor, for epoll_ctl (os.File.Fd would make it blocking)
	log  *slog.Logger

	mu      sync.Mutex
	closed  bool
	next    uint64
	waiting map[uint64]func() // armed registrations: what to run when readable
}

var errPollerClosed = errors.New("poller closed")

// NewPoller starts a poller; Close stops it.
func NewPoller(log *slog.Logger) (*Poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("epoll: non-blocking: %w", err)
	}
	p := &Poller{epfd: os.NewFile(uintptr(fd), "epoll"), fd: fd, log: log, waiting: map[uint64]func(){}}
	// a descriptor Go's poller cannot wait on has no deadlines: then there is nothing to run on
	if err := p.epfd.SetReadDeadline(time.Time{}); err != nil {
		_ = p.epfd.Close()
		return nil, fmt.Errorf("epoll: not pollable: %w", err)
	}
	raw, err := p.epfd.SyscallConn()
	if err != nil {
		_ = p.epfd.Close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	go p.loop(raw)
	return p, nil
}

// loop hands out readiness until the poller is closed. However it ends, the poller is closed
// then (every parked connection woken, nothing armed again).
func (p *Poller) loop(raw syscall.RawConn) {
	defer p.Close()
	events := make([]unix.EpollEvent, 256)
	for {
		var n int
		var werr error
		err := raw.Read(func(fd uintptr) bool {
			for {
				n, werr = unix.EpollWait(int(fd), events, 0)
				if !errors.Is(werr, unix.EINTR) {
					return werr != nil || n > 0 // nothing ready: wait until the epoll descriptor is readable
				}
			}
		})
		if err == nil && werr != nil {
			err = werr
		}
		if err != nil {
			if !p.isClosed() {
				p.log.Error("the poller stopped; idle connections now wait in a read", "err", err)
			}
			return
		}
		p.mu.Lock()
		wakes := make([]func(), 0, n)
		for _, ev := range events[:n] {
			key := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if wake, ok := p.waiting[key]; ok {
				delete(p.waiting, key)
				wakes = append(wakes, wake)
			}
		}
		p.mu.Unlock()
		for _, wake := range wakes {
			wake() // it only starts the connection's read pump
		}
	}
}

// Close stops the poller; every parked connection is woken and reads as if there were no
// poller (a blocking read), so none is left behind. A nil poller has nothing to close.
func (p *Poller) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	wakes := p.waiting
	p.waiting = nil
	p.mu.Unlock()
	for _, wake := range wakes {
		wake()
	}
	_ = p.epfd.Close()
}

func (p *Poller) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Watch makes a registration for conn. It is nil (no parking) without a poller or for a
// connection without a descriptor.
func (p *Poller) Watch(conn net.Conn) *PollWatch {
	if p == nil {
		return nil
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p.mu.Lock()
	p.next++
	key := p.next
	p.mu.Unlock()
	return &PollWatch{p: p, raw: raw, key: key}
}

// PollWatch is one connection's registration with the poller. Arm and Forget are called by
// the connection's read pump only, one at a time.
type PollWatch struct {
	p     *Poller
	raw   syscall.RawConn
	key   uint64
	added bool // in the epoll set (the kernel drops it when the descriptor closes)
}

// Arm runs wake once, from the poller's goroutine, when the connection is readable (at once
// if it already is). An error means nothing was armed: read without parking.
func (w *PollWatch) Arm(wake func()) error {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.p.closed {
		return errPollerClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT,
		Fd: int32(uint32(w.key)), Pad: int32(uint32(w.key >> 32))}
	op := unix.EPOLL_CTL_MOD
	if !w.added {
		op = unix.EPOLL_CTL_ADD
	}
	var cerr error
	// Control holds the descriptor open, so a concurrent close cannot hand its number to
	// another connection while it is armed here.
	if err := w.raw.Control(func(fd uintptr) {
		cerr = unix.EpollCtl(w.p.fd, op, int(fd), &ev)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("epoll_ctl: %w", cerr)
	}
	w.added = true
	w.p.waiting[w.key] = wake
	return nil
}

// Writable says whether the socket can take a small frame now (poll(2), no wait).
func (w *PollWatch) Writable() bool {
	ready := false
	_ = w.raw.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, 0)
		ready = err == nil && n == 1 && fds[0].Revents&unix.POLLOUT != 0
	})
	return ready
}

// Forget drops an armed registration whose wake is not wanted any more.
func (w *PollWatch) Forget() {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.p.waiting != nil {
		delete(w.p.waiting, w.key)
	}
}
