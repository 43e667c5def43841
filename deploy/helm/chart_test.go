package helm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// secretNames are the secrets the server is given, each only ever from a Secret: the
// upper-case keys under secrets in values.yaml.
func secretNames(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Secrets map[string]any `json:"secrets"`
	}
	if err := yaml.Unmarshal(b, &values); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range values.Secrets {
		if k == strings.ToUpper(k) {
			names = append(names, k)
		}
	}
	if len(names) < 4 {
		t.Fatalf("values.yaml names the secrets %v", names)
	}
	slices.Sort(names)
	return names
}

func TestChartLint(t *testing.T) {
	for _, values := range ciValues(t) {
		t.Run(filepath.Base(values), func(t *testing.T) {
			out, err := helm(t, "lint", "--strict", chartDir, "--kube-version", kubeVersion, "-f", values)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestChartRenders renders every ci values file, decodes every object strictly into its API
// type, and holds the result to the chart's promises.
func TestChartRenders(t *testing.T) {
	for _, values := range ciValues(t) {
		t.Run(filepath.Base(values), func(t *testing.T) {
			r := renderValues(t, "-f", values)
			checkNames(t, r)
			checkDrain(t, r)
			checkProbes(t, r)
			checkLockedDown(t, r)
			checkSelectors(t, r)
			checkSecrets(t, r)
			checkRedisReach(t, r)
			checkPublicRoutes(t, r)
			checkMonitoring(t, r)
			checkCoturn(t, r)
		})
	}
}

// checkDrain: terminationGracePeriodSeconds leaves room for the preStop pause and the whole
// drain, and a rolling update never takes a replica away before its replacement is ready.
func checkDrain(t *testing.T, r *rendered) {
	t.Helper()
	d, c := r.server(t)
	env := envOf(t, c)
	shutdown, err := time.ParseDuration(env["SHUTDOWN_TIMEOUT"].Value)
	if err != nil {
		t.Fatalf("SHUTDOWN_TIMEOUT %q: %v", env["SHUTDOWN_TIMEOUT"].Value, err)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil || c.Lifecycle.PreStop.Sleep.Seconds < 1 {
		t.Fatalf("preStop %+v: want a sleep of a few seconds (the image has no shell)", c.Lifecycle)
	}
	pause := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= pause+shutdown {
		t.Fatalf("terminationGracePeriodSeconds %s, want more than the pause %v + SHUTDOWN_TIMEOUT %v", ptrString(grace), pause, shutdown)
	}
	s := d.Spec.Strategy
	if s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil ||
		s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 0 || s.RollingUpdate.MaxSurge.IntValue() < 1 {
		t.Fatalf("strategy %+v: want a rolling update that surges and never goes below the replicas (users resume on the others)", s)
	}
	if len(r.hpas) > 0 && d.Spec.Replicas != nil {
		t.Fatal("with the autoscaler on the Deployment must not set replicas (every upgrade would reset the scale)")
	}
	if len(r.hpas) == 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas < 2) {
		t.Fatalf("replicas %v: want at least 2, so that a drained replica's users have somewhere to go", d.Spec.Replicas)
	}
	if env["INSTANCE_ID"].ValueFrom == nil || env["INSTANCE_ID"].ValueFrom.FieldRef == nil || env["INSTANCE_ID"].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Fatalf("INSTANCE_ID %+v: want the pod's name (downward API)", env["INSTANCE_ID"])
	}
	spread := map[string]bool{}
	for _, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
		if selects(t, c.LabelSelector, d.Spec.Template.Labels) {
			spread[c.TopologyKey] = true
		}
	}
	if !spread["kubernetes.io/hostname"] || !spread["topology.kubernetes.io/zone"] {
		t.Fatalf("topology spread over %v: want nodes and zones", spread)
	}
}

// checkProbes: the probes ask the paths the server answers, on the port it listens on.
func checkProbes(t *testing.T, r *rendered) {
	t.Helper()
	_, c := r.server(t)
	env := envOf(t, c)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	listen := func(name string) int32 {
		_, port, ok := strings.Cut(env[name].Value, ":")
		n, err := strconv.Atoi(port)
		if !ok || err != nil {
			t.Fatalf("%s=%q: want :<port>", name, env[name].Value)
		}
		return int32(n)
	}
	if ports["http"] != listen("ADDR") || ports["metrics"] != listen("METRICS_ADDR") {
		t.Fatalf("container ports %v, want http on ADDR %s and metrics on METRICS_ADDR %s", ports, env["ADDR"].Value, env["METRICS_ADDR"].Value)
	}
	if _, ok := env["MOD_ADDR"]; ok && ports["mod"] != listen("MOD_ADDR") {
		t.Fatalf("container ports %v, want mod on MOD_ADDR %s", ports, env["MOD_ADDR"].Value)
	}
	for name, want := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}, "startup": {c.StartupProbe, "/healthz"}} {
		p := want.probe
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want.path || p.HTTPGet.Port.String() != "http" {
			t.Fatalf("%s probe %+v: want GET %s on port http", name, p, want.path)
		}
	}
}

