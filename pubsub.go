package main

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// EnvelopeKind says what a cross-instance envelope asks of the receiving instance.
type EnvelopeKind byte

const (
	// KindRelay: deliver Frame to To if To is still local and matched with From in Match, and
	// From lives on Instance (where it was sent from) as far as To knows.
	KindRelay EnvelopeKind = iota + 1
	// KindMatched: To (waiting with Ticket) was paired with From, who lives on Instance.
	KindMatched
	// KindLeft: From ended Match; tell To (Reason) if it is still in that match.
	KindLeft
	// KindMoved: From resumed and now lives on Instance; To should route there.
	KindMoved
	// KindEcho: an instance's probe of its own channel (see Bus.receive).
	KindEcho
	// KindReplaced: To resumed on another socket (on Instance) with the token whose hash is
	// Ticket: the socket that token belonged to is closed here.
	KindReplaced
	// KindBan: the address whose keyed hash is Addr is banned until Ticket (RFC 3339) for
	// Reason: every local socket of it is told and closed. Sent to every instance.
	KindBan
	// KindCall: From's page said its video call in Match connected; To's session notes it (a
	// report by To then knows that From took part).
	KindCall
	// KindPassedOver: To, waiting with Ticket, was passed over by a search because the two met
	// recently: it is told it waits for someone new.
	KindPassedOver
)

// Envelope is the typed message between instances, published once on the addressee
// instance's channel. It is encoded in a small binary form: a version byte, the kind, a
// flags byte, then length-prefixed fields; the client frame inside a relay is carried as
// ready-to-send bytes so the receiving instance does not re-encode it. Flag 1 says an Addr
// field follows the frame (an instance without it would refuse such an envelope, which is
// then lost like any pub/sub message: the sweep puts a lost match notice right).
type Envelope struct {
	Kind     EnvelopeKind
	To       wire.ClientID
	From     wire.ClientID
	Match    wire.MatchID
	Instance wire.InstanceID
	Ticket   string
	Reason   string
	Mode     wire.Mode
	Common   []string
	Frame    []byte
	Addr     string // an address's keyed hash: From's (KindMatched), the banned one (KindBan)
}

const envelopeVersion = 1

var errBadEnvelope = errors.New("malformed envelope")

// AppendBinary appends the encoded envelope to b.
func (e *Envelope) AppendBinary(b []byte) []byte {
	var flags byte
	if e.Addr != "" {
		flags |= flagAddr
	}
	b = append(b, envelopeVersion, byte(e.Kind), flags)
	for _, s := range [...]string{string(e.To), string(e.From), string(e.Match), string(e.Instance), e.Ticket, e.Reason, string(e.Mode), strings.Join(e.Common, "\n")} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Frame)))
	b = append(b, e.Frame...)
	if e.Addr != "" {
		b = binary.AppendUvarint(b, uint64(len(e.Addr)))
		b = append(b, e.Addr...)
	}
	return b
}

const flagAddr = 1

// DecodeEnvelope parses an envelope; Frame aliases b.
func DecodeEnvelope(b []byte) (Envelope, error) {
	var e Envelope
	if len(b) < 3 || b[0] != envelopeVersion {
		return e, errBadEnvelope
	}
	flags := b[2]
	e.Kind = EnvelopeKind(b[1])
	if e.Kind < KindRelay || e.Kind > KindPassedOver || flags&^flagAddr != 0 {
		return e, errBadEnvelope
	}
	b = b[3:]
	field := func() ([]byte, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, errBadEnvelope
		}
		f := b[w : w+int(n)]
		b = b[w+int(n):]
		return f, nil
	}
	var fields [10][]byte
	n := 9
	if flags&flagAddr != 0 {
		n = 10
	}
	for i := range fields[:n] {
		f, err := field()
		if err != nil {
			return e, err
		}
		fields[i] = f
	}
	if len(b) != 0 {
		return e, errBadEnvelope
	}
	e.To, e.From, e.Match = wire.ClientID(fields[0]), wire.ClientID(fields[1]), wire.MatchID(fields[2])
	e.Instance, e.Ticket, e.Reason, e.Mode = wire.InstanceID(fields[3]), string(fields[4]), string(fields[5]), wire.Mode(fields[6])
	if len(fields[7]) > 0 {
		e.Common = strings.Split(string(fields[7]), "\n")
	}
	e.Frame, e.Addr = fields[8], string(fields[9])
	return e, nil
}

