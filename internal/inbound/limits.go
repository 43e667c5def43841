package inbound

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/go-megle/go-megle/internal/wire"
)

// strikeWindow: rate-limit strikes older than this are forgiven.
const strikeWindow = 10 * time.Second

// LimitsConfig are the rate limits of one connection (RATE_LIMIT, RATE_BURST, RATE_STRIKES,
// FIND_RATE, FIND_BURST); a rate of 0 is no limit.
type LimitsConfig struct {
	Rate      float64 // inbound frames per second, sustained
	Burst     int
	Strikes   int     // refusals within strikeWindow of each other that make the sender abusive
	FindRate  float64 // find_match per second, on top of the general limit (it runs scripts)
	FindBurst int
}

// Limits are one connection's rate limits on what it sends. Only its read pump uses them (one
// runs at a time), so they take no lock.
type Limits struct {
	frames     *rate.Limiter // nil: no limit
	finds      *rate.Limiter // nil: none of its own
	maxStrikes int
	strikes    int
	lastStrike time.Time
}

// NewLimits makes a connection's limits.
func NewLimits(cfg LimitsConfig) *Limits {
	l := &Limits{maxStrikes: cfg.Strikes}
	if cfg.Rate > 0 {
		l.frames = rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst)
	}
	if cfg.FindRate > 0 {
		l.finds = rate.NewLimiter(rate.Limit(cfg.FindRate), cfg.FindBurst)
	}
	return l
}

// Admit applies the general limit to one inbound frame (a message, a ping or a pong): ok says
// it may be handled; abusive says the refusals are sustained and the connection should close
// (1008).
func (l *Limits) Admit(now time.Time) (ok, abusive bool) {
	if l.frames == nil || l.frames.AllowN(now, 1) {
		return true, false
	}
	if now.Sub(l.lastStrike) > strikeWindow {
		l.strikes = 0
	}
	l.strikes, l.lastStrike = l.strikes+1, now
	return false, l.strikes >= l.maxStrikes
}

// Allow applies the limits of particular events: find_match has its own.
func (l *Limits) Allow(event string) bool {
	return event != wire.EvFindMatch || l.finds == nil || l.finds.Allow()
}
