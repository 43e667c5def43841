package safety

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// The proof-of-work gate against scripted clients, in the ALTCHA format (SHA-256): before its
// first find_match a connection finds the number n in [0, maxnumber] with
// SHA-256(salt + n) = challenge. The challenge is signed for the connection it is issued to
// (HMAC-SHA-256 of the client id and the challenge) and expires (the salt carries
// ?expires=<unix seconds>, at most POW_TTL ahead). The key is random, made by each process
// when it starts and never configured: a challenge is only ever answered on the socket it was
// sent on, so the instance that issued it is the one that checks it, and no setting (the
// public default of one, say) can give the key away. A solution opens only the connection it
// was issued to, once: that connection needs none after it, and every other connection has
// another id; so nothing is stored.

// PowGate issues and verifies challenges. A nil gate (POW_MAX_NUMBER=0) lets everyone through.
type PowGate struct {
	key       []byte
	MaxNumber int64
	TTL       time.Duration
	Now       func() time.Time
}

// errPow is any solution that does not open the gate.
var ErrPow = errors.New("proof of work missing, wrong, expired or not this connection's")

// NewPowGate creates the gate with a fresh random key; maxNumber 0 turns it off (nil).
func NewPowGate(maxNumber int64, ttl time.Duration, now func() time.Time) *PowGate {
	if maxNumber == 0 {
		return nil
	}
	key := make([]byte, 32)
	rand.Read(key) // crypto/rand.Read never fails
	return &PowGate{key: key, MaxNumber: maxNumber, TTL: ttl, Now: now}
}

// Challenge is a fresh challenge for connection id (nil when the gate is off).
func (g *PowGate) Challenge(id wire.ClientID) *wire.PowChallenge {
	if g == nil {
		return nil
	}
	saltBytes := make([]byte, 12)
	rand.Read(saltBytes) // crypto/rand.Read never fails
	salt := hex.EncodeToString(saltBytes) + "?expires=" + strconv.FormatInt(g.Now().Add(g.TTL).Unix(), 10) + "&"
	n, err := rand.Int(rand.Reader, big.NewInt(g.MaxNumber+1))
	if err != nil {
		panic("crypto/rand: " + err.Error()) // it does not fail on the platforms we build for
	}
	challenge := SHA256Hex(salt + n.String())
	return &wire.PowChallenge{Algorithm: "SHA-256", Challenge: challenge, MaxNumber: g.MaxNumber, Salt: salt, Signature: g.Sign(id, challenge)}
}

// sign binds a challenge to the connection it is issued to (a client id has no '|').
func (g *PowGate) Sign(id wire.ClientID, challenge string) string {
	mac := hmac.New(sha256.New, g.key)
	mac.Write([]byte(string(id) + "|" + challenge)) // hash.Hash.Write never fails
	return hex.EncodeToString(mac.Sum(nil))
}

func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// powPayload is what the page sends (base64 of this JSON, as ALTCHA's widget does).
type powPayload struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    int64  `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Verify says whether payload solves a challenge issued to connection id that has not
// expired: errPow otherwise. It costs one HMAC and two SHA-256, and no Redis.
func (g *PowGate) Verify(id wire.ClientID, payload string) error {
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(raw) > 1024 {
		return ErrPow
	}
	var p powPayload
	if json.Unmarshal(raw, &p) != nil || p.Algorithm != "SHA-256" || p.Number < 0 || p.Number > g.MaxNumber {
		return ErrPow
	}
	if subtle.ConstantTimeCompare([]byte(g.Sign(id, p.Challenge)), []byte(p.Signature)) != 1 {
		return ErrPow
	}
	_, query, _ := strings.Cut(p.Salt, "?")
	params, err := url.ParseQuery(query)
	secs, perr := strconv.ParseInt(params.Get("expires"), 10, 64)
	now := g.Now()
	// a challenge says how long it lasts, and is believed no further than POW_TTL from now
	if expires := time.Unix(secs, 0); err != nil || perr != nil || !now.Before(expires) || expires.After(now.Add(g.TTL)) {
		return ErrPow
	}
	if SHA256Hex(p.Salt+strconv.FormatInt(p.Number, 10)) != p.Challenge {
		return ErrPow
	}
	return nil
}
