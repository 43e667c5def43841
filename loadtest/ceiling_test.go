package main

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/redistest"
)

// TestCeilingSpeaksTheProtocol builds the in-memory ceiling of the bench (loadtest/ceiling)
// and holds it to the checker in every load the bench runs against it: a ratio to a server
// that answers wrongly would mean nothing.
func TestCeilingSpeaksTheProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the ceiling build in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "ceiling")
	build := exec.Command("go", "build", "-o", bin, "./ceiling")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the ceiling: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cmd := exec.Command(bin, "-addr", addr)
	redistest.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // killed at cleanup
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	hc := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ceiling is not up after 30s: %v", err)
		}
		select {
		case <-exited:
			t.Fatal("the ceiling exited at start")
		case <-tick.C:
		}
	}
	url := "ws://" + addr + "/ws"
	for _, tc := range []struct {
		name string
		cfg  func() Config
	}{
		{"churn", func() Config {
			c := quickConfig(modeChurn, 100, url)
			c.PIDs = []int{cmd.Process.Pid}
			return c
		}},
		{"churn next", func() Config { c := quickConfig(modeChurn, 100, url); c.Next = true; return c }},
		{"churn mixed modes", func() Config { c := quickConfig(modeChurn, 40, url); c.MediaMode = mediaMixed; return c }},
		{"burst", func() Config { return quickConfig(modeBurst, 200, url) }},
		{"burst by interest", func() Config { c := quickConfig(modeBurst, 200, url); c.Cross = true; return c }},
		{"relay", func() Config { return quickConfig(modeRelay, 100, url) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(context.Background(), tc.cfg(), io.Discard)
			logResult(t, res)
			if !res.OK {
				t.Fatalf("checker failed against the ceiling: %q", res.Failures)
			}
		})
	}
}
