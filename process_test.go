package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/go-megle/go-megle/internal/redistest"
)

// The failure tests run the real binary as separate processes, so that a crash is a real
// SIGKILL and a rolling restart a real SIGTERM.

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// serverBinary builds the server once per test run.
func serverBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "go-megle-bin-")
		if binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "go-megle")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func removeServerBinary() {
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
}

// proc is one server process.
type proc struct {
	t      *testing.T
	id     InstanceID
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState
	mu     sync.Mutex
	log    bytes.Buffer
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func (p *proc) wsURL() string   { return "ws://" + p.addr + "/ws" }
func (p *proc) httpURL() string { return "http://" + p.addr }

// processEnv is the environment shared by a test's instances.
func processEnv(redisURL string, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"REDIS_URL=" + redisURL, "KEY_PREFIX={mm-" + strings.ToLower(newID()[:8]) + "}",
		"MAX_CONNS_PER_IP=0", "RATE_LIMIT=0", "LOG_LEVEL=warn", "WEB_DIR=/nonexistent",
	}, extra...)
}

// startProc runs an instance and waits until it is ready.
func startProc(t *testing.T, env []string) *proc {
	t.Helper()
	p := &proc{t: t, id: InstanceID("p-" + newID()[:8]), addr: fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)), exited: make(chan struct{})}
	p.cmd = exec.Command(serverBinary(t))
	redistest.DieWithParent(p.cmd)
	p.cmd.Env = append(append([]string{}, env...), "ADDR="+p.addr, "INSTANCE_ID="+string(p.id))
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait() //nolint:errcheck // the exit status is read from ProcessState
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			p.mu.Lock()
			t.Logf("instance %s log:\n%s", p.id, p.log.String())
			p.mu.Unlock()
		}
	})
	waitFor(t, 10*time.Second, "instance "+string(p.id)+" ready", func() bool { return p.ready() })
	return p
}

var probe = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func (p *proc) ready() bool {
	resp, err := probe.Get(p.httpURL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p *proc) notReady() bool {
	resp, err := probe.Get(p.httpURL() + "/readyz")
	if err != nil {
		return false // not answering at all is not "not ready"
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusServiceUnavailable
}

// metrics scrapes and parses the instance's /metrics.
func (p *proc) metrics() map[string]*dto.MetricFamily {
	p.t.Helper()
	return scrapeMetrics(p.t, p.httpURL()+"/metrics")
}

func scrapeMetrics(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := probe.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue sums a family's samples whose labels include want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *proc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.state.ExitCode()
	case <-time.After(timeout):
		p.t.Fatalf("instance %s did not exit within %v", p.id, timeout)
		return -1
	}
}

// expectWithin is expect with an explicit bound: the promise under test.
func (c *wsClient) expectWithin(d time.Duration, event string, out any) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, err := c.nextEvent(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("client %s: no %s within %v: %v", c.id(), event, d, err)
		}
		if ev.Event == event {
			if out != nil {
				if err := json.Unmarshal(ev.Data, out); err != nil {
					c.t.Fatal(err)
				}
			}
			return
		}
		c.t.Fatalf("client %s: got %s %s while waiting for %s", c.id(), ev.Event, ev.Data, event)
	}
}