// checkLockedDown: every pod and container of the chart runs as non-root on a read-only root
// with no capabilities, under the runtime's seccomp profile, without the API's token.
func checkLockedDown(t *testing.T, r *rendered) {
	t.Helper()
	for _, d := range r.deployments {
		spec := d.Spec.Template.Spec
		ps := spec.SecurityContext
		if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser == 0 ||
			ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext %+v", d.Name, ps)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s mounts a service account token it never uses", d.Name)
		}
		if spec.HostPID || spec.HostIPC {
			t.Errorf("%s shares the host's process or IPC namespace", d.Name)
		}
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			s := c.SecurityContext
			if s == nil || s.RunAsNonRoot == nil || !*s.RunAsNonRoot || s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem ||
				s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation || (s.Privileged != nil && *s.Privileged) ||
				s.Capabilities == nil || !slices.Equal(s.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(s.Capabilities.Add) != 0 ||
				s.SeccompProfile == nil || s.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s/%s: container securityContext %+v", d.Name, c.Name, s)
			}
			if c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s has no memory limit", d.Name, c.Name)
			}
		}
		for _, v := range spec.Volumes {
			if v.HostPath != nil {
				t.Errorf("%s mounts the host's %s", d.Name, v.HostPath.Path)
			}
		}
	}
}

func selects(t *testing.T, s *metav1.LabelSelector, l map[string]string) bool {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		t.Fatalf("selector %+v: %v", s, err)
	}
	return !sel.Empty() && sel.Matches(labels.Set(l))
}

// checkSelectors: the budget, the autoscaler and the Services reach the server's pods, and
// only them.
func checkSelectors(t *testing.T, r *rendered) {
	t.Helper()
	d, c := r.server(t)
	if !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
		t.Fatal("the Deployment's selector does not select its own pods")
	}
	others := []*appsv1.Deployment{}
	for _, o := range r.deployments {
		if o != d {
			others = append(others, o)
		}
	}
	onlyServer := func(what string, s *metav1.LabelSelector) {
		if !selects(t, s, d.Spec.Template.Labels) {
			t.Errorf("%s does not select the server's pods", what)
		}
		for _, o := range others {
			if selects(t, s, o.Spec.Template.Labels) {
				t.Errorf("%s also selects %s's pods", what, o.Name)
			}
		}
	}
	if len(r.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(r.pdbs))
	}
	onlyServer("the PodDisruptionBudget", r.pdbs[0].Spec.Selector)
	for _, h := range r.hpas {
		ref := h.Spec.ScaleTargetRef
		if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
			t.Errorf("the autoscaler scales %+v, want the Deployment %s", ref, d.Name)
		}
		if *h.Spec.MinReplicas < 2 || h.Spec.Behavior == nil || h.Spec.Behavior.ScaleDown == nil {
			t.Errorf("the autoscaler: min %d, behaviour %+v: want at least 2 and a slow scale-down", *h.Spec.MinReplicas, h.Spec.Behavior)
		}
	}
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	for _, s := range r.services {
		if s.Labels["app.kubernetes.io/component"] == "redis" || s.Labels["app.kubernetes.io/component"] == "coturn" {
			continue
		}
		onlyServer("Service "+s.Name, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		for _, p := range s.Spec.Ports {
			if !ports[p.TargetPort.String()] {
				t.Errorf("Service %s targets port %s, which the server does not have", s.Name, p.TargetPort.String())
			}
		}
	}
}

