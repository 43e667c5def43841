package main

import (
	"context"
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

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// The proof-of-work gate against scripted clients, in the ALTCHA format (SHA-256): before its
// first find_match a connection finds the number n in [0, maxnumber] with
// SHA-256(salt + n) = challenge. The challenge is signed (HMAC-SHA-256 of the challenge, with
// a key derived from BAN_SECRET, so every replica accepts every replica's challenges) and
// expires (the salt carries ?expires=<unix seconds>). Each solution is accepted once: Redis
// remembers it until the challenge expires, so it cannot be replayed from another socket.

// PowGate issues and verifies challenges. A nil gate (POW_MAX_NUMBER=0) lets everyone through.
type PowGate struct {
	redisCalls
	rdb       redis.UniversalClient
	keys      Keys
	key       []byte
	maxNumber int64
	ttl       time.Duration
	now       func() time.Time
}

// errPow is any solution that does not open the gate.
var errPow = errors.New("proof of work missing, wrong, expired or used")

// NewPowGate creates the gate; maxNumber 0 turns it off (nil).
func NewPowGate(rdb redis.UniversalClient, keys Keys, secret []byte, maxNumber int64, ttl time.Duration, calls redisCalls, now func() time.Time) *PowGate {
	if maxNumber == 0 {
		return nil
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("go-megle proof of work")) // hash.Hash.Write never fails
	return &PowGate{redisCalls: calls, rdb: rdb, keys: keys, key: mac.Sum(nil), maxNumber: maxNumber, ttl: ttl, now: now}
}

// Challenge is a fresh challenge (nil when the gate is off).
func (g *PowGate) Challenge() *wire.PowChallenge {
	if g == nil {
		return nil
	}
	saltBytes := make([]byte, 12)
	rand.Read(saltBytes) // crypto/rand.Read never fails
	salt := hex.EncodeToString(saltBytes) + "?expires=" + strconv.FormatInt(g.now().Add(g.ttl).Unix(), 10) + "&"
	n, err := rand.Int(rand.Reader, big.NewInt(g.maxNumber+1))
	if err != nil {
		panic("crypto/rand: " + err.Error()) // it does not fail on the platforms we build for
	}
	challenge := sha256Hex(salt + n.String())
	return &wire.PowChallenge{Algorithm: "SHA-256", Challenge: challenge, MaxNumber: g.maxNumber, Salt: salt, Signature: g.sign(challenge)}
}

func (g *PowGate) sign(challenge string) string {
	mac := hmac.New(sha256.New, g.key)
	mac.Write([]byte(challenge)) // hash.Hash.Write never fails
	return hex.EncodeToString(mac.Sum(nil))
}

func sha256Hex(s string) string {
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

// check verifies a payload without Redis: signed by us, not expired, solved. It returns the
// challenge's expiry.
func (g *PowGate) check(payload string) (challenge string, expires time.Time, err error) {
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil || len(raw) > 1024 {
		return "", time.Time{}, errPow
	}
	var p powPayload
	if json.Unmarshal(raw, &p) != nil || p.Algorithm != "SHA-256" || p.Number < 0 || p.Number > g.maxNumber {
		return "", time.Time{}, errPow
	}
	if subtle.ConstantTimeCompare([]byte(g.sign(p.Challenge)), []byte(p.Signature)) != 1 {
		return "", time.Time{}, errPow
	}
	_, query, _ := strings.Cut(p.Salt, "?")
	params, err := url.ParseQuery(query)
	secs, perr := strconv.ParseInt(params.Get("expires"), 10, 64)
	if err != nil || perr != nil || !g.now().Before(time.Unix(secs, 0)) {
		return "", time.Time{}, errPow
	}
	if sha256Hex(p.Salt+strconv.FormatInt(p.Number, 10)) != p.Challenge {
		return "", time.Time{}, errPow
	}
	return p.Challenge, time.Unix(secs, 0), nil
}

// Verify accepts a solution once: errPow for a bad, expired or used one; another error when
// Redis cannot say whether it was used.
func (g *PowGate) Verify(ctx context.Context, payload string) error {
	challenge, expires, err := g.check(payload)
	if err != nil {
		return err
	}
	var fresh bool
	err = g.call(ctx, "pow", func(ctx context.Context) error {
		var err error
		fresh, err = g.rdb.SetNX(ctx, g.keys.PowUsed(challenge), 1, expires.Sub(g.now())+time.Second).Result()
		return err
	})
	if err != nil {
		return err
	}
	if !fresh {
		return errPow
	}
	return nil
}
