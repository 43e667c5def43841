package store

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// scriptBatcher lets the script calls of many users share round trips to Redis: a call is
// queued, and one flusher sends whatever is queued as one pipeline (as the bus's publisher
// does for PUBLISH), then hands each caller its reply. Under load a round trip
// carries dozens of scripts, so Redis and this instance make one read and one write for all
// of them instead of one each; alone, a call goes out at once.
//
// Each user's own calls stay in order: a user's operations hold its session's op lock and
// wait for each reply, so it never has two calls queued. Redis runs a pipeline's scripts one
// after another, each atomically, in the order they were queued.
//
// The flusher exists only while something is queued (like a client's writer): a call that
// finds none sends itself at once, on its own goroutine, and a flusher goroutine takes over
// what queued while it was out. A caller that gives up (its context ends) before its call was
// sent takes it back: it is never sent. Once sent, a script may run although its caller has
// gone, as with any call that timed out; the callers handle that (FindMatch undoes what
// match.lua may have done). Nothing is retried here: a script sent twice could pop a second
// partner.
type ScriptBatcher struct {
	rdb     redis.UniversalClient
	timeout time.Duration // bound of one pipeline's round trip

	mu      sync.Mutex
	queue   []*scriptCall
	running bool // a flusher goroutine is running
}

// maxScriptBatch bounds the scripts of one pipeline (and so how long it holds Redis).
const maxScriptBatch = 128

// scriptCall is one queued script run and, once done is closed, its reply.
type scriptCall struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any
	state  atomic.Int32 // callQueued, then callSent or callAbandoned (by the caller)
	cmd    *redis.Cmd   // set before done is closed
	done   chan struct{}
}

const (
	callQueued int32 = iota
	callSent
	callAbandoned
)

func NewScriptBatcher(rdb redis.UniversalClient, timeout time.Duration) *ScriptBatcher {
	return &ScriptBatcher{rdb: rdb, timeout: timeout}
}

// run queues one run of script and waits for its reply, or for ctx to end. The reply is
// read as from (*redis.Script).Run: EVALSHA, and EVAL when Redis does not know the script.
// A call that finds no flusher running sends itself at once, on the caller's goroutine, so a
// lone call waits for nobody; calls queued meanwhile are sent by a flusher goroutine.
func (b *ScriptBatcher) Run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	c := &scriptCall{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if lead {
		b.sendQueued() // this call is the only one queued: the flusher runs only while the queue is not empty
		b.mu.Lock()
		if len(b.queue) > 0 {
			go b.flush() // what queued meanwhile
		} else {
			b.running = false
		}
		b.mu.Unlock()
		return c.cmd
	}
	select {
	case <-c.done:
		return c.cmd
	case <-ctx.Done():
		c.state.CompareAndSwap(callQueued, callAbandoned) // not sent yet: it never will be
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(ctx.Err())
		return cmd
	}
}

// flush sends what is queued, a pipeline at a time, until the queue is empty.
func (b *ScriptBatcher) flush() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.sendQueued()
	}
}

// sendQueued sends up to maxScriptBatch queued calls as one pipeline. Only the flusher (the
// leading caller, or the flusher goroutine after it) calls it.
func (b *ScriptBatcher) sendQueued() {
	b.mu.Lock()
	n := min(len(b.queue), maxScriptBatch)
	batch := make([]*scriptCall, 0, n)
	for _, c := range b.queue[:n] {
		if c.state.CompareAndSwap(callQueued, callSent) {
			batch = append(batch, c)
		}
	}
	clear(b.queue[:n])
	b.queue = b.queue[n:]
	if len(b.queue) == 0 {
		b.queue = nil // let the backing array go
	}
	b.mu.Unlock()
	if len(batch) > 0 {
		b.exec(batch)
	}
}

// exec runs one pipeline of EVALSHA, then one of EVAL for the scripts Redis did not know
// (NOSCRIPT: they did not run), and hands out the replies.
func (b *ScriptBatcher) exec(calls []*scriptCall) {
	// the pipeline serves many callers: it keeps the first one's values, not its cancellation
	ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), b.timeout)
	defer cancel()
	cmds := make([]*redis.Cmd, len(calls))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = c.script.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	}) // every command carries its own error
	var again []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range again {
				c := calls[i]
				cmds[i] = c.script.Eval(ctx, p, c.keys, c.args...)
			}
			return nil
		})
	}
	for i, c := range calls {
		c.cmd = cmds[i]
		close(c.done)
	}
}
