// Package fairq is the bus's publish queue: bounded in messages and in bytes, and shared
// fairly between senders (client addresses by their keyed hash, and the instance itself), so
// that an address that floods the bus loses its own messages, never another's.
//
// It may import the standard library only: it knows channels and payloads, not envelopes nor
// Redis. Invariants: each sender's messages keep their order; a push never blocks; bytes
// taken by the publisher stay counted until it says Done.
package fairq
