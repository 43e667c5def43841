package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// noRetries turns off go-redis's own retries: a script or a publish that timed out may still
// have run, and running it again would pop a second partner or deliver a signal twice. Every
// caller handles the error instead.
const noRetries = -1

// RedisConfig says which Redis to open (the settings of the same names, read by config.go).
type RedisConfig struct {
	URL            string   // REDIS_URL
	ClusterAddrs   []string // REDIS_CLUSTER_ADDRS
	SentinelAddrs  []string // REDIS_SENTINEL_ADDRS
	SentinelMaster string   // REDIS_SENTINEL_MASTER
	Password       string   // REDIS_PASSWORD(_FILE)
	Timeout        time.Duration
}

// OpenRedis connects to the configured Redis: a single node (REDIS_URL), a Cluster
// (REDIS_CLUSTER_ADDRS) or a Sentinel set (REDIS_SENTINEL_ADDRS), or, with none of them, an
// embedded in-process Redis. The returned stop function closes it all.
//
// Every timeout is REDIS_TIMEOUT: when Redis is away the server answers "unavailable" quickly
// instead of piling up goroutines behind a dead connection.
func OpenRedis(ctx context.Context, cfg RedisConfig, log *slog.Logger) (redis.UniversalClient, func(), error) {
	d := cfg.Timeout
	switch {
	case len(cfg.ClusterAddrs) > 0:
		c := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: cfg.ClusterAddrs, Password: cfg.Password, DialTimeout: d, ReadTimeout: d, WriteTimeout: d, PoolTimeout: d, MaxRetries: noRetries,
		})
		log.Info("using Redis Cluster", "nodes", len(cfg.ClusterAddrs))
		return c, func() { _ = c.Close() }, nil
	case len(cfg.SentinelAddrs) > 0:
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: cfg.SentinelMaster, SentinelAddrs: cfg.SentinelAddrs, Password: cfg.Password,
			DialTimeout: d, ReadTimeout: d, WriteTimeout: d, PoolTimeout: d, MaxRetries: noRetries,
		})
		log.Info("using Redis Sentinel", "master", cfg.SentinelMaster, "sentinels", len(cfg.SentinelAddrs))
		return c, func() { _ = c.Close() }, nil
	case cfg.URL != "":
		opt, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout, opt.MaxRetries = d, d, d, d, noRetries
		if cfg.Password != "" {
			opt.Password = cfg.Password // from REDIS_PASSWORD(_FILE): the URL need not carry it
		}
		c := redis.NewClient(opt)
		log.Info("using Redis", "addr", opt.Addr, "db", opt.DB)
		return c, func() { _ = c.Close() }, nil
	}
	return openEmbeddedRedis(ctx, d, log)
}

// openEmbeddedRedis runs miniredis in this process. Its keys do not expire by themselves: a
// once-a-second FastForward moves its clock (ClockTTL would be slow with many keys).
func openEmbeddedRedis(ctx context.Context, d time.Duration, log *slog.Logger) (redis.UniversalClient, func(), error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("start embedded redis: %w", err)
	}
	tickCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case <-t.C:
				m.FastForward(time.Second)
			}
		}
	}()
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), DialTimeout: d, ReadTimeout: d, WriteTimeout: d, PoolTimeout: d, MaxRetries: noRetries})
	log.Warn("REDIS_URL is not set: using an embedded in-process Redis. It is for one instance and development only; " +
		"set REDIS_URL to a real Redis to run several replicas")
	return c, func() {
		cancel()
		<-done
		_ = c.Close()
		m.Close()
	}, nil
}