// checkSecrets: every secret reaches the server from a Secret, never as a value, the Secret
// has every key asked of it, and the pods roll when it changes.
func checkSecrets(t *testing.T, r *rendered) {
	t.Helper()
	d, c := r.server(t)
	env := envOf(t, c)
	secrets := map[string]*corev1.Secret{}
	for _, s := range r.secrets {
		secrets[s.Name] = s
	}
	names := secretNames(t)
	for _, name := range names {
		e, ok := env[name]
		if !ok {
			continue
		}
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Fatalf("%s is not read from a Secret: %+v", name, e)
		}
		ref := e.ValueFrom.SecretKeyRef
		if s, rendered := secrets[ref.Name]; rendered {
			v, ok := s.Data[ref.Key]
			if !ok || len(v) < 16 || strings.Contains(string(v), "insecure-dev") {
				t.Fatalf("Secret %s key %s: %q", ref.Name, ref.Key, v)
			}
		}
	}
	if _, ok := env["BAN_SECRET"]; !ok {
		t.Fatal("BAN_SECRET is not set: every replica would hash addresses under its own random key")
	}
	for _, s := range r.secrets {
		want := sha256.Sum256([]byte(secretDataYAML(s)))
		if got := d.Spec.Template.Annotations["checksum/secrets"]; got != hex.EncodeToString(want[:]) {
			t.Fatalf("checksum/secrets %s is not the checksum of Secret %s's data", got, s.Name)
		}
	}
	for _, o := range r.deployments {
		for _, c := range o.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if slices.Contains(names, e.Name) && e.ValueFrom == nil {
					t.Fatalf("%s/%s has %s as a plain value", o.Name, c.Name, e.Name)
				}
			}
		}
	}
}

// secretDataYAML is the Secret's data as the chart's checksum reads it (Helm's toYaml of it).
func secretDataYAML(s *corev1.Secret) string {
	var lines []string
	for _, k := range sortedKeys(s.Data) {
		lines = append(lines, k+": "+base64.StdEncoding.EncodeToString(s.Data[k]))
	}
	return strings.Join(lines, "\n")
}