// EnvelopeHandler receives envelopes for this instance. It must not block.
type EnvelopeHandler func(Envelope)

type outgoing struct {
	channel string
	payload []byte
}

// Bus is cross-instance delivery over Redis pub/sub: one channel per instance, a
// subscribe-forever loop for this instance's channel, and one publisher goroutine that
// pipelines whatever is queued. Nobody ever waits on it: a full queue drops, counted, and
// fairly (publishqueue.go): a sender that floods loses its own messages first.
type Bus struct {
	rdb     redis.UniversalClient
	keys    store.Keys
	self    wire.InstanceID
	sharded bool // Redis Cluster: SSUBSCRIBE/SPUBLISH, so each channel lives on one shard
	log     *slog.Logger
	metrics *metrics.Metrics
	out     *publishQueue
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

// NewBus creates the bus (Run starts it); its publish queue holds at most queue messages and
// maxBytes bytes.
func NewBus(rdb redis.UniversalClient, keys store.Keys, self wire.InstanceID, queue, maxBytes int, log *slog.Logger, m *metrics.Metrics) *Bus {
	_, sharded := rdb.(*redis.ClusterClient)
	dropped := m.Dropped.WithLabelValues("publish_queue_full")
	return &Bus{rdb: rdb, keys: keys, self: self, sharded: sharded, log: log, metrics: m,
		out: newPublishQueue(queue, maxBytes, func(n int) { dropped.Add(float64(n)) })}
}

// Live says whether the subscription is established and receives what is published to it.
func (b *Bus) Live() bool {
	return b.live.Load() && time.Since(time.Unix(0, b.echoAt.Load())) < echoTimeout
}

// errPublishFull: the publish queue is over its count or bytes.
var errPublishFull = errors.New("publish queue full")

// Publish queues env for instance to, as sender's (a client address's keyed hash, or busSelf).
// It never blocks.
func (b *Bus) Publish(to wire.InstanceID, env *Envelope, sender string) error {
	if !b.out.push(sender, outgoing{channel: b.keys.Channel(to), payload: env.AppendBinary(nil)}) {
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
	batch := make([]outgoing, 0, publishBatch)
	for ctx.Err() == nil {
		if batch = b.out.take(publishBatch, batch[:0]); len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-b.out.ready:
				continue
			}
		}
		start := time.Now()
		_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, o := range batch {
				if b.sharded {
					p.SPublish(ctx, o.channel, o.payload)
				} else {
					p.Publish(ctx, o.channel, o.payload)
				}
			}
			return nil
		})
		b.metrics.ObserveRedis("publish", start, err)
		done := 0
		for i, o := range batch {
			done += len(o.payload)
			batch[i] = outgoing{} // the next batch reuses the array: let go of the payloads
		}
		b.out.done(done)
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
	probe := (&Envelope{Kind: KindEcho, From: wire.ClientID(b.self)}).AppendBinary(nil)
	b.echoAt.Store(time.Now().UnixNano()) // a fresh subscription gets a full echoTimeout
	nextProbe := time.Now()
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(nextProbe) {
			nextProbe = now.Add(echoInterval)
			b.out.push(busSelf, outgoing{channel: b.keys.Channel(b.self), payload: probe}) // a flooder's message makes room
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
			env, err := DecodeEnvelope([]byte(m.Payload))
			if err != nil {
				b.metrics.Dropped.WithLabelValues("bad_envelope").Inc()
				b.log.Warn("malformed envelope dropped", "err", err)
				continue
			}
			if env.Kind == KindEcho {
				b.echoAt.Store(time.Now().UnixNano())
				continue
			}
			handle(env)
		}
	}
	return wasLive, ctx.Err()
}
