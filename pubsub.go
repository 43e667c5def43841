package main

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/fairq"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// EnvelopeHandler receives envelopes for this instance. It must not block.
type EnvelopeHandler func(envelope.Envelope)

// Bus is cross-instance delivery over Redis pub/sub: one channel per instance, a
// subscribe-forever loop for this instance's channel, and one publisher goroutine that
// pipelines whatever is queued. Nobody ever waits on it: a full queue drops, counted, and
// fairly (internal/fairq): a sender that floods loses its own messages first.
type Bus struct {
	rdb     redis.UniversalClient
	keys    store.Keys
	self    wire.InstanceID
	version envelope.Version // written; every version in envelope.Versions is read
	sharded bool             // Redis Cluster: SSUBSCRIBE/SPUBLISH, so each channel lives on one shard
	log     *slog.Logger
	metrics *metrics.Metrics
	out     *fairq.Queue
	live    atomic.Bool
	echoAt  atomic.Int64 // unix nanoseconds of the last echo of our own probe
}

// busSelf is the sender of the instance's own messages (its probes, bans): a light sender
// that a flood never pushes out.
const busSelf = ""

// The bus publishes a probe to its own channel every echoInterval. If none has come back for
// echoTimeout, the subscription is not where publishes go (say, on a demoted master after a
// Sentinel failover) and it is made anew.
const (
	echoInterval = 500 * time.Millisecond
	echoTimeout  = 3 * time.Second
)

// BusConfig is the bus's part of the configuration.
type BusConfig struct {
	Self       wire.InstanceID
	Queue      int // messages the publish queue holds at most
	QueueBytes int // bytes the publish queue holds at most (PUBLISH_QUEUE_BYTES)
	// EnvelopeVersion is the format the bus writes (BUS_ENVELOPE_VERSION); it reads every
	// version in envelope.Versions whatever this says.
	EnvelopeVersion envelope.Version
}

// BusParts are what the bus publishes and subscribes through.
type BusParts struct {
	Redis   redis.UniversalClient
	Keys    store.Keys
	Log     *slog.Logger
	Metrics *metrics.Metrics
}

// NewBus creates the bus (Run starts it).
func NewBus(cfg BusConfig, p BusParts) *Bus {
	_, sharded := p.Redis.(*redis.ClusterClient)
	dropped := p.Metrics.Dropped.WithLabelValues("publish_queue_full")
	return &Bus{rdb: p.Redis, keys: p.Keys, self: cfg.Self, version: cfg.EnvelopeVersion, sharded: sharded, log: p.Log, metrics: p.Metrics,
		out: fairq.New(cfg.Queue, cfg.QueueBytes, func(n int) { dropped.Add(float64(n)) })}
}

// Live says whether the subscription is established and receives what is published to it.
func (b *Bus) Live() bool {
	return b.live.Load() && time.Since(time.Unix(0, b.echoAt.Load())) < echoTimeout
}

// errPublishFull: the publish queue is over its count or bytes.
var errPublishFull = errors.New("publish queue full")

// Publish queues env for instance to, as sender's (a client address's keyed hash, or busSelf).
// It never blocks.
func (b *Bus) Publish(to wire.InstanceID, env *envelope.Envelope, sender string) error {
	if !b.out.Push(sender, fairq.Message{Channel: b.keys.Channel(to), Payload: env.Append(nil, b.version)}) {
		return errPublishFull
	}
	return nil
}

// Run publishes and subscribes until ctx ends; handle gets every envelope for this instance.
func (b *Bus) Run(ctx context.Context, handle EnvelopeHandler) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.publishLoop(ctx)
	}()
	b.subscribeLoop(ctx, handle)
	<-done
}

const publishBatch = 256

func (b *Bus) publishLoop(ctx context.Context) {
	batch := make([]fairq.Message, 0, publishBatch)
	for ctx.Err() == nil {
		if batch = b.out.Take(publishBatch, batch[:0]); len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-b.out.Ready():
				continue
			}
		}
		start := time.Now()
		_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, o := range batch {
				if b.sharded {
					p.SPublish(ctx, o.Channel, o.Payload)
				} else {
					p.Publish(ctx, o.Channel, o.Payload)
				}
			}
			return nil
		})
		b.metrics.ObserveRedis("publish", start, err)
		done := 0
		for i, o := range batch {
			done += len(o.Payload)
			batch[i] = fairq.Message{} // the next batch reuses the array: let go of the payloads
		}
		b.out.Done(done)
		if err != nil && ctx.Err() == nil {
			b.metrics.Dropped.WithLabelValues("publish_failed").Add(float64(len(batch)))
			b.log.Warn("publish to other instances failed; messages dropped", "count", len(batch), "err", err)
		}
	}
}

func (b *Bus) subscribeLoop(ctx context.Context, handle EnvelopeHandler) {
	channel := b.keys.Channel(b.self)
	const maxPause = 2 * time.Second
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		var ps *redis.PubSub
		if b.sharded {
			ps = b.rdb.SSubscribe(ctx, channel)
		} else {
			ps = b.rdb.Subscribe(ctx, channel)
		}
		// closing the subscription is what interrupts a receive blocked on the network
		stopClose := context.AfterFunc(ctx, func() { _ = ps.Close() })
		wasLive, err := b.receive(ctx, ps, handle)
		b.live.Store(false)
		if wasLive {
			pause = 50 * time.Millisecond // it worked for a while: retry soon
		}
		if stopClose() {
			if cerr := ps.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("subscription lost; retrying", "channel", channel, "pause", pause, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(pause*2, maxPause)
	}
}

// receive reads one subscription until it fails. go-redis reconnects and resubscribes on a
// broken connection by itself; a subscription that stops hearing its own echo is abandoned.
func (b *Bus) receive(ctx context.Context, ps *redis.PubSub, handle EnvelopeHandler) (wasLive bool, err error) {
	probe := (&envelope.Envelope{Kind: envelope.KindEcho, From: wire.ClientID(b.self)}).Append(nil, b.version)
	b.echoAt.Store(time.Now().UnixNano()) // a fresh subscription gets a full echoTimeout
	nextProbe := time.Now()
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(nextProbe) {
			nextProbe = now.Add(echoInterval)
			b.out.Push(busSelf, fairq.Message{Channel: b.keys.Channel(b.self), Payload: probe}) // a flooder's message makes room
		}
		if now.Sub(time.Unix(0, b.echoAt.Load())) > echoTimeout {
			return wasLive, errors.New("no echo of our own probe: resubscribing")
		}
		msg, err := ps.ReceiveTimeout(ctx, echoInterval)
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() {
				continue // the echo check above decides whether the subscription is dead
			}
			return wasLive, err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
				b.live.Store(true)
				wasLive = true
			}
		case *redis.Message:
			env, err := envelope.Decode([]byte(m.Payload))
			if err != nil {
				b.metrics.Dropped.WithLabelValues("bad_envelope").Inc()
				b.log.Warn("malformed envelope dropped", "err", err)
				continue
			}
			if env.Kind == envelope.KindEcho {
				b.echoAt.Store(time.Now().UnixNano())
				continue
			}
			handle(env)
		}
	}
	return wasLive, ctx.Err()
}