// checkRedisReach: with the trial Redis, the instances and nothing else may connect to it;
// with any Redis, the instances may leave for it and for DNS only.
func checkRedisReach(t *testing.T, r *rendered) {
	t.Helper()
	d, c := r.server(t)
	redis := r.deployment("redis")
	var serverPolicy, redisPolicy *networkingv1.NetworkPolicy
	for _, p := range r.policies {
		switch {
		case selects(t, &p.Spec.PodSelector, d.Spec.Template.Labels):
			serverPolicy = p
		case redis != nil && selects(t, &p.Spec.PodSelector, redis.Spec.Template.Labels):
			redisPolicy = p
		}
	}
	if serverPolicy == nil {
		t.Fatal("no NetworkPolicy for the server's pods")
	}
	if !slices.Contains(serverPolicy.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Fatal("the server's NetworkPolicy does not restrict egress")
	}
	allowed := map[int]bool{}
	for _, rule := range serverPolicy.Spec.Egress {
		dns := len(rule.To) == 0 && len(rule.Ports) > 0
		for _, p := range rule.Ports {
			dns = dns && p.Port.IntValue() == 53
		}
		if dns {
			continue
		}
		if len(rule.Ports) == 0 {
			t.Errorf("the server may leave on any port: %+v", rule)
		}
		for _, p := range rule.Ports {
			allowed[p.Port.IntValue()] = true
		}
		if redis != nil && (len(rule.To) != 1 || !selects(t, rule.To[0].PodSelector, redis.Spec.Template.Labels)) {
			t.Errorf("the server may leave for %+v, not only the trial Redis", rule)
		}
	}
	// and it may reach the Redis it is told to use
	for _, port := range redisPorts(t, envOf(t, c)) {
		if !allowed[port] {
			t.Errorf("the server's NetworkPolicy does not let it reach its Redis on port %d (allowed: %v)", port, allowed)
		}
	}
	if redis == nil {
		return
	}
	if redisPolicy == nil {
		t.Fatal("no NetworkPolicy for the trial Redis")
	}
	if len(redisPolicy.Spec.Ingress) != 1 || len(redisPolicy.Spec.Ingress[0].From) != 1 {
		t.Fatalf("Redis ingress %+v: want one rule from the instances", redisPolicy.Spec.Ingress)
	}
	from := redisPolicy.Spec.Ingress[0].From[0]
	if from.NamespaceSelector != nil || from.IPBlock != nil || from.PodSelector == nil || !selects(t, from.PodSelector, d.Spec.Template.Labels) {
		t.Fatalf("Redis is reachable from %+v, want the instances of this release only", from)
	}
	for _, o := range r.deployments {
		if o != d && selects(t, from.PodSelector, o.Spec.Template.Labels) {
			t.Fatalf("Redis is reachable from %s too", o.Name)
		}
	}
	if !slices.Contains(redisPolicy.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) || len(redisPolicy.Spec.Egress) != 0 {
		t.Fatalf("Redis may connect out: %+v", redisPolicy.Spec.Egress)
	}
	args := strings.Join(redis.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{`--save  --appendonly no`, "--requirepass $(REDIS_PASSWORD)", "--maxmemory-policy noeviction"} {
		if !strings.Contains(args, want) {
			t.Fatalf("redis args %q lack %q", args, want)
		}
	}
}

// checkPublicRoutes: the ingress routes the public port only; the metrics port is open to the
// monitoring namespaces only; the console's port to nobody unless enabled, and never through
// the public Service.
func checkPublicRoutes(t *testing.T, r *rendered) {
	t.Helper()
	d, c := r.server(t)
	env := envOf(t, c)
	for _, ing := range r.ingresses {
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				port := p.Backend.Service.Port.Name
				if port != "http" && !(port == "mod" && strings.HasSuffix(ing.Name, "-mod")) {
					t.Errorf("Ingress %s routes %s to port %s", ing.Name, p.Path, port)
				}
			}
		}
		if ing.Name == d.Name && env["TRUSTED_PROXIES"].Value == "" {
			t.Error("an Ingress without TRUSTED_PROXIES: every user would have the controller's address")
		}
	}
	for _, s := range r.services {
		for _, p := range s.Spec.Ports {
			if p.TargetPort.String() == "metrics" && s.Spec.Type != corev1.ServiceTypeClusterIP {
				t.Errorf("Service %s (%s) exposes the metrics port", s.Name, s.Spec.Type)
			}
			if p.TargetPort.String() == "mod" && (s.Spec.Type != corev1.ServiceTypeClusterIP || len(s.Spec.Ports) != 1) {
				t.Errorf("Service %s (%s) exposes the console beside other ports", s.Name, s.Spec.Type)
			}
		}
	}
	if _, ok := env["MOD_TOKEN"]; ok && env["MOD_ADDR"].Value == "" {
		t.Fatal("the console is on but on the public port: MOD_ADDR must give it its own")
	}
	for _, p := range r.policies {
		if !selects(t, &p.Spec.PodSelector, d.Spec.Template.Labels) {
			continue
		}
		for _, rule := range p.Spec.Ingress {
			for _, port := range rule.Ports {
				switch port.Port.String() {
				case "metrics":
					if len(rule.From) == 0 || rule.From[0].NamespaceSelector == nil || rule.From[0].IPBlock != nil {
						t.Errorf("the metrics port is open to %+v, want the monitoring namespaces only", rule.From)
					}
				case "mod":
					if len(rule.From) == 0 {
						t.Errorf("the console's port is open to everyone")
					}
				case "http":
				default:
					t.Errorf("the server's NetworkPolicy opens port %s", port.Port.String())
				}
			}
		}
	}
}

// checkMonitoring: the PrometheusRule's rules are deploy/prometheus/alerts.yml's, and the
// dashboard is deploy/grafana/dashboards/gomegle.json, byte for byte.
func checkMonitoring(t *testing.T, r *rendered) {
	t.Helper()
	for _, rule := range r.rules {
		if !reflect.DeepEqual(rule.Spec, shippedRules(t)) {
			got, _ := yaml.Marshal(rule.Spec)
			t.Fatalf("the PrometheusRule's rules are not deploy/prometheus/alerts.yml's:\n%s", got)
		}
	}
	for _, sm := range r.serviceMonitors {
		matched := false
		for _, s := range r.services {
			if selects(t, &sm.Spec.Selector, s.Labels) {
				matched = true
				if s.Labels[sm.Spec.JobLabel] != "gomegle" {
					t.Errorf("ServiceMonitor %s: the job label %q of Service %s is %q, want gomegle (the rules and dashboard select it)", sm.Name, sm.Spec.JobLabel, s.Name, s.Labels[sm.Spec.JobLabel])
				}
				if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != "metrics" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" {
					t.Errorf("ServiceMonitor %s scrapes %+v of Service %s, want its metrics port only", sm.Name, sm.Spec.Endpoints, s.Name)
				}
			}
		}
		if !matched {
			t.Errorf("ServiceMonitor %s selects no Service", sm.Name)
		}
	}
	for _, cm := range r.configMaps {
		if got, ok := cm.Data["gomegle.json"]; ok {
			want, err := os.ReadFile("../grafana/dashboards/gomegle.json")
			if err != nil {
				t.Fatal(err)
			}
			if got != strings.TrimSuffix(string(want), "\n") {
				t.Fatalf("ConfigMap %s is not deploy/grafana/dashboards/gomegle.json", cm.Name)
			}
			if cm.Labels["grafana_dashboard"] == "" {
				t.Errorf("ConfigMap %s lacks the Grafana sidecar's label", cm.Name)
			}
		}
	}
}

