package safety

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// What an address's connection openings tell, across the cluster: how many it opened in the
// last minute (the adaptive proof of work's price: pow.go) and how many distinct users it had
// in the last hour (what the console shows beside a report, for a moderator to see a shared
// address: a household, a campus, a carrier-grade NAT). Both are written by the one pipeline
// every connection opening runs (Opened), under the address's keyed hash, and expire by
// themselves.
//
// The rate is a sliding minute made of two fixed ones: this minute's count, plus last minute's
// weighted by the part of it still inside the window. One INCR per opening, two small strings
// per address that opened a connection in the last two minutes.
//
// The users are HyperLogLogs of client ids, one per quarter hour: PFCOUNT of the last five is
// the distinct ids of the last hour (60 to 75 minutes; about 0.8 % off). A HyperLogLog stores
// no id (only registers of their hashes' bits): a few dozen bytes for a handful of users, at
// most 12 KB for a large NAT. A user who reloads the page is a new id; one who resumes is not.

const (
	openedTTL    = 2 * time.Minute
	usersQuarter = 15 * time.Minute
	usersWindow  = 5 // quarters PFCOUNT reads: the current one and the four before
	usersTTL     = usersWindow*usersQuarter + time.Minute
)

// Opened records a connection opening of the address addrHash as user id, and returns the
// address's openings in the last minute (this one counted).
func (sf *Safety) Opened(ctx context.Context, addrHash string, id wire.ClientID) (perMinute float64, err error) {
	now := sf.now()
	minute, frac := minuteOf(now)
	users := sf.Keys.Users(addrHash, now.Unix()/int64(usersQuarter/time.Second))
	var cur *redis.IntCmd
	var prev *redis.StringCmd
	err = sf.Call(ctx, "opened", func(ctx context.Context) error {
		_, err := sf.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			cur = p.Incr(ctx, sf.Keys.Opened(addrHash, minute))
			p.Expire(ctx, sf.Keys.Opened(addrHash, minute), openedTTL)
			prev = p.Get(ctx, sf.Keys.Opened(addrHash, minute-1))
			p.PFAdd(ctx, users, string(id))
			p.Expire(ctx, users, usersTTL)
			return nil
		})
		if errors.Is(err, redis.Nil) { // no openings last minute: not a failure
			err = nil
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	last, _ := prev.Float64() // 0 when there is none (redis.Nil)
	return slidingRate(float64(cur.Val()), last, frac), nil
}

// OpenRate is the address's openings in the last minute, counting none now (for a fresh
// challenge after a refused solution: the same price as the first).
func (sf *Safety) OpenRate(ctx context.Context, addrHash string) (float64, error) {
	minute, frac := minuteOf(sf.now())
	var vals []any
	err := sf.Call(ctx, "open_rate", func(ctx context.Context) (err error) {
		vals, err = sf.rdb.MGet(ctx, sf.Keys.Opened(addrHash, minute), sf.Keys.Opened(addrHash, minute-1)).Result()
		return err
	})
	if err != nil {
		return 0, err
	}
	return slidingRate(count(vals[0]), count(vals[1]), frac), nil
}

// usersKeys are the HyperLogLogs of the address's last hour, this quarter's and the four
// before: PFCOUNT of them is its distinct users (the console reads them with the reports,
// moderation.go: addCounts).
func (sf *Safety) usersKeys(addrHash string) []string {
	q := sf.now().Unix() / int64(usersQuarter/time.Second)
	keys := make([]string, usersWindow)
	for i := range keys {
		keys[i] = sf.Keys.Users(addrHash, q-int64(i))
	}
	return keys
}

// minuteOf is the minute since the epoch t is in, and how far into it t is (0 to 1).
func minuteOf(t time.Time) (minute int64, frac float64) {
	ms := t.UnixMilli()
	return ms / 60_000, float64(ms%60_000) / 60_000
}

// slidingRate is this minute's count plus the part of last minute's still in the window.
func slidingRate(cur, last, frac float64) float64 { return cur + last*(1-frac) }

// count reads a counter MGET returned (nil when there is none).
func count(v any) float64 {
	s, _ := v.(string)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return n
}
