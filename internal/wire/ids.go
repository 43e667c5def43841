package wire

import "crypto/rand"

// InstanceID names one server instance (replica) among those sharing a Redis.
type InstanceID string

// Peer is a user as another instance's user sees it: its client id, the instance its socket
// lives on (where frames for it are routed), and its address as its keyed hash (what a report
// of it is filed under). A partner, a match's other side and a sender are peers.
type Peer struct {
	ID       ClientID
	Instance InstanceID
	Addr     string
}

// NewID returns 128 random bits from crypto/rand as 26 base32 characters: unguessable, and
// unique across instances without coordination. Client, match and ban ids, search tickets
// and the secret part of resume tokens are all made by it.
func NewID() string { return rand.Text() }

// ValidIDText says whether s may be used as an id inside Redis keys and channel names.
func ValidIDText(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
