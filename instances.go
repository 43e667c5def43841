package main

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis side of instance liveness: heartbeats, who is alive, and the cluster-wide online
// count.

// Heartbeat marks the instance alive for ttl and records its local client count, which the
// online count adds up.
func (m *Matchmaker) Heartbeat(ctx context.Context, id InstanceID, clients int, ttl time.Duration) error {
	return m.call(ctx, "heartbeat", func(ctx context.Context) error {
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, m.keys.Instance(id), clients, ttl)
			p.SAdd(ctx, m.keys.Instances(), string(id))
			return nil
		})
		return err
	})
}

// Deregister removes the instance's heartbeat at a clean shutdown.
func (m *Matchmaker) Deregister(ctx context.Context, id InstanceID) error {
	return m.call(ctx, "deregister", func(ctx context.Context) error {
		_, err := m.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, m.keys.Instance(id))
			p.SRem(ctx, m.keys.Instances(), string(id))
			return nil
		})
		return err
	})
}

// Alive reports which of the instances have a live heartbeat.
func (m *Matchmaker) Alive(ctx context.Context, ids []InstanceID) (map[InstanceID]bool, error) {
	out := make(map[InstanceID]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = m.keys.Instance(id)
	}
	err := m.call(ctx, "alive", func(ctx context.Context) error {
		vals, err := m.rdb.MGet(ctx, keys...).Result()
		for i, v := range vals {
			out[ids[i]] = v != nil
		}
		return err
	})
	return out, err
}

// Online adds up the client counts of every live instance, counts the live instances, and
// forgets dead ones.
func (m *Matchmaker) Online(ctx context.Context) (clients int64, instances int, err error) {
	err = m.call(ctx, "online", func(ctx context.Context) error {
		members, err := m.rdb.SMembers(ctx, m.keys.Instances()).Result()
		if err != nil || len(members) == 0 {
			return err
		}
		keys := make([]string, len(members))
		for i, s := range members {
			keys[i] = m.keys.Instance(InstanceID(s))
		}
		vals, err := m.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return err
		}
		var dead []any
		for i, v := range vals {
			s, ok := v.(string)
			if !ok {
				dead = append(dead, members[i])
				continue
			}
			instances++
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				clients += n
			}
		}
		if len(dead) > 0 {
			return m.rdb.SRem(ctx, m.keys.Instances(), dead...).Err()
		}
		return nil
	})
	return clients, instances, err
}

// LiveInstances lists the instances with a live heartbeat.
func (m *Matchmaker) LiveInstances(ctx context.Context) ([]InstanceID, error) {
	var ids []InstanceID
	err := m.call(ctx, "instances", func(ctx context.Context) error {
		members, err := m.rdb.SMembers(ctx, m.keys.Instances()).Result()
		if err != nil {
			return err
		}
		for _, id := range members {
			ids = append(ids, InstanceID(id))
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
