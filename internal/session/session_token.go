package session

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/go-megle/go-megle/internal/wire"
)

// A resume token is "<client id>.<secret>": the id says whose user hash to look in; only a
// SHA-256 of the whole token is stored there, and it is sent to nobody but its owner.
func NewResumeToken(id wire.ClientID) string { return string(id) + "." + wire.NewID() + wire.NewID() }

func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenOwner is the identity a resume token claims, if it is well formed.
func TokenOwner(token string) (wire.ClientID, bool) {
	id, _, ok := strings.Cut(token, ".")
	return wire.ClientID(id), ok && wire.ValidIDText(id) && len(token) <= 256
}
