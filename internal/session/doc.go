// Package session is one user's conversation on an instance: its phases, the verbs that move
// it from one to the next, the Effects each verb asks its caller to carry out, and the resume
// tokens that name it.
//
// It may import the standard library's pure parts (no net, no os, nothing that does I/O) and
// internal/wire, nothing else: the compiler keeps the promise that a verb does no I/O. The
// caller (the root's hub) does every Redis call, publish and timer the Effects ask for.
//
// Invariants: a Session is the only owner of its state, changed only by its verbs under its
// lock; the frames of a transition are queued on the user's connection before the lock is let
// go, so the user sees frames in the order of transitions; a session that has moved or closed
// never acts again.
package session
