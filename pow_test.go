package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/ice"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

func testGate(now func() time.Time) *safety.PowGate { return safety.NewPowGate(5000, time.Minute, now) }

// powClient is the connection the gate's test challenges are issued to.
const powClient wire.ClientID = "POWCLIENTPOWCLIENTPOWCLIEN"

func solve(t testing.TB, c *wire.PowChallenge) string {
	t.Helper()
	p, ok := wire.SolvePow(*c)
	if !ok {
		t.Fatal("no solution in range")
	}
	return p
}

// tamper decodes a payload, changes it, and encodes it again.
func tamper(t *testing.T, payload string, change func(map[string]any)) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestPowGate(t *testing.T) {
	clock := time.Now()
	g := testGate(func() time.Time { return clock })
	c := g.Challenge(powClient)
	if c.Algorithm != "SHA-256" || c.MaxNumber != 5000 || !strings.Contains(c.Salt, "?expires=") {
		t.Fatalf("challenge %+v", c)
	}
	good := solve(t, c)
	other := testGate(g.Now) // another process: a key of its own
	for _, tc := range []struct {
		name, payload string
	}{
		{"missing", ""},
		{"not base64", "!!!"},
		{"not JSON", base64.StdEncoding.EncodeToString([]byte("nope"))},
		{"a wrong number", tamper(t, good, func(m map[string]any) { m["number"] = m["number"].(float64) + 1 })},
		{"a forged signature", tamper(t, good, func(m map[string]any) { m["signature"] = strings.Repeat("0", 64) })},
		{"a salt with a later expiry", tamper(t, good, func(m map[string]any) {
			m["salt"] = strings.Replace(m["salt"].(string), "expires=", "expires=9", 1)
		})},
		{"another server's challenge", solve(t, other.Challenge(powClient))},
		{"another connection's challenge", solve(t, g.Challenge("ANOTHERCLIENTANOTHERCLIENT"))},
		{"another algorithm", tamper(t, good, func(m map[string]any) { m["algorithm"] = "SHA-1" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := g.Verify(powClient, tc.payload); err != safety.ErrPow {
				t.Fatalf("accepted (or failed otherwise): %v", err)
			}
		})
	}
	if err := g.Verify(powClient, good); err != nil {
		t.Fatalf("a good solution: %v", err)
	}
	late := solve(t, g.Challenge(powClient))
	clock = clock.Add(time.Minute)
	if err := g.Verify(powClient, late); err != safety.ErrPow {
		t.Fatalf("an expired challenge: %v", err)
	}
}

func TestPowGateOnTheWire(t *testing.T) {
	insts, _ := startCluster(t, 2, func(c *Config) { c.PowMaxNumber, c.BanSecret = 2000, "shared" })
	c := dial(t, insts[0].wsURL(), nil)
	if c.hello.Pow == nil {
		t.Fatal("hello has no proof-of-work challenge")
	}
	c.send(wire.EvFindMatch, map[string]any{})
	var e wire.ErrorData
	c.expect(wire.EvError, &e)
	if e.Code != wire.ErrPowRequired || e.Pow == nil || e.Pow.Challenge == c.hello.Pow.Challenge {
		t.Fatalf("error %+v: want pow_required with a fresh challenge", e)
	}
	payload := solve(t, c.hello.Pow)
	c.send(wire.EvFindMatch, map[string]any{"pow": payload})
	c.expect(wire.EvWaiting, nil)
	c.send(wire.EvFindMatch, map[string]any{}) // solved once: the next needs none
	c.expect(wire.EvWaiting, nil)
	// the same solution from another socket, on another instance, is refused
	d := dial(t, insts[1].wsURL(), nil)
	d.send(wire.EvFindMatch, map[string]any{"pow": payload})
	d.expectError(wire.ErrPowRequired)
	d.send(wire.EvFindMatch, map[string]any{"pow": solve(t, d.hello.Pow)})
	var m wire.MatchFoundData
	d.expect(wire.EvMatchFound, &m)
	c.expect(wire.EvMatchFound, nil)
	// a resumed connection does not solve again
	c.close()
	r := dial(t, insts[1].wsURL()+"?resume="+c.hello.ResumeToken, nil)
	if !r.hello.Resumed || r.hello.Pow != nil {
		t.Fatalf("resumed hello %+v: want no challenge", r.hello)
	}
	r.send(wire.EvFindMatch, map[string]any{})
	d.expect(wire.EvPartnerLeft, nil)
	r.expect(wire.EvWaiting, nil)
}

// BenchmarkPowVerify is the server's whole cost of one proof of work (it needs no Redis).
func BenchmarkPowVerify(b *testing.B) {
	g := testGate(time.Now)
	payload := solve(b, g.Challenge(powClient))
	b.ReportAllocs()
	for range b.N {
		if err := g.Verify(powClient, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// composeDefaultBanSecret is the value docker-compose.yml used to default BAN_SECRET to:
// public, in every clone of the repository.
const composeDefaultBanSecret = "insecure-dev-secret-set-BAN_SECRET"

// forgePow signs a challenge of its own with a key derived from a public secret the way the
// proof-of-work key once was, and answers it without any work.
func forgePow(secret string, expires time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("go-megle proof of work"))
	key := mac.Sum(nil)
	salt := "00112233445566778899aabb?expires=" + strconv.FormatInt(expires.Unix(), 10) + "&"
	challenge := safety.SHA256Hex(salt + "0")
	sig := hmac.New(sha256.New, key)
	sig.Write([]byte(challenge))
	b, _ := json.Marshal(map[string]any{"algorithm": "SHA-256", "challenge": challenge, "number": 0, "salt": salt,
		"signature": hex.EncodeToString(sig.Sum(nil))})
	return base64.StdEncoding.EncodeToString(b)
}

// Issue 21, item 2: with the public default BAN_SECRET (what the shipped compose file ran
// with) anyone signed their own challenges: 20 of 20 forged solutions with no work were
// accepted. The proof-of-work key is no longer derived from any setting.
func TestPowCannotBeForgedWithThePublicDefault(t *testing.T) {
	inst := startInstance(t, testConfig(t, "", func(c *Config) { c.PowMaxNumber, c.BanSecret = 30_000, composeDefaultBanSecret }))
	for i := range 20 {
		c := dial(t, inst.wsURL(), nil)
		c.send(wire.EvFindMatch, map[string]any{"pow": forgePow(composeDefaultBanSecret, time.Now().Add(time.Minute))})
		ev, err := c.nextEvent(5 * time.Second)
		if err != nil || ev.Event != wire.EvError || !strings.Contains(string(ev.Data), wire.ErrPowRequired) {
			t.Fatalf("forged solution %d: %s %s %v, want error pow_required", i, ev.Event, ev.Data, err)
		}
		c.close()
	}
}

// Issue 21, item 2: the expiry inside a challenge had no upper bound, so a challenge signed
// with a known key left a {mm}:pow:* key for as long as it said. One that says more than
// POW_TTL from now is refused, however well signed.
func TestPowRefusesAnExpiryBeyondTheTTL(t *testing.T) {
	clock := time.Now()
	g := testGate(func() time.Time { return clock })
	for _, tc := range []struct {
		name    string
		expires time.Time
		ok      bool
	}{
		{"within POW_TTL", clock.Add(g.TTL), true},
		{"a second beyond POW_TTL", clock.Add(g.TTL + 2*time.Second), false},
		{"a year", clock.Add(365 * 24 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			salt := wire.NewID() + "?expires=" + strconv.FormatInt(tc.expires.Unix(), 10) + "&"
			challenge := safety.SHA256Hex(salt + "7")
			c := wire.PowChallenge{Algorithm: "SHA-256", Challenge: challenge, MaxNumber: g.MaxNumber, Salt: salt, Signature: g.Sign(powClient, challenge)}
			err := g.Verify(powClient, solve(t, &c))
			if tc.ok != (err == nil) {
				t.Fatalf("Verify: %v, want accepted %v", err, tc.ok)
			}
		})
	}
}

// Issue 21, item 9: a solution worked out for one connection's challenge opens no other
// connection, so solutions cannot be stockpiled and spent on fresh sockets.
func TestPowSolutionIsTiedToItsConnection(t *testing.T) {
	insts, _ := startCluster(t, 1, func(c *Config) { c.PowMaxNumber, c.BanSecret = 2000, "shared" })
	a, b := dial(t, insts[0].wsURL(), nil), dial(t, insts[0].wsURL(), nil)
	payload := solve(t, a.hello.Pow) // a's own, never used by a
	b.send(wire.EvFindMatch, map[string]any{"pow": payload})
	b.expectError(wire.ErrPowRequired)
	a.send(wire.EvFindMatch, map[string]any{"pow": payload}) // still good where it was issued
	a.expect(wire.EvWaiting, nil)
}

// Issue 21, item 9: hello handed every connection a TURN credential before any work (1 844
// connections a second from one address, each given one). TURN credentials now come with a
// match, which needs the proof of work, and name the user they were given to.
func TestTURNCredentialsOnlyAfterTheWork(t *testing.T) {
	insts, _ := startCluster(t, 2, func(c *Config) {
		c.PowMaxNumber, c.BanSecret = 2000, "shared"
		c.STUNURLs, c.TURNURLs, c.TURNSecret = []string{"stun:stun.example:3478"}, []string{"turn:turn.example:3478"}, "s3cret"
	})
	a, b := dial(t, insts[0].wsURL(), nil), dial(t, insts[1].wsURL(), nil)
	for _, c := range []*wsClient{a, b} {
		for _, s := range c.hello.ICEServers {
			if s.Username != "" || s.Credential != "" || slices.Contains(s.URLs, "turn:turn.example:3478") {
				t.Fatalf("hello before any work hands out %+v", c.hello.ICEServers)
			}
		}
	}
	a.send(wire.EvFindMatch, map[string]any{"pow": solve(t, a.hello.Pow)})
	a.expect(wire.EvWaiting, nil)
	b.send(wire.EvFindMatch, map[string]any{"pow": solve(t, b.hello.Pow)})
	var ma, mb matchFoundWithICE
	b.expect(wire.EvMatchFound, &mb)
	a.expect(wire.EvMatchFound, &ma)
	for _, got := range []struct {
		c *wsClient
		m matchFoundWithICE
	}{{a, ma}, {b, mb}} {
		i := slices.IndexFunc(got.m.ICEServers, func(s wire.ICEServer) bool { return slices.Contains(s.URLs, "turn:turn.example:3478") })
		if i < 0 {
			t.Fatalf("match_found of %s has no TURN entry: %+v", got.c.id(), got.m.ICEServers)
		}
		turn := got.m.ICEServers[i]
		expiry, id, _ := strings.Cut(turn.Username, ":")
		if id != string(got.c.id()) || expiry == "" {
			t.Fatalf("TURN username %q does not name %s", turn.Username, got.c.id())
		}
		if _, want := ice.TurnCredential([]byte("s3cret"), got.c.id(), time.Unix(mustAtoi(t, expiry), 0)); turn.Credential != want {
			t.Fatalf("TURN credential %q, want %q", turn.Credential, want)
		}
	}
	// a resume into the match brings them in hello: the work was done on the first socket
	a.close()
	r := dial(t, insts[1].wsURL()+"?resume="+a.hello.ResumeToken, nil)
	if !r.hello.Resumed || !slices.ContainsFunc(r.hello.ICEServers, func(s wire.ICEServer) bool { return s.Credential != "" }) {
		t.Fatalf("resumed hello %+v: want the TURN entry", r.hello)
	}
}

// matchFoundWithICE reads match_found's ice_servers whatever the Go type holds.
type matchFoundWithICE struct {
	ICEServers []wire.ICEServer `json:"ice_servers"`
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
