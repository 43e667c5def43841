package ice

import (
	"testing"
	"time"
)

// The vector is computed independently with:
//
//	printf '1700000000:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
func TestTURNCredentialKnownVector(t *testing.T) {
	user, cred := TurnCredential([]byte("north"), "alice", time.Unix(1700000000, 0))
	if user != "1700000000:alice" {
		t.Fatalf("username %q", user)
	}
	if cred != turnVector {
		t.Fatalf("credential %q, want %q", cred, turnVector)
	}
}

func TestICEProvider(t *testing.T) {
	now := func() time.Time { return time.Unix(1000, 0) }
	if got := NewICEProvider(Config{TTL: time.Hour}, now).Servers("x"); got == nil || len(got) != 0 {
		t.Fatalf("no STUN/TURN configured: want an empty list, got %#v", got)
	}
	got := NewICEProvider(Config{STUN: []string{"stun:s:3478"}, TURN: []string{"turn:t:3478"}, Secret: "north", TTL: time.Hour}, now).Servers("alice")
	if len(got) != 2 || got[0].URLs[0] != "stun:s:3478" || got[1].Username != "4600:alice" || got[1].Credential == "" {
		t.Fatalf("servers %+v", got)
	}
}

const turnVector = "Cd/49soE35ICqcJF/bCTn8Z4OyE="