// shippedRules is deploy/prometheus/alerts.yml, decoded strictly as a PrometheusRule's spec.
func shippedRules(t *testing.T) monitoringv1.PrometheusRuleSpec {
	t.Helper()
	b, err := os.ReadFile("../prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := decodeStrict(b, &spec); err != nil {
		t.Fatalf("deploy/prometheus/alerts.yml as a PrometheusRule: %v", err)
	}
	if len(spec.Groups) == 0 || len(spec.Groups[0].Rules) == 0 {
		t.Fatal("deploy/prometheus/alerts.yml has no rules")
	}
	return spec
}

// checkCoturn: the chart's coturn refuses what the compose file's refuses (that list is
// tested against a real coturn in deploy_test.go), with no TCP relay, with quotas, and its
// network policy is a second wall around the same ranges.
func checkCoturn(t *testing.T, r *rendered) {
	t.Helper()
	d := r.deployment("coturn")
	if d == nil {
		return
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	denied := flagValues(args, "--denied-peer-ip")
	if want := composeCoturnDenied(t); !slices.Equal(denied, want) {
		t.Fatalf("the chart's coturn denies\n%v\nthe compose file's\n%v", denied, want)
	}
	for _, want := range []string{"--no-tcp-relay", "--no-multicast-peers", "--use-auth-secret", "--static-auth-secret=$(TURN_SECRET)", "--no-cli", "--fingerprint"} {
		if !slices.Contains(args, want) {
			t.Fatalf("coturn args lack %s: %v", want, args)
		}
	}
	for _, quota := range []string{"--user-quota", "--total-quota", "--max-bps"} {
		v := flagValues(args, quota)
		if n, err := strconv.Atoi(strings.Join(v, "")); len(v) != 1 || err != nil || n <= 0 {
			t.Fatalf("coturn %s %v: want a positive quota", quota, v)
		}
	}
	if len(flagValues(args, "--allowed-peer-ip")) != 0 {
		t.Fatal("the chart's coturn allows a private peer")
	}
	for _, p := range r.policies {
		if !selects(t, &p.Spec.PodSelector, d.Spec.Template.Labels) {
			continue
		}
		var except []netip.Prefix
		for _, rule := range p.Spec.Egress {
			for _, to := range rule.To {
				if to.IPBlock == nil {
					t.Fatalf("coturn may reach %+v", to)
				}
				for _, e := range to.IPBlock.Except {
					except = append(except, netip.MustParsePrefix(e))
				}
			}
		}
		for _, rng := range denied {
			from, to := parseRange(t, rng)
			if !slices.ContainsFunc(except, func(p netip.Prefix) bool { return p.Contains(from) && p.Contains(to) }) {
				t.Errorf("coturn's network policy lets it reach %s", rng)
			}
		}
		return
	}
	if !d.Spec.Template.Spec.HostNetwork {
		t.Fatal("no NetworkPolicy for coturn")
	}
}

// redisPorts are the ports of the Redis addresses in the server's environment.
func redisPorts(t *testing.T, env map[string]corev1.EnvVar) []int {
	t.Helper()
	var hosts []string
	if u, err := url.Parse(env["REDIS_URL"].Value); err == nil && u.Host != "" {
		hosts = append(hosts, u.Host)
	}
	for _, name := range []string{"REDIS_SENTINEL_ADDRS", "REDIS_CLUSTER_ADDRS"} {
		if v := env[name].Value; v != "" {
			hosts = append(hosts, strings.Split(v, ",")...)
		}
	}
	if len(hosts) == 0 {
		t.Fatal("the server is given no Redis")
	}
	var ports []int
	for _, h := range hosts {
		port := 6379
		if _, p, err := net.SplitHostPort(h); err == nil {
			if port, err = strconv.Atoi(p); err != nil {
				t.Fatalf("Redis address %q", h)
			}
		}
		ports = append(ports, port)
	}
	return ports
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func flagValues(args []string, name string) []string {
	var out []string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

func parseRange(t *testing.T, s string) (netip.Addr, netip.Addr) {
	t.Helper()
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		to = from
	}
	a, err1 := netip.ParseAddr(from)
	b, err2 := netip.ParseAddr(to)
	if err1 != nil || err2 != nil {
		t.Fatalf("peer range %q: %v %v", s, err1, err2)
	}
	return a, b
}

// composeCoturnDenied is the --denied-peer-ip list of docker-compose.yml's coturn.
func composeCoturnDenied(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command []string `json:"command"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	denied := flagValues(compose.Services["coturn"].Command, "--denied-peer-ip")
	if len(denied) < 20 {
		t.Fatalf("docker-compose.yml's coturn denies %v", denied)
	}
	return denied
}

// TestChartRefuses: a values file that would deploy something broken or unsafe does not
// render, and the message says what to set.
func TestChartRefuses(t *testing.T) {
	base := []string{"--set", "secrets.BAN_SECRET=0123456789abcdef0123", "--set", "secrets.REDIS_PASSWORD=0123456789abcdef0123", "--set", "redis.enabled=true"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no BAN_SECRET", []string{"--set", "redis.enabled=true", "--set", "secrets.REDIS_PASSWORD=0123456789abcdef0123"}, "secrets.BAN_SECRET is required"},
		{"no Redis password", []string{"--set", "redis.enabled=true", "--set", "secrets.BAN_SECRET=0123456789abcdef0123"}, "secrets.REDIS_PASSWORD is required"},
		{"coturn without TURN_SECRET", append(slices.Clone(base), "--set", "coturn.enabled=true", "--set", "coturn.host=t.example.com", "--set", "coturn.externalIP=203.0.113.1"), "secrets.TURN_SECRET is required"},
		{"TURN urls without TURN_SECRET", append(slices.Clone(base), "--set", "turn.urls={turn:t.example.com:3478}"), "secrets.TURN_SECRET is required"},
		{"console without MOD_TOKEN", append(slices.Clone(base), "--set", "moderation.enabled=true"), "secrets.MOD_TOKEN is required"},
		{"a short MOD_TOKEN", append(slices.Clone(base), "--set", "moderation.enabled=true", "--set", "secrets.MOD_TOKEN=short"), "at least 16 characters"},
		{"a development default", []string{"--set", "redis.enabled=true", "--set", "secrets.REDIS_PASSWORD=0123456789abcdef0123", "--set", "secrets.BAN_SECRET=insecure-dev-secret-set-BAN_SECRET"}, "development default"},
		{"no Redis", []string{"--set", "secrets.BAN_SECRET=0123456789abcdef0123", "--set", "externalRedis.auth=false"}, "set exactly one Redis"},
		{"two Redis", append(slices.Clone(base), "--set", "externalRedis.url=redis://r:6379/0"), "set exactly one Redis"},
		{"a password in the URL", []string{"--set", "secrets.BAN_SECRET=0123456789abcdef0123", "--set", "secrets.REDIS_PASSWORD=0123456789abcdef0123", "--set", "externalRedis.url=redis://:pw@r:6379/0"}, "without a password in it"},
		{"Sentinel without a master", []string{"--set", "secrets.BAN_SECRET=0123456789abcdef0123", "--set", "externalRedis.auth=false", "--set", "externalRedis.sentinel.addrs={s:26379}"}, "sentinel.master"},
		{"ingress without trusted proxies", append(slices.Clone(base), "--set", "ingress.enabled=true", "--set", "ingress.host=chat.example.com"), "ingress.enabled needs trustedProxies"},
		{"everyone trusted", append(slices.Clone(base), "--set", "trustedProxies={0.0.0.0/0}"), "every client's own claim"},
		{"a setting the chart owns in extraEnv", append(slices.Clone(base), "--set", "server.extraEnv.BAN_SECRET=x"), "the chart sets BAN_SECRET itself"},
		{"a proxy header the server does not know", append(slices.Clone(base), "--set", "forwardedHeader=x-real-ip"), "/forwardedHeader"},
		{"a misspelt value (values.schema.json)", append(slices.Clone(base), "--set", "ingres.enabled=true"), "additional properties 'ingres' not allowed"},
		{"a Service type Kubernetes does not have", append(slices.Clone(base), "--set", "service.type=Public"), "/service/type"},
		{"a port out of range", append(slices.Clone(base), "--set", "metrics.port=70000"), "/metrics/port"},
		{"no preStop pause", append(slices.Clone(base), "--set", "server.preStopSeconds=0"), "preStopSeconds must be at least 1"},
		{"one replica under the autoscaler", append(slices.Clone(base), "--set", "autoscaling.enabled=true", "--set", "autoscaling.minReplicas=1"), "minReplicas must be at least 2"},
		{"coturn without a public address", append(slices.Clone(base), "--set", "coturn.enabled=true", "--set", "coturn.host=t.example.com", "--set", "secrets.TURN_SECRET=0123456789abcdef0123"), "coturn.externalIP is required"},
		{"a console ingress open to all", append(slices.Clone(base), "--set", "moderation.enabled=true", "--set", "secrets.MOD_TOKEN=0123456789abcdef0123", "--set", "moderation.ingress.enabled=true", "--set", "moderation.ingress.host=mod.example.com"), "moderation.allowedFrom"},
		{"a bad digest", append(slices.Clone(base), "--set", "image.digest=latest"), "image.digest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := template(t, c.args...)
			if err == nil {
				t.Fatalf("rendered:\n%s", out)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\ndoes not say %q", err, c.want)
			}
		})
	}
	// and the base itself renders: each refusal above is the one setting it changes
	if _, err := template(t, base...); err != nil {
		t.Fatal(err)
	}
}

// TestChartNeverRendersADefaultSecret: with secrets.generate every needed secret is new and
// random in each fresh install, and the same release's Secret never holds a known value.
func TestChartNeverRendersADefaultSecret(t *testing.T) {
	args := []string{"--set", "secrets.generate=true", "--set", "redis.enabled=true", "--set", "moderation.enabled=true",
		"--set", "turn.urls={turn:t.example.com:3478}", "--show-only", "templates/secret.yaml"}
	seen := map[string]string{}
	for range 2 {
		r := renderValues(t, args...)
		if len(r.secrets) != 1 {
			t.Fatalf("%d Secrets", len(r.secrets))
		}
		for _, k := range secretNames(t) {
			v := string(r.secrets[0].Data[k])
			if len(v) < 32 {
				t.Fatalf("generated %s %q: want at least 32 random characters", k, v)
			}
			if seen[k] == v {
				t.Fatalf("two installs generated the same %s", k)
			}
			seen[k] = v
		}
	}
}

// TestPackagedChartCarriesTheLinkedFiles: helm package stores the contents of files/alerts.yml
// and files/gomegle.json (links to the one source of each), so a packaged chart installed
// from anywhere renders the same rules and dashboard.
func TestPackagedChartCarriesTheLinkedFiles(t *testing.T) {
	dir := t.TempDir()
	if out, err := helm(t, "package", chartDir, "-d", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	archives, err := filepath.Glob(filepath.Join(dir, "go-megle-*.tgz"))
	if err != nil || len(archives) != 1 {
		t.Fatalf("packaged %v (%v)", archives, err)
	}
	f, err := os.Open(archives[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"go-megle/files/alerts.yml": "../prometheus/alerts.yml", "go-megle/files/gomegle.json": "../grafana/dashboards/gomegle.json"}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		source, ok := want[h.Name]
		if !ok {
			continue
		}
		got, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		wantBytes, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || !bytes.Equal(got, wantBytes) {
			t.Fatalf("the package's %s (type %c) is not %s", h.Name, h.Typeflag, source)
		}
		delete(want, h.Name)
	}
	if len(want) != 0 {
		t.Fatalf("the package lacks %v", sortedKeys(want))
	}
	out, err := helm(t, "template", release, archives[0], "--kube-version", kubeVersion, "-f", filepath.Join(chartDir, "ci", "monitoring-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := decode(out)
	if err != nil {
		t.Fatal(err)
	}
	checkMonitoring(t, r)
	if len(r.rules) != 1 || len(r.configMaps) != 1 {
		t.Fatalf("the packaged chart rendered %d PrometheusRules and %d dashboards", len(r.rules), len(r.configMaps))
	}
}
