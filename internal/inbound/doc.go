// Package inbound decodes and validates the messages a client sends (find_match, signal,
// chat, typing, media_state, rtc_stats, report with its evidence, leave) into typed requests,
// and hands each valid one to an Inbound (the hub) for the sender's session.
//
// It may import the standard library, golang.org/x/time/rate, internal/session (the session a
// request is for) and internal/wire, nothing else: it does no I/O, and its only state is one
// connection's rate limits (Limits), used by that connection's read pump alone. Invariants:
// nothing invalid gets past it (a bad message gets an error frame on the sender's connection
// and goes no further); a frame relayed to a partner is re-encoded here, never forwarded as it
// came.
package inbound
