package safety

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Watched addresses (issue 25): an address whose open reports that count come from
// WATCH_REPORTERS distinct networks, or that was banned within WATCH_AFTER_BAN of the ban's
// end, is matched with other watched users first and with everyone else only after
// WATCH_WAIT. watch.lua writes <prefix>:watch:<address hash> (one entry per counting report,
// until the report's end; one per ban, until WATCH_AFTER_BAN after its end), match.lua reads
// it on every search, and this file is what the console shows of it. The user is never told.

// watchBanPrefix starts a ban's entry in the watch set (watch.lua); a report's entry starts
// with its reporter's network instead.
const watchBanPrefix = "ban:"

// Watch is what the console shows of an address's standing: whether it is watched now, why
// (reports, ban, or both) and until when its present entries keep it so (new reports may
// extend it; a dismissal or a Lift may end it sooner).
type Watch struct {
	Now   bool      `json:"now"`
	Why   []string  `json:"why"` // "reports", "ban"
	Until time.Time `json:"until,omitzero"`
}

// watchFrom reads the live entries of an address's watch set (ZRANGEBYSCORE (now +inf
// WITHSCORES): need is WATCH_REPORTERS (0: reports never watch).
func watchFrom(entries []redis.Z, need int) Watch {
	w := Watch{Why: []string{}}
	var banEnd, reportsEnd float64
	reports := make([]redis.Z, 0, len(entries))
	for _, z := range entries {
		if strings.HasPrefix(z.Member.(string), watchBanPrefix) {
			banEnd = max(banEnd, z.Score)
		} else {
			reports = append(reports, z)
		}
	}
	if need > 0 {
		// latest first: the address stays watched until the need-th distinct network's
		// latest report ends
		slices.SortFunc(reports, func(a, b redis.Z) int { return cmp.Compare(b.Score, a.Score) })
		nets := map[string]bool{}
		for _, z := range reports {
			nets[NetworkOf(z.Member.(string))] = true
			if len(nets) == need {
				reportsEnd = z.Score
				break
			}
		}
	}
	if reportsEnd > 0 {
		w.Why = append(w.Why, "reports")
	}
	if banEnd > 0 {
		w.Why = append(w.Why, "ban")
	}
	if end := max(banEnd, reportsEnd); end > 0 {
		w.Now, w.Until = true, time.UnixMilli(int64(end)).UTC()
	}
	return w
}

// readWatch queues the read of an address's live watch entries (as match.lua reads them: the
// 64 that end last) on p.
func (sf *Safety) readWatch(ctx context.Context, p redis.Pipeliner, addr string) *redis.ZSliceCmd {
	return p.ZRevRangeByScoreWithScores(ctx, sf.Keys.Watch(addr), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(sf.now().UnixMilli(), 10), Max: "+inf", Count: 64})
}

// watchedUntil reads a ban's entry in its address's watch set (ZSCORE; none: zero).
func watchedUntil(c *redis.FloatCmd) time.Time {
	if c.Err() != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(c.Val())).UTC()
}
