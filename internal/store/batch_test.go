package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// pipelineGate counts the pipelines a client sends and can hold the first one back.
type pipelineGate struct {
	mu        sync.Mutex
	pipelines []int // commands per pipeline of scripts
	hold      chan struct{}
	held      chan struct{} // closed when the first pipeline is being held
}

func (g *pipelineGate) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (g *pipelineGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (g *pipelineGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if name := cmds[0].Name(); name != "evalsha" && name != "eval" {
			return next(ctx, cmds) // the client's own, setting up a connection
		}
		g.mu.Lock()
		first := len(g.pipelines) == 0
		g.pipelines = append(g.pipelines, len(cmds))
		g.mu.Unlock()
		if first && g.hold != nil {
			close(g.held)
			<-g.hold
		}
		return next(ctx, cmds)
	}
}

var _ redis.Hook = (*pipelineGate)(nil)

// TestScriptBatcherSharesRoundTrips: calls queued while a pipeline is out go together in the
// next one, each caller gets its own reply, and a script Redis has forgotten runs by EVAL.
func TestScriptBatcherSharesRoundTrips(t *testing.T) {
	rdb := miniredisClient(t)
	gate := &pipelineGate{hold: make(chan struct{}), held: make(chan struct{})}
	rdb.AddHook(gate)
	b := NewScriptBatcher(rdb, 5*time.Second)
	echo := redis.NewScript(`return 'reply-' .. ARGV[1]`)
	ctx := t.Context()

	const n = 40
	replies := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	call := func(i int) {
		defer wg.Done()
		replies[i], errs[i] = b.Run(ctx, echo, []string{"k"}, i).Text()
	}
	wg.Add(1)
	go call(0)
	<-gate.held // the first call's pipeline is out
	for i := 1; i < n; i++ {
		wg.Add(1)
		go call(i)
	}
	redistest.WaitFor(t, 5*time.Second, "every other call queued", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == n-1
	})
	close(gate.hold)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || replies[i] != fmt.Sprint("reply-", i) {
			t.Fatalf("call %d: %q %v", i, replies[i], errs[i])
		}
	}
	gate.mu.Lock()
	got := append([]int{}, gate.pipelines...)
	gate.mu.Unlock()
	// the first call: EVALSHA, then EVAL (a fresh Redis does not know the script, and learns
	// it); all the others in one pipeline
	if len(got) != 3 || got[0] != 1 || got[1] != 1 || got[2] != n-1 {
		t.Fatalf("pipelines of %v commands, want [1 1 %d]", got, n-1)
	}
	// now Redis knows it: one EVALSHA pipeline
	if r, err := b.Run(ctx, echo, []string{"k"}, "x").Text(); err != nil || r != "reply-x" {
		t.Fatalf("%q %v", r, err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Run(ctx, echo, []string{"k"}, "y").Text(); err != nil || r != "reply-y" {
		t.Fatalf("after SCRIPT FLUSH: %q %v", r, err)
	}
}

// TestScriptBatcherCallerGivesUp: a call whose caller's context ended before it was sent is
// never sent, and the caller hears why.
func TestScriptBatcherCallerGivesUp(t *testing.T) {
	rdb := miniredisClient(t)
	gate := &pipelineGate{hold: make(chan struct{}), held: make(chan struct{})}
	rdb.AddHook(gate)
	b := NewScriptBatcher(rdb, 5*time.Second)
	incr := redis.NewScript(`return redis.call('INCR', KEYS[1])`)

	first := make(chan error, 1)
	go func() { first <- b.Run(t.Context(), incr, []string{"n"}).Err() }()
	<-gate.held
	ctx, cancel := context.WithCancel(t.Context())
	gone := make(chan error, 1)
	go func() { gone <- b.Run(ctx, incr, []string{"n"}).Err() }()
	redistest.WaitFor(t, 5*time.Second, "the second call queued", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == 1
	})
	cancel()
	if err := <-gone; err != context.Canceled {
		t.Fatalf("the abandoned call returned %v", err)
	}
	close(gate.hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	redistest.WaitFor(t, 5*time.Second, "the flusher to finish", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return !b.running
	})
	if n, err := rdb.Get(t.Context(), "n").Int(); err != nil || n != 1 {
		t.Fatalf("the script ran %d times (%v), want once: the abandoned call was sent", n, err)
	}
}

// miniredisClient is a client of an in-process Redis that lives as long as the test.
func miniredisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}
