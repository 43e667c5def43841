package store

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// WatchedQueues reads how many watched users wait in each mode's watched queue (match.lua:
// they wait there, among each other, until WATCH_WAIT), cluster-wide: one pipelined SCARD
// per mode, at each online count.
func (m *Instances) WatchedQueues(ctx context.Context) (out map[wire.Mode]int64, err error) {
	modes := []wire.Mode{wire.ModeVideo, wire.ModeText}
	err = m.calls.Call(ctx, "watched_queues", func(ctx context.Context) error {
		cmds := make([]*redis.IntCmd, len(modes))
		if _, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, mode := range modes {
				cmds[i] = p.SCard(ctx, m.keys.WatchedQueue(mode))
			}
			return nil
		}); err != nil {
			return err
		}
		out = make(map[wire.Mode]int64, len(modes))
		for i, mode := range modes {
			out[mode] = cmds[i].Val()
		}
		return nil
	})
	return out, err
}
