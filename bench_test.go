package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-megle/go-megle/internal/envelope"
	"github.com/go-megle/go-megle/internal/inbound"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"

	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/redistest"
)

// BenchmarkMatchPair measures the match path on a real redis-server: one user queues, a
// second pops it (match.lua twice), then one leaves (leave.lua).
func BenchmarkMatchPair(b *testing.B) {
	rs := redistest.Start(b)
	opt, err := redis.ParseURL(rs.URL())
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	keys := store.NewKeys("{bench}")
	mm, err := NewMatchmaker(ctx, rdb, MatchmakerConfig{Keys: keys, MatchTTL: time.Minute, Timeout: 5 * time.Second, Now: time.Now, Metrics: metrics.NewMetrics()})
	if err != nil {
		b.Fatal(err)
	}
	if err := mm.Heartbeat(ctx, "bench", 0, wire.Searching{}, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		x, y := wire.ClientID(wire.NewID()), wire.ClientID(wire.NewID())
		r1, err := mm.Enqueue(ctx, EnqueueRequest{Client: x, Instance: "bench", Mode: wire.ModeVideo, Match: wire.MatchID(wire.NewID()), Ticket: "t", Addr: "aaaaaaaaaaaabbbbbbbbbbbb"})
		if err != nil || r1.Outcome != OutcomeWaiting {
			b.Fatalf("first enqueue: %+v %v", r1, err)
		}
		r2, err := mm.Enqueue(ctx, EnqueueRequest{Client: y, Instance: "bench", Mode: wire.ModeVideo, Match: wire.MatchID(wire.NewID()), Ticket: "t", Addr: "ccccccccccccdddddddddddd"})
		if err != nil || r2.Outcome != OutcomeMatched || r2.Partner.ID != x {
			b.Fatalf("second enqueue: %+v %v", r2, err)
		}
		if _, err := mm.Leave(ctx, LeaveRequest{Client: y, Instance: "bench", Forget: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisMatchThroughput measures what one redis-server sustains with the matchmaking
// scripts, the design's single-shard bound (every matchmaking key shares one hash slot): many
// clients at once, each match made as a user of the churn makes it, through the matchmaker's
// shared round trips. "leave": one waits, one pops it (match.lua twice), the initiator leaves
// (leave.lua once; the other searches again, which ends nothing). "next": one waits, and the
// initiator of the last match presses Next, which ends that match and pops the one waiting
// (match.lua twice, nothing else). It reports matches per second
// as measured here (the benchmark's own goroutines share the machine with Redis), Redis's
// CPU time per match (INFO cpu: everything the process did, scripts, network and event
// loop), the scripts' time alone (INFO commandstats), and the bound that CPU time sets: the
// matches per second of a redis-server with a CPU to itself. With the rematch cooldown on (the
// default), leave.lua also records the two users in each other's recently-met set, and
// match.lua checks it.
//
// "next+languages" is "next" with three languages besides the interest on both sides (issue
// 23): each worker has three languages of its own (no two workers share one, or their users
// would pop each other), so at most four workers run, one per CPU up to four.
func BenchmarkRedisMatchThroughput(b *testing.B) {
	for _, churn := range []string{"next", "leave", "next+languages"} {
		for _, cooldown := range []time.Duration{5 * time.Minute, 0} {
			b.Run(churn+"/cooldown="+cooldown.String(), func(b *testing.B) { benchRedisThroughput(b, cooldown, churn) })
		}
	}
}

func benchRedisThroughput(b *testing.B, cooldown time.Duration, churn string) {
	langWorkers := len(wire.Languages) / wire.MaxLanguages
	if churn == "next+languages" && runtime.GOMAXPROCS(0) > langWorkers {
		b.Skipf("next+languages runs one worker per CPU, at most %d (each with languages of its own); GOMAXPROCS is %d", langWorkers, runtime.GOMAXPROCS(0))
	}
	rs := redistest.Start(b)
	opt, err := redis.ParseURL(rs.URL())
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 256
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	mm, err := NewMatchmaker(ctx, rdb, MatchmakerConfig{Keys: store.NewKeys("{bench}"), MatchTTL: time.Minute, Timeout: 10 * time.Second,
		Now: time.Now, Metrics: metrics.NewMetrics(), RematchCooldown: cooldown})
	if err != nil {
		b.Fatal(err)
	}
	if err := mm.Heartbeat(ctx, "bench", 0, wire.Searching{}, time.Hour); err != nil {
		b.Fatal(err)
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	cpu0 := redisCPU(b, rdb)
	b.SetParallelism(32) // 32 goroutines per CPU, each a pair of users
	var workers atomic.Int32
	if churn == "next+languages" {
		b.SetParallelism(1)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		switch churn {
		case "next":
			benchNextWorker(b, pb, mm, nil)
			return
		case "next+languages":
			i := int(workers.Add(1)-1) * wire.MaxLanguages
			benchNextWorker(b, pb, mm, wire.Languages[i:i+wire.MaxLanguages])
			return
		}
		for pb.Next() {
			// each worker's own interest keeps its pair together (other workers' users are
			// not popped), as in a real burst where every caller finds someone
			topic := wire.NewID()
			x, y := wire.ClientID(wire.NewID()), wire.ClientID(wire.NewID())
			r1, err := mm.Enqueue(ctx, EnqueueRequest{Client: x, Instance: "bench", Mode: wire.ModeVideo, Wish: wire.Wish{Interests: []string{topic}}, Match: wire.MatchID(wire.NewID()), Ticket: "t", Addr: "aaaaaaaaaaaabbbbbbbbbbbb"})
			if err != nil || r1.Outcome != OutcomeWaiting {
				b.Errorf("first enqueue: %+v %v", r1, err)
				return
			}
			r2, err := mm.Enqueue(ctx, EnqueueRequest{Client: y, Instance: "bench", Mode: wire.ModeVideo, Wish: wire.Wish{Interests: []string{topic}}, Match: wire.MatchID(wire.NewID()), Ticket: "t", Addr: "aaaaaaaaaaaabbbbbbbbbbbb"})
			if err != nil || r2.Outcome != OutcomeMatched || r2.Partner.ID != x {
				b.Errorf("second enqueue: %+v %v", r2, err)
				return
			}
			if l, err := mm.Leave(ctx, LeaveRequest{Client: y, Instance: "bench"}); err != nil || !l.Ended {
				b.Errorf("leave: %+v %v", l, err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := redisCPU(b, rdb) - cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "matches/s")
	stats, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var usec, scripts, calls float64
	for _, line := range strings.Split(stats, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		n, us := commandStat(b, line, rest, "calls="), commandStat(b, line, rest, "usec=")
		switch name {
		case "evalsha", "eval":
			scripts += n
			usec += us // the scripts' own time includes the commands they call
		case "info", "config|resetstat", "script|load", "ping", "hello", "client|setinfo":
		default:
			calls += n // what the scripts called
		}
	}
	if os.Getenv("BENCH_COMMANDSTATS") != "" {
		b.Log(stats)
	}
	perMatch := cpu.Seconds() * 1e6 / float64(b.N)
	b.ReportMetric(usec/float64(b.N), "script-µs/match")
	b.ReportMetric(scripts/float64(b.N), "scripts/match")
	b.ReportMetric(calls/float64(b.N), "calls/match")
	b.ReportMetric(perMatch, "redis-cpu-µs/match")
	b.ReportMetric(1e6/perMatch, "bound-matches/s")
}

// benchNextWorker makes matches as users pressing Next make them: a newcomer waits (a fresh
// user each time, so the cooldown never stands in the way), and the worker's stayer presses
// Next, ending its last match and popping the newcomer.
func benchNextWorker(b *testing.B, pb *testing.PB, mm *Matchmaker, langs []string) {
	ctx, topic := context.Background(), wire.NewID() // the worker's own interest keeps its users together
	wish := wire.Wish{Interests: []string{topic}, Languages: langs}
	stayer, first := wire.ClientID(wire.NewID()), true
	for pb.Next() {
		x := wire.ClientID(wire.NewID())
		r1, err := mm.Enqueue(ctx, EnqueueRequest{Client: x, Instance: "bench", Mode: wire.ModeVideo, Wish: wish, Match: wire.MatchID(wire.NewID()), Ticket: "t"})
		if err != nil || r1.Outcome != OutcomeWaiting {
			b.Errorf("newcomer: %+v %v", r1, err)
			return
		}
		r2, err := mm.Enqueue(ctx, EnqueueRequest{Client: stayer, Instance: "bench", Mode: wire.ModeVideo, Wish: wish, Match: wire.MatchID(wire.NewID()), Ticket: "t"})
		if err != nil || r2.Outcome != OutcomeMatched || r2.Partner.ID != x || r2.Ended.Ended == first || len(langs) > 0 && r2.Language != langs[0] {
			b.Errorf("next: %+v %v", r2, err)
			return
		}
		first = false
	}
}

// commandStat reads one field (calls=, usec=) of an INFO commandstats line.
func commandStat(b *testing.B, line, fields, field string) float64 {
	_, rest, ok := strings.Cut(fields, field)
	if !ok {
		b.Fatalf("commandstats line %q has no %s", line, field)
	}
	v, _, _ := strings.Cut(rest, ",")
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		b.Fatalf("commandstats line %q: %v", line, err)
	}
	return n
}

// redisCPU is the CPU time the redis-server process has used (INFO cpu).
func redisCPU(b *testing.B, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var secs float64
	for _, line := range strings.Split(info, "\n") {
		for _, field := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), field); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatalf("INFO cpu line %q: %v", line, err)
				}
				secs += n
			}
		}
	}
	return time.Duration(secs * float64(time.Second))
}

// BenchmarkRelayLocal measures a signal's trip through one instance: decode, route to the
// partner's queue, write, read by the partner.
func BenchmarkRelayLocal(b *testing.B) {
	_, url := startMiniredis(b)
	inst := startInstance(b, testConfig(b, url))
	x, y := dial(b, inst.wsURL(), nil), dial(b, inst.wsURL(), nil)
	pair(b, x, y)
	benchRelay(b, x, y)
}

// BenchmarkRelayRemote is the same across two instances and a real redis-server.
func BenchmarkRelayRemote(b *testing.B) {
	rs := redistest.Start(b)
	base := testConfig(b, rs.URL())
	var insts []*testInstance
	for _, id := range []wire.InstanceID{"bench-a", "bench-b"} {
		cfg := base
		cfg.InstanceID = id
		insts = append(insts, startInstance(b, cfg))
	}
	x, y := dial(b, insts[0].wsURL(), nil), dial(b, insts[1].wsURL(), nil)
	pair(b, x, y)
	benchRelay(b, x, y)
}

func benchRelay(b *testing.B, x, y *wsClient) {
	frame, err := json.Marshal(map[string]any{"event": "signal", "data": map[string]any{
		"type": "offer", "payload": map[string]string{"type": "offer", "sdp": "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		x.sendRaw(string(frame))
		ev, err := y.nextEvent(5 * time.Second)
		if err != nil || ev.Event != wire.EvSignal {
			b.Fatalf("relay: %v %v", ev, err)
		}
	}
}

func BenchmarkEnvelopeCodec(b *testing.B) {
	e := envelope.Envelope{Kind: envelope.KindRelay, To: wire.ClientID(wire.NewID()), From: wire.ClientID(wire.NewID()), Match: wire.MatchID(wire.NewID()), Frame: make([]byte, 600)}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for range b.N {
		buf = e.AppendBinary(buf[:0])
		if _, err := envelope.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandleSignal measures decoding one inbound signal and encoding the outbound frame,
// with the partner on another instance (so the frame goes to the publish queue).
func BenchmarkHandleSignal(b *testing.B) {
	_, url := startMiniredis(b)
	// the partner is made up: no sweep may find its match missing (or its instance dead) and
	// end it while the benchmark runs
	app := quietApp(b, testConfig(b, url, func(c *Config) { c.SweepInterval = time.Hour }))
	s, _ := attachFake(app.Hub)
	app.Hub.record(s.Restore(&wire.MatchInfo{PartnerID: "P", MatchID: "M", Mode: wire.ModeVideo}, wire.Peer{ID: "P", Instance: "elsewhere"}))
	frame := []byte(`{"event":"signal","data":{"type":"candidate","payload":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host","sdpMid":"0","sdpMLineIndex":0}}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		inbound.Receive(app.Hub, s, frame, nil)
	}
	b.StopTimer()
	if n := testutil.ToFloat64(app.Metrics.Relayed.WithLabelValues(wire.EvSignal, "remote")); int(n) != b.N {
		b.Fatalf("relayed %v signals, want %d", n, b.N)
	}
}
