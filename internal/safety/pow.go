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

// The price is adaptive: a challenge's range (maxnumber, and so the work: half of it on average)
// is the base for an address that opened at most FreeRate connections in the last minute
// across the cluster (openings.go), and grows with the square of the rate above it, up to
// MaxCap:
//
//	maxnumber = base × max(1, rate/FreeRate)², at most MaxCap
//
// Openings, not open connections: a household or a campus behind one address keeps its
// connections open for whole conversations (Next is no new connection), so its openings per
// minute stay low however many people it has, while a script that opens and throws away
// connections is counted by exactly what it does. Squared: each connection costs in proportion
// to the rate squared, so a rate costs its cube, and a solver's throughput bounds the rate it can
// reach (BENCHMARKS.md); linear would only double a bot's bill when it doubled its rate.

// PowGate issues and verifies challenges. A nil gate (POW_MAX_NUMBER=0) lets everyone through.
type PowGate struct {
	key       []byte
	MaxNumber int64   // the base range (POW_MAX_NUMBER)
	FreeRate  float64 // openings per minute per address that pay only the base (POW_FREE_RATE); 0: never more
	MaxCap    int64   // the largest range (POW_MAX_NUMBER_CAP)
	TTL       time.Duration
	Now       func() time.Time
}

// errPow is any solution that does not open the gate.
var ErrPow = errors.New("proof of work missing, wrong, expired or not this connection's")

// PowConfig is the gate's part of the configuration.
type PowConfig struct {
	MaxNumber int64   // POW_MAX_NUMBER; 0: no gate
	FreeRate  float64 // POW_FREE_RATE; 0: the base for everyone
	MaxCap    int64   // POW_MAX_NUMBER_CAP, at least MaxNumber
	TTL       time.Duration
}

// NewPowGate creates the gate with a fresh random key; MaxNumber 0 turns it off (nil).
func NewPowGate(cfg PowConfig, now func() time.Time) *PowGate {
	if cfg.MaxNumber == 0 {
		return nil
	}
	key := make([]byte, 32)
	rand.Read(key) // crypto/rand.Read never fails
	return &PowGate{key: key, MaxNumber: cfg.MaxNumber, FreeRate: cfg.FreeRate, MaxCap: max(cfg.MaxCap, cfg.MaxNumber), TTL: cfg.TTL, Now: now}
}

// MaxNumberFor is the range of a challenge for an address that opened perMinute connections
// in the last minute.
func (g *PowGate) MaxNumberFor(perMinute float64) int64 {
	if g.FreeRate <= 0 || perMinute <= g.FreeRate {
		return g.MaxNumber
	}
	f := perMinute / g.FreeRate
	return int64(min(float64(g.MaxNumber)*f*f, float64(g.MaxCap)))
}

// Challenge is a fresh challenge for connection id, priced for an address that opened
// perMinute connections in the last minute (nil when the gate is off).
func (g *PowGate) Challenge(id wire.ClientID, perMinute float64) *wire.PowChallenge {
	if g == nil {
		return nil
	}
	maxNumber := g.MaxNumberFor(perMinute)
	saltBytes := make([]byte, 12)
	rand.Read(saltBytes) // crypto/rand.Read never fails
	salt := hex.EncodeToString(saltBytes) + "?expires=" + strconv.FormatInt(g.Now().Add(g.TTL).Unix(), 10) + "&"
	n, err := rand.Int(rand.Reader, big.NewInt(maxNumber+1))
	if err != nil {
		panic("crypto/rand: " + err.Error()) // it does not fail on the platforms we build for
	}
	challenge := SHA256Hex(salt + n.String())
	return &wire.PowChallenge{Algorithm: "SHA-256", Challenge: challenge, MaxNumber: maxNumber, Salt: salt, Signature: g.Sign(id, challenge)}
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
// expired: errPow otherwise. The range a challenge claims is not signed and needs not be: the
// signed challenge is the hash of a number drawn from the range it was issued with, and
// claiming another range makes it no easier to find. It costs one HMAC and two SHA-256, and no Redis.
func (g *PowGate) Verify(id wire.ClientID, payload string) error {
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(raw) > 1024 {
		return ErrPow
	}
	var p powPayload
	if json.Unmarshal(raw, &p) != nil || p.Algorithm != "SHA-256" || p.Number < 0 || p.Number > g.MaxCap {
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
