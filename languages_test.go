package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// Strangers who speak your language (issue 23): a search with languages prefers a shared
// language and a shared interest, then a shared language, and only after the interest fallback
// anyone; "only my language" never falls back. Two instances on a real redis-server.

// langBed is two instances on one real redis-server with the given interest fallback.
type langBed struct {
	insts []*testInstance
	keys  store.Keys
	url   string
}

func newLangBed(t *testing.T, fallback time.Duration) *langBed {
	t.Helper()
	rs := redistest.Start(t)
	base := testConfig(t, rs.URL(), func(c *Config) { c.InterestFallback = fallback })
	b := &langBed{url: rs.URL(), keys: store.NewKeys(base.KeyPrefix)}
	for _, id := range []string{"a", "b"} {
		cfg := base
		cfg.InstanceID = wire.InstanceID("lang-" + id + "-" + wire.NewID()[:6])
		b.insts = append(b.insts, startInstance(t, cfg))
	}
	return b
}

// waiting dials a client on instance i, which searches with data and waits.
func (b *langBed) waiting(t *testing.T, i int, data map[string]any) *wsClient {
	t.Helper()
	c := dial(t, b.insts[i].wsURL(), nil)
	c.send(wire.EvFindMatch, data)
	c.expect(wire.EvWaiting, nil)
	return c
}

// matched: newcomer n's match_found names partner p, and p's names n, both with the shared
// language lang and interests common.
func matchedWith(t *testing.T, n, p *wsClient, lang string, common []string) {
	t.Helper()
	var mn, mp wire.MatchFoundData
	n.expect(wire.EvMatchFound, &mn)
	p.expect(wire.EvMatchFound, &mp)
	for _, m := range []struct {
		got     wire.MatchFoundData
		partner wire.ClientID
	}{{mn, p.id()}, {mp, n.id()}} {
		if m.got.PartnerID != m.partner || m.got.Language != lang || !slices.Equal(m.got.CommonInterests, common) {
			t.Fatalf("match_found %+v, want partner %s, language %q, interests %v", m.got, m.partner, lang, common)
		}
	}
}

// stillWaiting: c is waiting in Redis, and has heard nothing since.
func (b *langBed) stillWaiting(t *testing.T, cs ...*wsClient) {
	t.Helper()
	rdb := rdbFor(t, b.url)
	for _, c := range cs {
		if st := rdb.HGet(context.Background(), b.keys.User(c.id()), "state").Val(); st != "waiting" {
			t.Fatalf("client %s is %q in Redis, want waiting", c.id(), st)
		}
		if ev, err := c.nextEvent(0); err == nil {
			t.Fatalf("client %s got %s %s, want nothing", c.id(), ev.Event, ev.Data)
		}
	}
}

func TestLanguagesSameLanguageFirst(t *testing.T) {
	b := newLangBed(t, time.Hour)
	pt := b.waiting(t, 0, map[string]any{"languages": []string{"pt"}})
	anyone := b.waiting(t, 0, map[string]any{})
	en := b.waiting(t, 0, map[string]any{"languages": []string{"de", "en"}})
	n := dial(t, b.insts[1].wsURL(), nil)
	n.send(wire.EvFindMatch, map[string]any{"languages": []string{"en", "fr"}})
	matchedWith(t, n, en, "en", []string{})
	b.stillWaiting(t, pt, anyone)

	// every queue a language search waits in expires
	rdb := rdbFor(t, b.url)
	if ttl := rdb.TTL(context.Background(), b.keys.LanguageQueue(wire.ModeVideo, "pt")).Val(); ttl <= 0 {
		t.Fatalf("the pt queue's TTL is %v", ttl)
	}
}

