package main

import "crypto/rand"

// InstanceID names one server instance (replica) among those sharing a Redis.
type InstanceID string

// newID returns 128 random bits from crypto/rand as 26 base32 characters: unguessable, and
// unique across instances without coordination.
func newID() string { return rand.Text() }

// validIDText says whether s may be used as an id inside Redis keys and channel names.
func validIDText(s string) bool {
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

const (
	defaultWaitingMsg    = "Looking for someone you can chat with..."
	newPartnerWaitingMsg = "Waiting for someone new..."
)

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
