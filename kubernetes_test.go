package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v4"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/wire"
)

// What the Helm chart (deploy/helm/go-megle) relies on, run for real. The chart's objects
// themselves are tested in their own module (deploy/helm), which keeps the Kubernetes types
// out of this one; here the chart is only rendered, and its Deployment read as far as a
// kubelet would to start the container.

const chartPath = "deploy/helm/go-megle"

func requireHelm(t *testing.T) string {
	t.Helper()
	return requireDaemon(t, "helm", "HELM", "/usr/local/bin/helm", "build it: go install helm.sh/helm/v3/cmd/helm@v3.22.1", "REQUIRE_HELM")
}

// renderedChart is what a kubelet reads of the chart's pods: each component's container
// (server, redis, coturn), the server's drain and probes, and the Secrets the containers'
// environments refer to.
type renderedChart struct {
	containers  map[string]renderedContainer // by app.kubernetes.io/component
	gracePeriod time.Duration                // the server's
	preStop     time.Duration
	readyPath   string
	livePath    string
	secrets     map[string]map[string]string // the rendered Secrets' data, by name
}

type renderedEnv struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
		SecretKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type renderedContainer struct {
	Name      string        `yaml:"name"`
	Env       []renderedEnv `yaml:"env"`
	EnvFrom   []any         `yaml:"envFrom"`
	Args      []string      `yaml:"args"`
	Command   []string      `yaml:"command"`
	Lifecycle struct {
		PreStop struct {
			Sleep struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	Readiness struct {
		HTTPGet struct {
			Path string `yaml:"path"`
		} `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
	Liveness struct {
		HTTPGet struct {
			Path string `yaml:"path"`
		} `yaml:"httpGet"`
	} `yaml:"livenessProbe"`
}

type renderedObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int                 `yaml:"terminationGracePeriodSeconds"`
				Containers                    []renderedContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// renderChart runs helm template with the given --set values and reads the pods.
func renderChart(t *testing.T, set ...string) renderedChart {
	t.Helper()
	args := []string{"template", "rel", chartPath, "--kube-version", "1.30.0"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(requireHelm(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	chart := renderedChart{containers: map[string]renderedContainer{}, secrets: map[string]map[string]string{}}
	dec := yaml.NewDecoder(&stdout)
	for {
		var o renderedObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered chart: %v", err)
		}
		switch o.Kind {
		case "Secret":
			data := map[string]string{}
			for k, v := range o.Data {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					t.Fatalf("Secret data %s: %v", k, err)
				}
				data[k] = string(b)
			}
			chart.secrets[o.Metadata.Name] = data
		case "Deployment":
			spec := o.Spec.Template.Spec
			component := o.Metadata.Labels["app.kubernetes.io/component"]
			if len(spec.Containers) != 1 || len(spec.Containers[0].EnvFrom) != 0 {
				t.Fatalf("the %s pod: %d containers, envFrom: read them here too", component, len(spec.Containers))
			}
			c := spec.Containers[0]
			chart.containers[component] = c
			if component != "server" {
				continue
			}
			if len(c.Args) != 0 || len(c.Command) != 0 {
				t.Fatalf("the server container has args %v, command %v: run them here too", c.Args, c.Command)
			}
			chart.gracePeriod = time.Duration(spec.TerminationGracePeriodSeconds) * time.Second
			chart.preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
			if chart.preStop <= 0 || chart.gracePeriod <= chart.preStop {
				t.Fatalf("preStop pause %v, grace period %v", chart.preStop, chart.gracePeriod)
			}
			chart.readyPath, chart.livePath = c.Readiness.HTTPGet.Path, c.Liveness.HTTPGet.Path
		}
	}
	if _, ok := chart.containers["server"]; !ok {
		t.Fatal("the chart rendered no server Deployment")
	}
	return chart
}

// environment is what the kubelet would give a component's container in the pod named
// podName: every value, the pod's name for the downward API, each secret from the rendered
// Secret. Anything else it cannot resolve fails the test rather than being left out.
func (r renderedChart) environment(t *testing.T, component, podName string) []string {
	t.Helper()
	var env []string
	for _, e := range r.containers[component].Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env = append(env, e.Name+"="+podName)
		case e.ValueFrom.SecretKeyRef != nil:
			v, ok := r.secrets[e.ValueFrom.SecretKeyRef.Name][e.ValueFrom.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("%s: the rendered Secrets have no %s/%s", e.Name, e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
			}
			env = append(env, e.Name+"="+v)
		default:
			t.Fatalf("%s: a source this test cannot resolve: %+v", e.Name, e.ValueFrom)
		}
	}
	return env
}

// args are a component's arguments with $(NAME) replaced from its environment, as the
// kubelet does.
func (r renderedChart) args(t *testing.T, component string) []string {
	t.Helper()
	env := r.environment(t, component, "rel-"+component)
	var out []string
	for _, a := range r.containers[component].Args {
		for _, kv := range env {
			name, value, _ := strings.Cut(kv, "=")
			a = strings.ReplaceAll(a, "$("+name+")", value)
		}
		if strings.Contains(a, "$(") {
			t.Fatalf("%s argument %q names a variable its container does not have", component, a)
		}
		out = append(out, a)
	}
	return out
}

// TestChartRollingUpdate: two server processes started with exactly the environment the
// chart's Deployment renders for an external Redis (a real redis-server with the rendered
// password), except the addresses they listen on (two pods have a network each; two processes
// here share one), and one of them SIGTERMed while pairs talk, as a rolling update does after
// the preStop pause: the pairs resume on the other, and the process is gone well within the
// pod's grace period.
func TestChartRollingUpdate(t *testing.T) {
	requireHelm(t)
	password, banSecret := strings.ToLower(wire.NewID()), wire.NewID()+wire.NewID()
	rs := redistest.Start(t, "--requirepass", password)
	chart := renderChart(t, "externalRedis.url="+rs.URL(), "secrets.REDIS_PASSWORD="+password, "secrets.BAN_SECRET="+banSecret)
	server := chart.containers["server"]

	// every variable the chart sets is one the server reads (an unknown one would be ignored
	// without a word)
	usage, err := exec.Command(serverBinary(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("go-megle -h: %v\n%s", err, usage)
	}
	for _, e := range server.Env {
		if !strings.Contains(string(usage), "["+e.Name+"]") {
			t.Fatalf("the chart sets %s, which the server does not read", e.Name)
		}
	}

	start := func(podName string) *proc {
		env := append(chart.environment(t, "server", podName), fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", redistest.FreePort(t)))
		if envValue(env, "REDIS_PASSWORD") != password || envValue(env, "BAN_SECRET") != banSecret || envValue(env, "INSTANCE_ID") != podName {
			t.Fatalf("the rendered environment lost the secrets or the pod name: %v", varNames(env))
		}
		return startProc(t, env)
	}
	a, b := start("rel-go-megle-7d9c5b8f4-x2x9k"), start("rel-go-megle-7d9c5b8f4-q8h2m")
	for _, path := range []string{chart.readyPath, chart.livePath} {
		if code := httpStatus(t, a.httpURL()+path); code != http.StatusOK {
			t.Fatalf("the probe's %s answers %d", path, code)
		}
	}

	// with the chart's settings the proof of work is on: each search carries its solution
	x, y := dial(t, a.wsURL(), nil), dial(t, b.wsURL(), nil) // a pair across the two pods
	mxy := powPair(t, x, y)
	p, q := dial(t, a.wsURL(), nil), dial(t, a.wsURL(), nil) // a pair both on the pod that goes
	mpq := powPair(t, p, q)

	a.signal(syscall.SIGTERM)
	terminated := time.Now()
	drain := chart.gracePeriod - chart.preStop // what is left of the grace period after the pause
	for _, c := range []*wsClient{x, p, q} {
		ev, err := c.nextEvent(drain)
		if err != nil || ev.Event != "close" || string(ev.Data) != fmt.Sprint(websocket.CloseServiceRestart) {
			t.Fatalf("client on the terminated pod got %v %v, want close 1012", ev, err)
		}
	}
	if code := a.waitExit(drain); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	t.Logf("drained and exited %v after SIGTERM (the grace period leaves %v after the %v pause)",
		time.Since(terminated).Round(time.Millisecond), drain, chart.preStop)

	// the Service sends them to the pod that is left, where they resume
	resume := func(old *wsClient, m wire.MatchFoundData, partner *wsClient) *wsClient {
		r := dial(t, b.wsURL()+"?resume="+old.hello.ResumeToken, nil)
		if !r.hello.Resumed || r.id() != old.id() || r.hello.Match == nil || r.hello.Match.PartnerID != partner.id() || r.hello.Match.MatchID != m.MatchID {
			t.Fatalf("resume of %s: %+v", old.id(), r.hello)
		}
		return r
	}
	x2, p2 := resume(x, mxy, y), resume(p, mpq, q)
	q2 := resume(q, mpq, p)
	checkNextIsMarker(t, []*wsClient{x2, p2}, []*wsClient{y, q2})
}

// TestChartRedis: the chart's trial Redis, its arguments run in a real redis-server (with the
// password the kubelet would put in them, and the test's port and directory in place of the
// pod's): it refuses a client without the password, keeps nothing on disk, and never evicts.
func TestChartRedis(t *testing.T) {
	password := strings.ToLower(wire.NewID())
	chart := renderChart(t, "redis.enabled=true", "secrets.REDIS_PASSWORD="+password, "secrets.BAN_SECRET="+wire.NewID()+wire.NewID())
	var args []string
	rendered := chart.args(t, "redis")
	for i := 0; i < len(rendered); i++ {
		if rendered[i] == "--dir" { // the pod's emptyDir; the test's own directory instead
			i++
			continue
		}
		args = append(args, rendered[i])
	}
	rs := redistest.Start(t, args...)
	ctx := t.Context()
	if err := rdbFor(t, rs.URL()).Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("a client without the password: %v, want NOAUTH", err)
	}
	rdb := rdbFor(t, "redis://:"+password+"@"+rs.Addr()+"/0")
	for key, want := range map[string]string{"save": "", "appendonly": "no", "maxmemory-policy": "noeviction", "maxmemory": strconv.Itoa(200 << 20)} {
		got, err := rdb.ConfigGet(ctx, key).Result()
		if err != nil || got[key] != want {
			t.Fatalf("CONFIG GET %s: %v %v, want %q", key, got, err, want)
		}
	}
}

// TestChartCoturnRefusesPrivatePeers: the chart's coturn arguments (with the kubelet's secret,
// on its own addresses: hostNetwork) run in Debian's coturn, through the same checks as the
// compose file's: private, loopback, link-local and IPv4-embedding IPv6 peers refused, public
// ones granted, no TCP relay; and its quota flags are ones coturn takes.
func TestChartCoturnRefusesPrivatePeers(t *testing.T) {
	chart := renderChart(t, "coturn.enabled=true", "coturn.hostNetwork=true", "coturn.host=turn.example.com",
		"redis.enabled=true", "secrets.REDIS_PASSWORD="+wire.NewID(), "secrets.BAN_SECRET="+wire.NewID()+wire.NewID(), "secrets.TURN_SECRET="+wire.NewID()+wire.NewID())
	var args []string
	for _, a := range chart.args(t, "coturn") {
		if !strings.HasPrefix(a, "--pidfile=") { // the pod's /tmp; the loopback adapter puts it in the test's directory
			args = append(args, a)
		}
	}
	for _, quota := range []string{"--user-quota", "--total-quota", "--max-bps"} {
		if len(flagValues(t, args, quota)) != 1 {
			t.Fatalf("the chart's coturn has no %s", quota)
		}
	}
	bin := requireTURNServer(t)
	ipv6 := loopbackIPv6(t)
	secret := wire.NewID() + wire.NewID()
	checkTURNRefusesPrivatePeers(t, startTURNCommand(t, bin, args, "", secret, secret, ipv6), args, ipv6)
}

// powPair pairs two clients that each prove the work their hello asked for.
func powPair(t *testing.T, a, b *wsClient) wire.MatchFoundData {
	t.Helper()
	if a.hello.Pow == nil || b.hello.Pow == nil {
		t.Fatal("hello has no proof-of-work challenge: the chart's settings should keep the gate on")
	}
	a.send(wire.EvFindMatch, map[string]any{"pow": solve(t, a.hello.Pow)})
	a.expect(wire.EvWaiting, nil)
	b.send(wire.EvFindMatch, map[string]any{"pow": solve(t, b.hello.Pow)})
	var ma, mb wire.MatchFoundData
	b.expect(wire.EvMatchFound, &mb)
	a.expect(wire.EvMatchFound, &ma)
	if ma.PartnerID != b.id() || mb.PartnerID != a.id() || ma.MatchID != mb.MatchID {
		t.Fatalf("bad pairing: %+v / %+v", ma, mb)
	}
	return ma
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := probe.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// varNames lists an environment's names without its values (some are secrets).
func varNames(env []string) []string {
	var names []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return names
}

// TestModeratorConsoleOnItsOwnListener: with MOD_ADDR the console answers on its own
// listener only, so that a route to the public port (an Ingress, a LoadBalancer) never
// reaches it, and the network policy can close its port.
func TestModeratorConsoleOnItsOwnListener(t *testing.T) {
	_, url := startMiniredis(t)
	inst := startInstance(t, testConfig(t, url, func(c *Config) {
		c.ModToken, c.ModAddr = "a-moderator-token-0123", "127.0.0.1:0"
	}))
	mod := httptest.NewServer(inst.app.Server.ModHandler())
	t.Cleanup(mod.Close)
	get := func(base, path string) int {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer a-moderator-token-0123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/mod/api/reports?status=open", "/mod/api/bans", "/mod", "/mod/"} {
		if code := get(inst.srv.URL, path); code != http.StatusNotFound {
			t.Errorf("the public listener answers %s with %d, want 404", path, code)
		}
	}
	for _, path := range []string{"/mod/api/reports?status=open", "/mod/api/bans"} {
		if code := get(mod.URL, path); code != http.StatusOK {
			t.Errorf("the console's listener answers %s with %d, want 200", path, code)
		}
	}
	if code := get(mod.URL, "/ws"); code == http.StatusSwitchingProtocols || code == http.StatusBadRequest {
		t.Errorf("the console's listener serves the WebSocket (%d)", code)
	}
	if _, err := LoadConfig(nil, envOf(map[string]string{"MOD_ADDR": ":8081"}), io.Discard); err == nil || !strings.Contains(err.Error(), "MOD_ADDR needs MOD_TOKEN") {
		t.Fatalf("MOD_ADDR without MOD_TOKEN: %v", err)
	}
}

// TestRedisPasswordSetting: REDIS_PASSWORD reaches a password-protected redis-server in URL
// mode (replacing none in the URL), and is handed to the Cluster and Sentinel clients.
func TestRedisPasswordSetting(t *testing.T) {
	password := strings.ToLower(wire.NewID())
	rs := redistest.Start(t, "--requirepass", password)
	for _, pw := range []string{"", "wrong-" + password} {
		app, err := NewApp(t.Context(), testConfig(t, rs.URL(), func(c *Config) { c.RedisPassword = pw }), discardLogger())
		if err == nil {
			app.Close()
			t.Fatalf("started against a password-protected Redis with password %q", pw)
		}
	}
	inst := startInstance(t, testConfig(t, rs.URL(), func(c *Config) { c.RedisPassword = password }))
	waitFor(t, 10*time.Second, "ready with REDIS_PASSWORD", func() bool { ok, _ := inst.app.Hub.Ready(); return ok })

	for name, set := range map[string]func(*Config){
		"cluster":  func(c *Config) { c.RedisClusterAddrs = []string{"127.0.0.1:1"} },
		"sentinel": func(c *Config) { c.RedisSentinelAddrs, c.RedisSentinelMaster = []string{"127.0.0.1:1"}, "m" },
	} {
		cfg := testConfig(t, "", set, func(c *Config) { c.RedisPassword = password })
		rdb, stop, err := store.OpenRedis(t.Context(), cfg.redis(), discardLogger())
		if err != nil {
			t.Fatal(err)
		}
		if got := redisOptionsPassword(rdb); got != password {
			t.Errorf("%s client has password %q", name, got)
		}
		stop()
	}
}

func redisOptionsPassword(rdb redis.UniversalClient) string {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.Options().Password
	case *redis.Client: // a single node, or Sentinel's failover client
		return c.Options().Password
	}
	return fmt.Sprintf("(a %T)", rdb)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
