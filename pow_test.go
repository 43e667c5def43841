package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

func testGate(t testing.TB, now func() time.Time) *PowGate {
	t.Helper()
	_, url := startMiniredis(t)
	return NewPowGate(rdbFor(t, url), Keys{"{pow}"}, []byte("secret"), 5000, time.Minute,
		redisCalls{timeout: 5 * time.Second, metrics: NewMetrics()}, now)
}

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
	g := testGate(t, func() time.Time { return clock })
	c := g.Challenge()
	if c.Algorithm != "SHA-256" || c.MaxNumber != 5000 || !strings.Contains(c.Salt, "?expires=") {
		t.Fatalf("challenge %+v", c)
	}
	good := solve(t, c)
	other := NewPowGate(g.rdb, g.keys, []byte("another secret"), 5000, time.Minute, g.redisCalls, g.now)
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
		{"another server's challenge", solve(t, other.Challenge())},
		{"another algorithm", tamper(t, good, func(m map[string]any) { m["algorithm"] = "SHA-1" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := g.Verify(t.Context(), tc.payload); err != errPow {
				t.Fatalf("accepted (or failed otherwise): %v", err)
			}
		})
	}
	if err := g.Verify(t.Context(), good); err != nil {
		t.Fatalf("a good solution: %v", err)
	}
	if err := g.Verify(t.Context(), good); err != errPow {
		t.Fatalf("a replayed solution: %v", err)
	}
	if left := keysWithoutTTL(t, g.rdb.(*redis.Client), "{pow}"); len(left) != 0 {
		t.Fatalf("used solutions kept for ever: %v", left)
	}
	late := solve(t, g.Challenge())
	clock = clock.Add(time.Minute)
	if err := g.Verify(t.Context(), late); err != errPow {
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

// BenchmarkPowVerify is the server's cost of one proof of work (the check without Redis).
func BenchmarkPowVerify(b *testing.B) {
	g := testGate(b, time.Now)
	payload := solve(b, g.Challenge())
	b.ReportAllocs()
	for range b.N {
		if _, _, err := g.check(payload); err != nil {
			b.Fatal(err)
		}
	}
}
