package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-megle/go-megle/internal/metrics"
)

// ErrRedis wraps every failure to reach Redis, so callers can answer "unavailable".
var ErrRedis = errors.New("redis unavailable")

// Calls bounds, times and counts Redis operations: every Redis call of the hub's parts
// (matchmaker, safety, proof of work, address cap) goes through Call.
type Calls struct {
	Timeout time.Duration
	Metrics *metrics.Metrics
}

// Call runs one Redis operation within the operation timeout, records its latency and any
// error under op, and wraps the error in ErrRedis.
func (r Calls) Call(ctx context.Context, op string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	r.Metrics.ObserveRedis(op, start, err)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRedis, op, err)
	}
	return nil
}

// LuaFlag is a boolean as the scripts read their arguments: "1" or "0".
func LuaFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Str reads an optional string out of an HMGET reply.
func Str(v any) string {
	s, _ := v.(string)
	return s
}
