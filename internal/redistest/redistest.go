// Package redistest starts real redis-server processes on free loopback ports for tests.
//
// When redis-server is not installed the calling test is skipped with a message saying so,
// unless REQUIRE_REDIS=1, when it fails instead: CI sets that, so a missing server can never
// turn the multi-instance tests into silent skips.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is one redis-server process with persistence off, bound to 127.0.0.1.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	Port int
	Args []string // extra arguments given at start, reused by Restart
	cmd  *exec.Cmd
	done chan struct{}
}

// Binary returns the path of redis-server, or skips (or fails under REQUIRE_REDIS=1).
func Binary(tb testing.TB) string {
	tb.Helper()
	return require(tb, "redis-server", "REDIS_SERVER")
}

// CLI returns the path of redis-cli, or skips (or fails under REQUIRE_REDIS=1).
func CLI(tb testing.TB) string {
	tb.Helper()
	return require(tb, "redis-cli", "REDIS_CLI")
}

func require(tb testing.TB, name, env string) string {
	tb.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found on PATH (install Debian's redis-server package, or set %s)", name, env)
	if os.Getenv("REQUIRE_REDIS") == "1" {
		tb.Fatalf("REQUIRE_REDIS=1 but %s", msg)
	}
	tb.Skipf("skipping: %s; set REQUIRE_REDIS=1 to make this a failure", msg)
	return ""
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a redis-server for the test and stops it at cleanup. Extra args are passed as
// command-line options (for example "--cluster-enabled", "yes").
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: Binary(tb), dir: tb.TempDir(), Port: FreePort(tb), Args: args}
	s.start()
	tb.Cleanup(s.Stop)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is a redis:// URL for go-redis and for the server's REDIS_URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

func (s *Server) start() {
	s.tb.Helper()
	args := append([]string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--protected-mode", "no", "--daemonize", "no",
	}, s.Args...)
	cmd := exec.Command(s.bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.tb.Fatalf("redis-server pipe: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	ready := make(chan struct{})
	var logTail []string
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if len(logTail) < 50 {
				logTail = append(logTail, line)
			}
			if !signalled && strings.Contains(line, "Ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
	}()
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
	select {
	case <-ready:
	case <-s.done:
		s.tb.Fatalf("redis-server exited at start: %s", strings.Join(logTail, "\n"))
	case <-time.After(15 * time.Second):
		s.tb.Fatalf("redis-server did not become ready in 15s")
	}
}

// Stop kills the server and waits for it to exit. Safe to call twice.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port (after Stop).
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start()
}

// Dir is the server's working directory (for cluster config files and the like).
func (s *Server) Dir() string { return filepath.Clean(s.dir) }
