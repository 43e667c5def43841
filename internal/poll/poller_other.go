//go:build !linux

package poll

import (
	"errors"
	"log/slog"
	"net"
)

// Poller parks idle connections on Linux only (epoll); elsewhere every connection's read
// pump blocks in a read, as it does on Linux when a registration fails.
type Poller struct{}

// NewPoller has nothing to start here: no poller, no parking.
func NewPoller(*slog.Logger) (*Poller, error) { return nil, nil }

// Close does nothing.
func (p *Poller) Close() {}

// Watch is nil: no parking.
func (p *Poller) Watch(net.Conn) *PollWatch { return nil }

// PollWatch is never made here.
type PollWatch struct{}

// Arm cannot park.
func (w *PollWatch) Arm(func()) error { return errors.New("no poller on this system") }

// Writable is never asked here (there is no watch).
func (w *PollWatch) Writable() bool { return false }

// Forget does nothing.
func (w *PollWatch) Forget() {}
