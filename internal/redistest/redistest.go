// Package redistest starts real redis-server processes on free loopback ports for tests, and
// waits for state that has no event to await (WaitFor).
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
	tb       testing.TB
	bin      string
	dir      string
	Port     int
	Args     []string // extra arguments given at start, reused by Restart
	confFile string   // a config file given before the options (Sentinel)
	cmd      *exec.Cmd
	done     chan struct{}
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
	return StartWithConfig(tb, "", args...)
}

// StartWithConfig is Start with a config file, which redis-server reads before the options.
func StartWithConfig(tb testing.TB, confFile string, args ...string) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: Binary(tb), dir: tb.TempDir(), Port: FreePort(tb), Args: args, confFile: confFile}
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
	var args []string
	if s.confFile != "" {
		args = append(args, s.confFile)
	}
	args = append(args,
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--protected-mode", "no", "--daemonize", "no")
	args = append(args, s.Args...)
	cmd := exec.Command(s.bin, args...)
	DieWithParent(cmd)
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
			if !signalled && (strings.Contains(line, "Ready to accept connections") || strings.Contains(line, "Sentinel ID is")) {
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

// clusterPort finds a free port whose cluster bus port (port+10000) is free too.
func clusterPort(tb testing.TB) int {
	tb.Helper()
	for range 100 {
		p := FreePort(tb)
		if p+10000 > 65535 {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	tb.Fatal("no free port pair for a cluster node")
	return 0
}

// StartCluster runs an n-node Redis Cluster (masters only) on loopback and waits until it
// serves every slot. It returns the nodes' addresses.
func StartCluster(tb testing.TB, n int) []string {
	tb.Helper()
	cli := CLI(tb)
	var addrs []string
	for range n {
		s := &Server{tb: tb, bin: Binary(tb), dir: tb.TempDir(), Port: clusterPort(tb),
			Args: []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"}}
		s.start()
		tb.Cleanup(s.Stop)
		addrs = append(addrs, s.Addr())
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		for {
			out, err := exec.Command(cli, "-h", host, "-p", port, "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("cluster node %s not ok in 20s: %s %v", a, out, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}

// Sentinel is a master, its replica and one Sentinel watching them, all on loopback.
type Sentinel struct {
	tb       testing.TB
	Master   *Server
	Replica  *Server
	Addr     string // the Sentinel's address
	Name     string // the master's name
	sentinel *Server
}

// StartSentinel runs a master/replica pair and a Sentinel that monitors it as "mymaster".
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	master := Start(tb)
	replica := Start(tb, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	s := &Sentinel{tb: tb, Master: master, Replica: replica, Name: "mymaster"}
	dir := tb.TempDir()
	port := FreePort(tb)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\n",
		port, dir, s.Name, master.Port, s.Name, s.Name)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	// A sentinel is redis-server with a config file and --sentinel; start() adds the port
	// options, which agree with the file.
	sen := &Server{tb: tb, bin: Binary(tb), dir: dir, Port: port, Args: []string{"--sentinel"}}
	sen.confFile = conf
	sen.start()
	tb.Cleanup(sen.Stop)
	s.sentinel, s.Addr = sen, sen.Addr()
	s.waitReplicaSynced()
	return s
}

func (s *Sentinel) redisCLI(port int, args ...string) string {
	s.tb.Helper()
	out, err := exec.Command(CLI(s.tb), append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	if err != nil {
		s.tb.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *Sentinel) waitReplicaSynced() {
	s.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.redisCLI(s.Replica.Port, "info", "replication"), "master_link_status:up") ||
		!strings.Contains(s.redisCLI(s.sentinel.Port, "sentinel", "replicas", s.Name), strconv.Itoa(s.Replica.Port)) {
		if time.Now().After(deadline) {
			s.tb.Fatal("replica not synced, or not known to the sentinel, in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MasterPort is the port the Sentinel currently names as master.
func (s *Sentinel) MasterPort() string {
	out := strings.Fields(s.redisCLI(s.sentinel.Port, "sentinel", "get-master-addr-by-name", s.Name))
	if len(out) != 2 {
		s.tb.Fatalf("get-master-addr-by-name: %q", out)
	}
	return out[1]
}

// Failover makes the Sentinel promote the replica, and waits until it names the new master.
func (s *Sentinel) Failover() {
	s.tb.Helper()
	old := s.MasterPort()
	s.redisCLI(s.sentinel.Port, "sentinel", "failover", s.Name)
	deadline := time.Now().Add(20 * time.Second)
	for s.MasterPort() == old {
		if time.Now().After(deadline) {
			s.tb.Fatal("sentinel failover did not happen in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// the promoted replica accepts writes once it has left read-only replication
	for !strings.Contains(s.redisCLI(s.Replica.Port, "info", "replication"), "role:master") {
		if time.Now().After(deadline) {
			s.tb.Fatal("promoted replica is not master in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitFor polls cond until it holds, and fails the test after timeout; for state that has no
// event to await (the tests of a Redis-backed part often have none).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
