package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/ice"
	"github.com/go-megle/go-megle/internal/safety"
	"github.com/go-megle/go-megle/internal/wire"
)

func testGate(now func() time.Time) *safety.PowGate {
	return safety.NewPowGate(safety.PowConfig{MaxNumber: 5000, FreeRate: 20, MaxCap: 1_000_000, TTL: time.Minute}, now)
}

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
	c := g.Challenge(powClient, 1)
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
		{"another server's challenge", solve(t, other.Challenge(powClient, 1))},
		{"another connection's challenge", solve(t, g.Challenge("ANOTHERCLIENTANOTHERCLIENT", 1))},
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
	late := solve(t, g.Challenge(powClient, 1))
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
	payload := solve(b, g.Challenge(powClient, 1))
	b.ReportAllocs()
	for b.Loop() { // the solving above is setup, not timed
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

// The adaptive price: the base up to POW_FREE_RATE openings a minute, then the square of the
// rate's multiple of it, never over the cap.
func TestPowPriceCurve(t *testing.T) {
	g := safety.NewPowGate(safety.PowConfig{MaxNumber: 30_000, FreeRate: 20, MaxCap: 100_000_000, TTL: time.Minute}, time.Now)
	for _, tc := range []struct {
		perMinute float64
		want      int64
	}{{0, 30_000}, {1, 30_000}, {20, 30_000}, {40, 120_000}, {100, 750_000}, {200, 3_000_000}, {1000, 75_000_000}, {1e6, 100_000_000}} {
		if got := g.MaxNumberFor(tc.perMinute); got != tc.want {
			t.Errorf("%v openings a minute: range %d, want %d", tc.perMinute, got, tc.want)
		}
		if c := g.Challenge(powClient, tc.perMinute); c.MaxNumber != tc.want {
			t.Errorf("%v openings a minute: challenge range %d, want %d", tc.perMinute, c.MaxNumber, tc.want)
		}
	}
	flat := safety.NewPowGate(safety.PowConfig{MaxNumber: 30_000, MaxCap: 100_000_000, TTL: time.Minute}, time.Now)
	if got := flat.MaxNumberFor(1e6); got != 30_000 {
		t.Errorf("POW_FREE_RATE=0: range %d, want the base", got)
	}
	// a raised challenge is solved and verified like the base one
	c := g.Challenge(powClient, 40)
	if err := g.Verify(powClient, solve(t, c)); err != nil {
		t.Fatalf("a raised challenge's solution: %v", err)
	}
}

// An address's openings in the last minute (real Redis): they rise with each opening, count
// for the address alone, slide out over the next minute, and are gone after it (the distinct
// users they also record: console_test.go).
func TestOpeningsRiseAndFallBack(t *testing.T) {
	clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	st := storeFor(t, safety.Config{}, func() time.Time { return clock })
	ctx := context.Background()
	a, b := st.addr("203.0.113.5"), st.addr("198.51.100.7")
	for i := 1; i <= 10; i++ {
		r, err := st.Opened(ctx, a, wire.ClientID(fmt.Sprintf("USER%022d", i%4)))
		if err != nil || r != float64(i) {
			t.Fatalf("opening %d: rate %v, %v", i, r, err)
		}
	}
	if r, err := st.Opened(ctx, b, "OTHERUSEROTHERUSEROTHERUS"); err != nil || r != 1 {
		t.Fatalf("another address: rate %v, %v; want its own 1", r, err)
	}
	clock = clock.Add(90 * time.Second) // half of the last minute is still in the window
	if r, err := st.OpenRate(ctx, a); err != nil || r != 5 {
		t.Fatalf("90 s later: rate %v, %v; want 5 (half of 10)", r, err)
	}
	if r, err := st.Opened(ctx, a, "USER0000000000000000000001"); err != nil || r != 6 {
		t.Fatalf("90 s later, one more: rate %v, %v; want 6", r, err)
	}
	clock = clock.Add(2 * time.Minute)
	if r, err := st.OpenRate(ctx, a); err != nil || r != 0 {
		t.Fatalf("after two quiet minutes: rate %v, %v; want 0 (the base price again)", r, err)
	}
	// every key the openings wrote has a TTL
	keys, err := st.rdb.Keys(ctx, st.keys.Prefix()+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if ttl := st.rdb.TTL(ctx, k).Val(); ttl <= 0 || ttl > 76*time.Minute {
			t.Errorf("%s: TTL %v", k, ttl)
		}
	}
}

// Across two instances: an address that opens connections fast gets dearer challenges from
// both, and a raised challenge is still solved and opens find_match.
func TestPowPriceRisesAcrossInstances(t *testing.T) {
	insts, _ := startCluster(t, 2, func(c *Config) { c.PowMaxNumber, c.PowFreeRate, c.BanSecret = 1000, 2, "shared" })
	var last *wsClient
	var ranges []int64
	for i := range 8 {
		last = dial(t, insts[i%2].wsURL(), nil)
		ranges = append(ranges, last.hello.Pow.MaxNumber)
	}
	// 1 and 2 openings pay the base; the eighth, at 8 a minute (or a little less, should the
	// minute turn), pays about (8/2)² = 16 times it
	if ranges[0] != 1000 || ranges[1] != 1000 || ranges[2] <= 1000 || ranges[7] <= ranges[2] || ranges[7] < 12000 || ranges[7] > 16000 {
		t.Fatalf("ranges %v: want the base for the first two, then rising to about 16 000", ranges)
	}
	last.send(wire.EvFindMatch, map[string]any{"pow": solve(t, last.hello.Pow)})
	last.expect(wire.EvWaiting, nil)
	fams := scrapeMetrics(t, insts[1].srv.URL+"/metrics")
	if n := metricValue(fams, "gomegle_pow_price_ratio", nil); n != 4 {
		t.Fatalf("pow_price_ratio count %v: want the 4 challenges instance b issued", n)
	}
}

// nativeSolve is a native solver as an attacker would write it (the ALTCHA algorithm, SHA-256:
// try every number from 0 until the hash is the challenge), without wire.SolvePow's per-try
// hex encoding and allocations: the number of the challenge, or -1.
func nativeSolve(c *wire.PowChallenge) int64 {
	want, err := hex.DecodeString(c.Challenge)
	if err != nil {
		return -1
	}
	buf := []byte(c.Salt)
	for n := int64(0); n <= c.MaxNumber; n++ {
		if sum := sha256.Sum256(strconv.AppendInt(buf[:len(c.Salt)], n, 10)); string(sum[:]) == string(want) {
			return n
		}
	}
	return -1
}

// BenchmarkPowNativeSolver is what a native solver (nativeSolve, one core) pays per connection
// of an address opening 1, 10, 100 or 300 connections a minute, at the default settings.
func BenchmarkPowNativeSolver(b *testing.B) {
	cfg, err := LoadConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	g := safety.NewPowGate(safety.PowConfig{MaxNumber: cfg.PowMaxNumber, FreeRate: float64(cfg.PowFreeRate), MaxCap: cfg.PowMaxNumberCap, TTL: time.Minute}, time.Now)
	for _, perMinute := range []float64{1, 10, 100, 300} {
		b.Run(fmt.Sprintf("per_minute=%v", perMinute), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				c := g.Challenge(powClient, perMinute)
				b.StartTimer()
				if nativeSolve(c) < 0 {
					b.Fatal("no solution in range")
				}
			}
		})
	}
}
