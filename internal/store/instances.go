package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/wire"
)

// Instances is the Redis side of instance liveness: heartbeats, who is alive, the cluster-wide
// online count, and the language queues' lengths. The matchmaker embeds it.
type Instances struct {
	calls Calls
	rdb   redis.UniversalClient
	keys  Keys
}

// NewInstances reads and writes the instances' keys of keys through calls.
func NewInstances(calls Calls, rdb redis.UniversalClient, keys Keys) *Instances {
	return &Instances{calls: calls, rdb: rdb, keys: keys}
}

// Heartbeat marks the instance alive for ttl and records its local client count, and its
// users searching per mode, which the online count adds up. The searching counts are a key
// of their own (one SET more in the same round trip) rather than a new format of the
// heartbeat's value, which instances of an older version read as a number.
func (m *Instances) Heartbeat(ctx context.Context, id wire.InstanceID, clients int, searching wire.Searching, ttl time.Duration) error {
	return m.calls.Call(ctx, "heartbeat", func(ctx context.Context) error {
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, m.keys.Instance(id), clients, ttl)
			p.Set(ctx, m.keys.Searching(id), FormatSearching(searching), ttl)
			p.SAdd(ctx, m.keys.Instances(), string(id))
			return nil
		})
		return err
	})
}

// FormatSearching is the value of an instance's searching key.
func FormatSearching(s wire.Searching) string { return fmt.Sprintf("%d %d", s.Video, s.Text) }

// ParseSearching reads FormatSearching's value; anything else (an instance of an older
// version has none) counts nobody.
func ParseSearching(v any) wire.Searching {
	var s wire.Searching
	if text, ok := v.(string); ok {
		if _, err := fmt.Sscanf(text, "%d %d", &s.Video, &s.Text); err != nil {
			return wire.Searching{}
		}
	}
	return s
}

// Deregister removes the instance's heartbeat at a clean shutdown.
func (m *Instances) Deregister(ctx context.Context, id wire.InstanceID) error {
	return m.calls.Call(ctx, "deregister", func(ctx context.Context) error {
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, m.keys.Instance(id), m.keys.Searching(id))
			p.SRem(ctx, m.keys.Instances(), string(id))
			return nil
		})
		return err
	})
}

// Alive reports which of the instances have a live heartbeat.
func (m *Instances) Alive(ctx context.Context, ids []wire.InstanceID) (map[wire.InstanceID]bool, error) {
	out := make(map[wire.InstanceID]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = m.keys.Instance(id)
	}
	err := m.calls.Call(ctx, "alive", func(ctx context.Context) error {
		vals, err := m.rdb.MGet(ctx, keys...).Result()
		for i, v := range vals {
			out[ids[i]] = v != nil
		}
		return err
	})
	return out, err
}

// OnlineCount is the cluster-wide count of connected users and of those searching.
type OnlineCount struct {
	Clients   int64
	Searching wire.Searching
	Instances int // live instances
}

// LanguageQueues reads how many users wait in each language's queue (the language-only
// queue, where every search with that language waits), by mode, in the order of
// wire.Languages: one pipelined SCARD per mode and language.
func (m *Instances) LanguageQueues(ctx context.Context) (out map[wire.Mode][]int64, err error) {
	modes := []wire.Mode{wire.ModeVideo, wire.ModeText}
	err = m.calls.Call(ctx, "language_queues", func(ctx context.Context) error {
		cmds := make([]*redis.IntCmd, 0, len(modes)*len(wire.Languages))
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, mode := range modes {
				for _, l := range wire.Languages {
					cmds = append(cmds, p.SCard(ctx, m.keys.LanguageQueue(mode, l)))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = map[wire.Mode][]int64{}
		for i, c := range cmds {
			mode := modes[i/len(wire.Languages)]
			out[mode] = append(out[mode], c.Val())
		}
		return nil
	})
	return out, err
}

// Online adds up the client and searching counts of every live instance (one MGET of both
// keys of each), counts the live instances, and forgets dead ones.
func (m *Instances) Online(ctx context.Context) (out OnlineCount, err error) {
	err = m.calls.Call(ctx, "online", func(ctx context.Context) error {
		members, err := m.rdb.SMembers(ctx, m.keys.Instances()).Result()
		if err != nil || len(members) == 0 {
			return err
		}
		keys := make([]string, 2*len(members))
		for i, s := range members {
			keys[i], keys[len(members)+i] = m.keys.Instance(wire.InstanceID(s)), m.keys.Searching(wire.InstanceID(s))
		}
		vals, err := m.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return err
		}
		var dead []any
		for i, v := range vals[:len(members)] {
			s, ok := v.(string)
			if !ok {
				dead = append(dead, members[i])
				continue
			}
			out.Instances++
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				out.Clients += n
			}
			searching := ParseSearching(vals[len(members)+i])
			out.Searching.Video += searching.Video
			out.Searching.Text += searching.Text
		}
		if len(dead) > 0 {
			return m.rdb.SRem(ctx, m.keys.Instances(), dead...).Err()
		}
		return nil
	})
	return out, err
}

// LiveInstances lists the instances with a live heartbeat.
func (m *Instances) LiveInstances(ctx context.Context) ([]wire.InstanceID, error) {
	var ids []wire.InstanceID
	err := m.calls.Call(ctx, "instances", func(ctx context.Context) error {
		members, err := m.rdb.SMembers(ctx, m.keys.Instances()).Result()
		if err != nil {
			return err
		}
		for _, id := range members {
			ids = append(ids, wire.InstanceID(id))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	alive, err := m.Alive(ctx, ids)
	live := ids[:0]
	for _, id := range ids {
		if alive[id] {
			live = append(live, id)
		}
	}
	return live, err
}
