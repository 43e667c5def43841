// Package ice hands out the ICE servers a client uses: the configured STUN servers, and TURN
// servers with short-lived credentials by the TURN REST API scheme (coturn's use-auth-secret).
//
// It may import the standard library and internal/wire (the ICE server type of the protocol),
// nothing else. Invariants: the shared secret never leaves the package; a credential names its
// expiry and its client and is worthless after TURN_TTL.
package ice
