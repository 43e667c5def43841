package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// idleMode opens the connections, waits for every hello, reads the servers' VmRSS and holds
// the connections for -duration.
type idleMode struct {
	noHandler
	cfg       Config
	rssBefore []int64
}

func newIdleMode(cfg Config) *idleMode { return &idleMode{cfg: cfg} }

func (m *idleMode) before() error {
	for _, pid := range m.cfg.PIDs {
		rss, err := readRSS(pid)
		if err != nil {
			return fmt.Errorf("idle: before: %w", err)
		}
		m.rssBefore = append(m.rssBefore, rss)
	}
	return nil
}

func (m *idleMode) run(ctx context.Context, clients []*client, res *Result) {
	start := time.Now()
	ir := &IdleResult{}
	res.Idle = ir
	if !sleepCtx(ctx, m.cfg.Settle) {
		return
	}
	var grown int64
	for i, pid := range m.cfg.PIDs {
		rss, err := readRSS(pid)
		if err != nil {
			res.fail("idle: after: %v", err)
			return
		}
		ir.Processes = append(ir.Processes, ProcessMemory{PID: pid, BeforeBytes: m.rssBefore[i], AfterBytes: rss})
		grown += rss - m.rssBefore[i]
	}
	if len(clients) > 0 {
		ir.BytesPerConn = float64(grown) / float64(len(clients))
	}
	// The load generator's own footprint says whether 100 000 clients fit on this machine.
	if self, err := readRSS(os.Getpid()); err == nil {
		ir.LoadgenBytes = self
	}
	sleepCtx(ctx, m.cfg.Duration-time.Since(start))
}
