// Package envelope is the message between instances: what it asks of the receiving instance
// (Kind), its typed fields, and its binary formats, versioned so that instances of two
// releases understand each other during a rolling deploy.
//
// It may import the standard library and internal/wire, nothing else. Invariants: Decode
// reads every version in Versions (this release's and the previous one) and refuses anything
// else with ErrBad, never a panic; an envelope decoded and encoded again in the same version
// is the same envelope; each field has one meaning (no slot carries two things).
package envelope
