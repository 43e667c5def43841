// Package poll parks idle connections: one epoll instance (Linux) tells a parked connection's
// owner that its socket is readable, so that an idle connection holds no goroutine of its own.
// Elsewhere it is a stub that never parks, and every read pump blocks in a read. A parked
// connection's pongs are taken at the message boundary (TakePong), so that a keep-alive does
// not wake a read that would wait for the next message.
//
// It may import the standard library and golang.org/x/sys, nothing of the server: it knows
// sockets, not clients. Invariants: a registration is keyed by a number of its own, never by
// the descriptor (the kernel reuses descriptors); a callback runs at most once per Arm.
package poll
