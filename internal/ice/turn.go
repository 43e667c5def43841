package ice

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/go-megle/go-megle/internal/wire"
)

// ICEProvider gives each client the ICE servers to use: the configured STUN servers, and TURN
// servers with credentials by the TURN REST API scheme that coturn's use-auth-secret checks:
// username = "<expiry unix time>:<client id>", credential = base64(HMAC-SHA1(secret, username)).
// A leaked credential stops working at its expiry; the secret never leaves the server.
//
// TURN credentials go only to a user who has a partner to call (match_found, or hello after a
// resume into a match): that took a proof of work and a match, where hello costs nothing. Each
// match brings a fresh one, so a long stay does not outlive TURN_TTL.
type ICEProvider struct {
	stun   []string
	turn   []string
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// Config is what the provider hands out: STUN_URLS, TURN_URLS, TURN_SECRET and TURN_TTL.
type Config struct {
	STUN, TURN []string
	Secret     string
	TTL        time.Duration
}

// NewICEProvider creates the provider; now is its clock.
func NewICEProvider(cfg Config, now func() time.Time) *ICEProvider {
	return &ICEProvider{stun: cfg.STUN, turn: cfg.TURN, secret: []byte(cfg.Secret), ttl: cfg.TTL, now: now}
}

// Servers returns the ICE servers for one client; never nil, so it encodes as [].
func (p *ICEProvider) Servers(id wire.ClientID) []wire.ICEServer {
	out := []wire.ICEServer{}
	if len(p.stun) > 0 {
		out = append(out, wire.ICEServer{URLs: p.stun})
	}
	if len(p.turn) > 0 {
		user, cred := TurnCredential(p.secret, id, p.now().Add(p.ttl))
		out = append(out, wire.ICEServer{URLs: p.turn, Username: user, Credential: cred})
	}
	return out
}

// ForMatch is what match_found carries: every ICE server with a fresh TURN credential for id,
// or nil without TURN (hello's STUN servers stand).
func (p *ICEProvider) ForMatch(id wire.ClientID) []wire.ICEServer {
	if len(p.turn) == 0 {
		return nil
	}
	return p.Servers(id)
}

// HasTURN says whether TURN servers are configured (hello tells the page, which offers to hide
// the user's address behind them; the credentials still come only with a match).
func (p *ICEProvider) HasTURN() bool { return len(p.turn) > 0 }

// STUN returns the STUN servers alone: what anyone may learn without connecting or working.
func (p *ICEProvider) STUN() []wire.ICEServer {
	if len(p.stun) == 0 {
		return []wire.ICEServer{}
	}
	return []wire.ICEServer{{URLs: p.stun}}
}

func TurnCredential(secret []byte, id wire.ClientID, expiry time.Time) (username, credential string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + string(id)
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username)) // hash.Hash.Write never fails
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