func TestLanguagesSharedLanguageAndInterestFirst(t *testing.T) {
	b := newLangBed(t, time.Hour)
	// three who would not do for each other: no language in common
	sameLang := b.waiting(t, 0, map[string]any{"languages": []string{"de"}})
	sameInterest := b.waiting(t, 0, map[string]any{"languages": []string{"pt"}, "interests": []string{"chess"}})
	both := b.waiting(t, 0, map[string]any{"languages": []string{"en"}, "interests": []string{"go", "chess"}})
	// a shared language and interest beats a more preferred language alone
	n := dial(t, b.insts[1].wsURL(), nil)
	n.send(wire.EvFindMatch, map[string]any{"languages": []string{"de", "en"}, "interests": []string{"chess"}})
	matchedWith(t, n, both, "en", []string{"chess"})
	b.stillWaiting(t, sameLang, sameInterest)

	// the one matched left all its queues: a second newcomer with its other interest gets the
	// one who shares a language only
	n2 := dial(t, b.insts[1].wsURL(), nil)
	n2.send(wire.EvFindMatch, map[string]any{"languages": []string{"de", "en"}, "interests": []string{"go"}})
	matchedWith(t, n2, sameLang, "de", []string{})
	b.stillWaiting(t, sameInterest)
}

func TestLanguagesFallBackToAnyone(t *testing.T) {
	b := newLangBed(t, 300*time.Millisecond)
	anyone := b.waiting(t, 0, map[string]any{})
	n := b.waiting(t, 1, map[string]any{"languages": []string{"ja"}, "interests": []string{"chess"}})
	// the fallback puts n in the plain queue, where it finds the one who asked for nothing
	var mn, ma wire.MatchFoundData
	n.expect(wire.EvMatchFound, &mn)
	anyone.expect(wire.EvMatchFound, &ma)
	if mn.PartnerID != anyone.id() || mn.Language != "" || ma.PartnerID != n.id() {
		t.Fatalf("after the fallback: %+v / %+v", mn, ma)
	}
}

func TestLanguagesOnlyMineNeverFallsBack(t *testing.T) {
	b := newLangBed(t, 300*time.Millisecond)
	rdb, ctx := rdbFor(t, b.url), context.Background()
	only := b.waiting(t, 0, map[string]any{"languages": []string{"pt"}, "only_language": true})
	widens := b.waiting(t, 0, map[string]any{"languages": []string{"en"}})
	// widens searched after only: once its fallback has run, only's would have too
	redistest.WaitFor(t, 10*time.Second, "the fallback of the search that widens", func() bool {
		return rdb.HGet(ctx, b.keys.User(widens.id()), "fallback").Val() == "1"
	})
	if in := rdb.SIsMember(ctx, b.keys.Queue(wire.ModeVideo), string(only.id())).Val(); in {
		t.Fatal("only my language waits in the plain queue")
	}
	n := dial(t, b.insts[1].wsURL(), nil)
	n.send(wire.EvFindMatch, map[string]any{})
	matchedWith(t, n, widens, "", []string{})
	b.stillWaiting(t, only)

	// someone who speaks it does find it
	pt := dial(t, b.insts[1].wsURL(), nil)
	pt.send(wire.EvFindMatch, map[string]any{"languages": []string{"ru", "pt"}})
	matchedWith(t, pt, only, "pt", []string{})
}

func TestLanguagesBadInput(t *testing.T) {
	b := newLangBed(t, time.Hour)
	i := 0
	for _, tc := range []struct{ name, frame string }{
		{"unknown tag", `{"event":"find_match","data":{"languages":["xx"]}}`},
		{"a region subtag", `{"event":"find_match","data":{"languages":["en-US"]}}`},
		{"too many", `{"event":"find_match","data":{"languages":["en","es","pt","fr"]}}`},
		{"wrong type", `{"event":"find_match","data":{"languages":"en"}}`},
		{"a number in the list", `{"event":"find_match","data":{"languages":[7]}}`},
		{"only without languages", `{"event":"find_match","data":{"only_language":true}}`},
		{"only of the wrong type", `{"event":"find_match","data":{"languages":["en"],"only_language":"yes"}}`},
	} {
		i++
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, b.insts[i%2].wsURL(), nil)
			c.sendRaw(tc.frame)
			c.expectError(wire.ErrBadRequest)
			// nothing was stored, and the connection searches as usual afterwards
			if n := rdbFor(t, b.url).Exists(context.Background(), b.keys.User(c.id())).Val(); n != 0 {
				t.Fatalf("a refused search left a user hash")
			}
			// (a language of its own, so that the subtests' searches do not meet)
			c.send(wire.EvFindMatch, map[string]any{"languages": []string{wire.Languages[i]}, "only_language": true})
			c.expect(wire.EvWaiting, nil)
		})
	}
}
