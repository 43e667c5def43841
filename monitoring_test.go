package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/go-megle/go-megle/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	promql "github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v4"
)

// The monitoring that deploy/ ships (Grafana dashboard, Prometheus config and alert rules)
// is held to the server's metrics here: every series they select exists in a fresh
// instance's scrape, the rules pass promtool and their unit tests, and the compose profile
// wires it all up.

const (
	dashboardFile  = "deploy/grafana/dashboards/gomegle.json"
	rulesFile      = "deploy/prometheus/alerts.yml"
	rulesTestFile  = "deploy/prometheus/alerts_test.yml"
	promConfigFile = "deploy/prometheus/prometheus.yml"
)

// prometheusOwn are names a query may use that no instance exports: Prometheus's own.
var prometheusOwn = []string{"up"}

// grafanaVariables are what Grafana puts in place of the dashboard's variables; the values
// only need to make valid PromQL (job and instance are target labels, not in a scrape).
var grafanaVariables = map[string]string{
	"$__rate_interval": "1m",
	"$job":             "gomegle",
	"$instance":        ".*",
}

// expandGrafana replaces the dashboard's variables; any other $ is an unknown variable.
func expandGrafana(expr string) (string, error) {
	keys := make([]string, 0, len(grafanaVariables))
	for k := range grafanaVariables {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) }) // $__rate_interval before shorter names
	for _, k := range keys {
		expr = strings.ReplaceAll(expr, k, grafanaVariables[k])
	}
	if strings.Contains(expr, "$") {
		return "", fmt.Errorf("unknown Grafana variable in %q (known: %v)", expr, keys)
	}
	return expr, nil
}

type dashboard struct {
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource dashSource `json:"datasource"`
			Definition string     `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type dashSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashPanel struct {
	Title      string      `json:"title"`
	Type       string      `json:"type"`
	Datasource *dashSource `json:"datasource"`
	Targets    []struct {
		Expr       string      `json:"expr"`
		Datasource *dashSource `json:"datasource"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"` // a collapsed row's
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels flattens the dashboard's panels, rows' panels included.
func allPanels(ps []dashPanel) []dashPanel {
	var out []dashPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readYAML(t *testing.T, file string, out any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// query is one PromQL expression of the shipped monitoring, and where it is.
type query struct{ where, expr string }

// shippedQueries are every expression of the dashboard (panel targets and variable queries)
// and of the alert rules.
func shippedQueries(t *testing.T) []query {
	t.Helper()
	var qs []query
	d := readDashboard(t)
	for _, p := range allPanels(d.Panels) {
		for i, tg := range p.Targets {
			expr, err := expandGrafana(tg.Expr)
			if err != nil {
				t.Fatalf("dashboard panel %q: %v", p.Title, err)
			}
			qs = append(qs, query{fmt.Sprintf("dashboard panel %q target %d", p.Title, i), expr})
		}
	}
	// Grafana's label_values(<selector>, <label>) holds a selector
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	for _, v := range d.Templating.List {
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Fatalf("dashboard variable %s: definition %q is not label_values(<selector>, <label>)", v.Name, v.Definition)
		}
		expr, err := expandGrafana(m[1])
		if err != nil {
			t.Fatalf("dashboard variable %s: %v", v.Name, err)
		}
		qs = append(qs, query{"dashboard variable " + v.Name, expr})
	}
	var rules ruleFile
	readYAML(t, rulesFile, &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			qs = append(qs, query{"rule " + r.Alert + r.Record, r.Expr})
		}
	}
	return qs
}

// selectors parses expr and returns its vector selectors.
func selectors(expr string) ([]*promql.VectorSelector, error) {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []*promql.VectorSelector
	promql.Inspect(e, func(n promql.Node, _ []promql.Node) error {
		if vs, ok := n.(*promql.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out, nil
}

// seriesFor finds the family a selector's name means in a scrape: the name itself, or the
// histogram whose _bucket, _sum or _count series it names.
func seriesFor(fams map[string]*dto.MetricFamily, name string) (*dto.MetricFamily, bool) {
	if f, ok := fams[name]; ok {
		return f, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f, ok := fams[base]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
				return f, true
			}
		}
	}
	return nil, false
}

// targetLabels are attached by Prometheus at scrape time (and le by the histogram's
// exposition), so they are not in a family's labels.
var targetLabels = []string{labels.MetricName, "job", "instance", "le"}

// matchesSomeSeries says whether one of the family's series has labels that all of the
// selector's matchers (other than target labels) accept.
func matchesSomeSeries(f *dto.MetricFamily, matchers []*labels.Matcher) bool {
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		ok := true
		for _, mt := range matchers {
			if !slices.Contains(targetLabels, mt.Name) && !mt.Matches(have[mt.Name]) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Every metric the dashboard and the rules name, with the label values they select, is in
// the scrape of a fresh instance, so no panel is empty and no rule waits on a series that
// never appears (a counter that appears only at its first increment hides that increment
// from rate()). The instance has done nothing but start: what it exports is what NewMetrics
// creates.
func TestMonitoringSelectsSeriesThatExist(t *testing.T) {
	_, url := startMiniredis(t)
	ti := startInstance(t, testConfig(t, url))
	// What main.go is to do (see Metrics.SetReadiness); a second call there only replaces it.
	ti.app.Metrics.SetReadiness(func() bool { ok, _ := ti.app.Hub.Ready(); return ok })
	fams := scrapeMetrics(t, ti.srv.URL+"/metrics")

	qs := shippedQueries(t)
	if len(qs) < 30 {
		t.Fatalf("%d queries in the dashboard and the rules: the files were not read as meant", len(qs))
	}
	named := map[string]bool{}
	for _, q := range qs {
		sels, err := selectors(q.expr)
		if err != nil {
			t.Errorf("%s: %q is not valid PromQL: %v", q.where, q.expr, err)
			continue
		}
		if len(sels) == 0 {
			t.Errorf("%s: %q selects no metric", q.where, q.expr)
		}
		for _, vs := range sels {
			name := vs.Name
			if name == "" {
				t.Errorf("%s: selector %s has no metric name", q.where, vs)
				continue
			}
			named[name] = true
			if slices.Contains(prometheusOwn, name) {
				continue
			}
			f, ok := seriesFor(fams, name)
			if !ok {
				t.Errorf("%s: metric %s is not in a fresh instance's /metrics", q.where, name)
				continue
			}
			if !matchesSomeSeries(f, vs.LabelMatchers) {
				t.Errorf("%s: %s selects no series of a fresh instance's %s (pre-create the label values in NewMetrics)", q.where, vs, f.GetName())
			}
		}
	}

	// and the dashboard shows what the operators asked for (issue 14)
	var dashNames []string
	for _, p := range allPanels(readDashboard(t).Panels) {
		for _, tg := range p.Targets {
			expr, _ := expandGrafana(tg.Expr)
			sels, _ := selectors(expr)
			for _, vs := range sels {
				dashNames = append(dashNames, vs.Name)
			}
		}
	}
	for _, want := range []string{
		"gomegle_clients_connected", "gomegle_users_waiting", "gomegle_matches_total", "gomegle_match_wait_seconds_bucket",
		"gomegle_messages_relayed_total", "gomegle_messages_dropped_total", "gomegle_redis_duration_seconds_bucket",
		"gomegle_redis_errors_total", "gomegle_disconnects_total", "gomegle_resumes_total", "gomegle_reconciled_total",
		"gomegle_calls_total", "gomegle_call_setup_seconds_bucket", "gomegle_reports_total", "gomegle_bans_total",
		"gomegle_banned_connections_total", "gomegle_ready",
	} {
		if !slices.Contains(dashNames, want) {
			t.Errorf("the dashboard has no panel over %s", want)
		}
	}
	if !named["up"] {
		t.Error("neither the dashboard nor the rules look at up: nothing shows a replica that is down")
	}
}

// The test above cannot pass vacuously: a name or a label value that a fresh instance does
// not export is reported.
func TestMonitoringSeriesCheckRejectsUnknownSeries(t *testing.T) {
	m := metrics.NewMetrics()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{`rate(gomegle_messages_dropped_total{reason="send_queue_full"}[5m])`, true},
		{`rate(gomegle_messages_dropped_total{reason="no_such_reason"}[5m])`, false},
		{`gomegle_calls_total{outcome="connected", candidate="relay"}`, true},
		{`gomegle_calls_total{outcome="connected", candidate="carrier-pigeon"}`, false},
		{`rate(gomegle_redis_duration_seconds_count{op="match"}[1m])`, true},
		{`rate(gomegle_match_wait_seconds_bucket{le="1"}[1m])`, true},
		{`gomegle_no_such_metric`, false},
		{`gomegle_clients_connected_bucket`, false}, // not a histogram
	} {
		sels, err := selectors(tc.expr)
		if err != nil || len(sels) != 1 {
			t.Fatalf("%q: %v %v", tc.expr, sels, err)
		}
		f, found := seriesFor(byName, sels[0].Name)
		got := found && matchesSomeSeries(f, sels[0].LabelMatchers)
		if got != tc.ok {
			t.Errorf("%q: exists %v, want %v", tc.expr, got, tc.ok)
		}
	}
}

// gomegle_ready follows the hub's readiness: 1 while ready, 0 once draining.
func TestReadinessGauge(t *testing.T) {
	_, url := startMiniredis(t)
	ti := startInstance(t, testConfig(t, url))
	ti.app.Metrics.SetReadiness(func() bool { ok, _ := ti.app.Hub.Ready(); return ok })
	ready := func() (float64, bool) {
		f, ok := scrapeMetrics(t, ti.srv.URL+"/metrics")["gomegle_ready"]
		if !ok || len(f.GetMetric()) != 1 {
			return 0, false
		}
		return f.GetMetric()[0].GetGauge().GetValue(), true
	}
	if v, ok := ready(); !ok || v != 1 {
		t.Fatalf("gomegle_ready of a ready instance: %v (present %v), want 1", v, ok)
	}
	ti.app.Metrics.SetReadiness(func() bool { ok, _ := ti.app.Hub.Ready(); return ok }) // again: replaces, no panic
	ti.app.Hub.Drain()
	if ok, why := ti.app.Hub.Ready(); ok {
		t.Fatalf("a draining hub is ready (%s)", why)
	}
	if v, ok := ready(); !ok || v != 0 {
		t.Fatalf("gomegle_ready of a draining instance: %v (present %v), want 0", v, ok)
	}
}

// metricNames maps each field of Metrics to its metric's name and variable labels.
func metricNames(t *testing.T, m *metrics.Metrics) map[string]struct {
	name   string
	labels []string
} {
	t.Helper()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	varLabels := regexp.MustCompile(`variableLabels: \{([^}]*)\}\}$`)
	out := map[string]struct {
		name   string
		labels []string
	}{}
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok {
			continue
		}
		if _, ok := c.(*prometheus.Registry); ok {
			continue
		}
		ch := make(chan *prometheus.Desc, 1)
		c.Describe(ch)
		desc := (<-ch).String()
		n := fqName.FindStringSubmatch(desc)
		if n == nil {
			t.Fatalf("field %s: cannot read the name from %s", v.Type().Field(i).Name, desc)
		}
		e := struct {
			name   string
			labels []string
		}{name: n[1]}
		if l := varLabels.FindStringSubmatch(desc); l != nil && l[1] != "" {
			e.labels = strings.Split(l[1], ",")
		}
		out[v.Type().Field(i).Name] = e
	}
	return out
}

// Every label value the server's code passes literally to a metric (WithLabelValues("..."),
// and the op of every Redis call) is pre-created by NewMetrics, so the series exists before
// its first increment. The code is read with go/parser, so a new drop reason or Redis
// operation that is not added to internal/metrics's lists fails here.
func TestMetricLabelValuesArePrecreated(t *testing.T) {
	m := metrics.NewMetrics()
	fields := metricNames(t, m)
	gathered, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exists := func(name string, lbls []string, values []string) bool {
		for _, f := range gathered {
			if f.GetName() != name {
				continue
			}
			for _, s := range f.GetMetric() {
				have := map[string]string{}
				for _, l := range s.GetLabel() {
					have[l.GetName()] = l.GetValue()
				}
				match := true
				for i, l := range lbls {
					match = match && have[l] == values[i]
				}
				if match {
					return true
				}
			}
		}
		return false
	}

	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	inner, err := filepath.Glob("internal/*/*.go") // the packages the server is made of
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, inner...)
	fset := token.NewFileSet()
	uses := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		literal := func(e ast.Expr) (string, bool) {
			b, ok := e.(*ast.BasicLit)
			if !ok || b.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(b.Value)
			return s, err == nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			check := func(field string, values []string) {
				uses++
				e, ok := fields[field]
				if !ok {
					t.Errorf("%s: %s is not a metric of Metrics", fset.Position(call.Pos()), field)
					return
				}
				if len(values) != len(e.labels) || !exists(e.name, e.labels, values) {
					t.Errorf("%s: %s%v is used but not pre-created in NewMetrics", fset.Position(call.Pos()), e.name, values)
				}
			}
			switch sel.Sel.Name {
			case "WithLabelValues":
				field, ok := sel.X.(*ast.SelectorExpr) // <x>.metrics.Dropped, m.Calls
				if !ok {
					return true
				}
				var values []string
				for _, a := range call.Args {
					s, ok := literal(a)
					if !ok {
						return true // computed values: covered by the lists in internal/metrics
					}
					values = append(values, s)
				}
				check(field.Sel.Name, values)
			case "call", "Call", "ObserveRedis": // the guarded Redis path's call(ctx, op, ...), Metrics.ObserveRedis(op, ...)
				for _, a := range call.Args {
					if op, ok := literal(a); ok {
						check("RedisErrors", []string{op})
						check("RedisDuration", []string{op})
						break
					}
				}
			}
			return true
		})
	}
	if uses < 20 {
		t.Fatalf("found %d literal label values in the server's code: the walk is broken", uses)
	}
}

// alertRules returns the alerting rules by name.
func alertRules(t *testing.T) map[string]struct{ expr, forDuration, severity, summary, description string } {
	t.Helper()
	var rules ruleFile
	readYAML(t, rulesFile, &rules)
	out := map[string]struct{ expr, forDuration, severity, summary, description string }{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if _, dup := out[r.Alert]; dup {
				t.Fatalf("alert %s defined twice", r.Alert)
			}
			out[r.Alert] = struct{ expr, forDuration, severity, summary, description string }{
				r.Expr, r.For, r.Labels["severity"], r.Annotations["summary"], r.Annotations["description"]}
		}
	}
	return out
}

// The rules issue 14 asks for are there, each with a severity, a summary, a description and
// a for: long enough that one bad scrape or a rolling deploy does not page anyone.
func TestAlertRulesShape(t *testing.T) {
	rules := alertRules(t)
	for _, want := range []string{"GoMegleInstanceDown", "GoMegleRedisErrors", "GoMegleNotReady", "GoMegleSendQueueDrops", "GoMegleCallFailures"} {
		if _, ok := rules[want]; !ok {
			t.Errorf("no alert %s in %s", want, rulesFile)
		}
	}
	for name, r := range rules {
		if r.severity != "warning" && r.severity != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", name, r.severity)
		}
		if strings.TrimSpace(r.summary) == "" || len(r.description) < 40 {
			t.Errorf("%s: needs a summary and a description that says what to look at", name)
		}
		d, err := time.ParseDuration(r.forDuration)
		if err != nil || d < time.Minute {
			t.Errorf("%s: for %q, want at least 1m", name, r.forDuration)
		}
	}
	if r := rules["GoMegleSendQueueDrops"]; !strings.Contains(r.expr, `reason="send_queue_full"`) {
		t.Errorf("GoMegleSendQueueDrops %q does not count send_queue_full drops", r.expr)
	}
	if r := rules["GoMegleCallFailures"]; !strings.Contains(r.expr, "[15m]") || !strings.Contains(r.expr, " and ") {
		t.Errorf("GoMegleCallFailures %q: want the failed share over 15m and a minimum count", r.expr)
	}
}

// requirePromtool returns Debian's promtool, or skips (fails under REQUIRE_PROMTOOL=1).
func requirePromtool(t *testing.T) string {
	t.Helper()
	return requireDaemon(t, "promtool", "PROMTOOL", "/usr/bin/promtool", "apt-get install --no-install-recommends prometheus", "REQUIRE_PROMTOOL")
}

func promtool(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The rules and the Prometheus config pass promtool's checks, and the rules pass their unit
// tests (alerts_test.yml: the instance-down, no-instance, not-ready and call-failure alerts
// fire on synthetic series, and not on a blip, on a replica that is up, or on too few or too
// rarely failing calls). The controls break one rule at a time and require the unit tests to
// fail: they can.
func TestPromtool(t *testing.T) {
	bin := requirePromtool(t)
	t.Run("check rules", func(t *testing.T) {
		if out, err := promtool(t, bin, ".", "check", "rules", rulesFile); err != nil {
			t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
		}
	})
	t.Run("check config", func(t *testing.T) {
		if out, err := promtool(t, bin, ".", "check", "config", promConfigFile); err != nil || !strings.Contains(out, "SUCCESS: 1 rule files found") {
			t.Fatalf("promtool check config %s: %v\n%s", promConfigFile, err, out)
		}
	})
	t.Run("test rules", func(t *testing.T) {
		if out, err := promtool(t, bin, ".", "test", "rules", rulesTestFile); err != nil {
			t.Fatalf("promtool test rules %s: %v\n%s", rulesTestFile, err, out)
		}
	})

	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, from, to, failing string }{
		{"call failures without the minimum count", ">= 20", ">= 0", "GoMegleCallFailures"},
		{"call failures at a 90 % threshold", ") > 0.2", ") > 0.9", "GoMegleCallFailures"},
		{"call failures per replica", `sum by (job) (increase(gomegle_calls_total{outcome="failed"}[15m]))`,
			`sum by (job, instance) (increase(gomegle_calls_total{outcome="failed"}[15m]))`, "GoMegleCallFailures"},
		{"instance down on the wrong value", `expr: up{job="gomegle"} == 0`, `expr: up{job="gomegle"} == 1`, "GoMegleInstanceDown"},
		{"instance down without for", "expr: up{job=\"gomegle\"} == 0\n        for: 1m", "expr: up{job=\"gomegle\"} == 0\n        for: 0m", "GoMegleInstanceDown"},
	} {
		t.Run("control: "+c.name, func(t *testing.T) {
			if n := strings.Count(string(rules), c.from); n != 1 {
				t.Fatalf("%s has %q %d times, want once: update this control", rulesFile, c.from, n)
			}
			dir := t.TempDir()
			broken := strings.Replace(string(rules), c.from, c.to, 1)
			if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), []byte(broken), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "alerts_test.yml"), tests, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := promtool(t, bin, dir, "test", "rules", "alerts_test.yml")
			if err == nil {
				t.Fatalf("the unit tests pass with a broken rule (%s):\n%s", c.name, out)
			}
			if !strings.Contains(out, "alertname: "+c.failing) {
				t.Fatalf("the unit tests failed, but not on %s:\n%s", c.failing, out)
			}
		})
	}
}

// ---- the compose file's monitoring profile ------------------------------------------------

// The monitoring services run only with --profile monitoring; without it the stack is the
// four services it was, with nothing of monitoring left over once compose drops what no
// running service uses.
func TestComposeMonitoringProfileIsOptIn(t *testing.T) {
	p := loadCompose(t)
	var names []string
	for name, s := range p.Services {
		names = append(names, name)
		if len(s.Profiles) != 0 {
			t.Errorf("default service %s has profiles %v", name, s.Profiles)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"app", "coturn", "lb", "redis", "secrets"}) {
		t.Errorf("default services %v, want app, coturn, lb, redis, secrets", names)
	}
	for _, name := range []string{"prometheus", "grafana"} {
		s, ok := p.DisabledServices[name]
		if !ok {
			t.Fatalf("no %s service in the compose file", name)
		}
		if !slices.Equal(s.Profiles, []string{"monitoring"}) {
			t.Errorf("%s profiles %v, want [monitoring]", name, s.Profiles)
		}
	}
	for name := range p.WithoutUnnecessaryResources().Networks {
		if name == "monitoring" {
			t.Error("the default stack keeps the monitoring network")
		}
	}
}

func loadComposeMonitoring(t *testing.T, env ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"}, cli.WithWorkingDirectory("."), cli.WithEnv(env),
		cli.WithInterpolation(true), cli.WithProfiles([]string{"monitoring"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("docker-compose.yml with --profile monitoring does not load: %v", err)
	}
	return p
}

// repoPath is a bind mount's source relative to the repository, or fails.
func repoPath(t *testing.T, source string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, source)
	if err != nil || strings.HasPrefix(rel, "..") {
		t.Fatalf("mount source %s is not in the repository", source)
	}
	return rel
}

// mounts returns a service's bind mounts, target -> repository path; each must be read-only
// and exist in the repository.
func mounts(t *testing.T, s types.ServiceConfig) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			t.Errorf("%s: volume %+v is not a bind mount of a file in this repository", s.Name, v)
			continue
		}
		if !v.ReadOnly {
			t.Errorf("%s: %s is mounted read-write", s.Name, v.Source)
		}
		rel := repoPath(t, v.Source)
		if _, err := os.Stat(rel); err != nil {
			t.Errorf("%s: mount source %s: %v", s.Name, rel, err)
		}
		out[v.Target] = rel
	}
	return out
}

// inside maps a path in the container to the repository file behind it.
func inside(mounts map[string]string, path string) (string, bool) {
	for target, src := range mounts {
		if rest, ok := strings.CutPrefix(path, target+"/"); ok {
			return filepath.Join(src, rest), true
		}
	}
	return "", false
}

func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

func sharedNetworks(a, b types.ServiceConfig) []string {
	var out []string
	for n := range a.Networks {
		if _, ok := b.Networks[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName     string `yaml:"job_name"`
		MetricsPath string `yaml:"metrics_path"`
		DNSSD       []struct {
			Names []string `yaml:"names"`
			Type  string   `yaml:"type"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

// With the profile: Prometheus finds every replica by the service's DNS name on a network
// it shares with them (never Redis's), reads the shipped config and rules; Grafana reaches
// only Prometheus, is provisioned from the repository's files (read-only) with the datasource
// the dashboard names, lets anonymous visitors view and nothing more, and calls nobody.
// Both UIs are on the host's loopback only.
func TestComposeMonitoringProfile(t *testing.T) {
	p := loadComposeMonitoring(t)
	prom, ok := p.Services["prometheus"]
	if !ok {
		t.Fatal("no prometheus service with --profile monitoring")
	}
	graf, ok := p.Services["grafana"]
	if !ok {
		t.Fatal("no grafana service with --profile monitoring")
	}
	app := p.Services["app"]

	t.Run("images are pinned", func(t *testing.T) {
		for _, s := range []types.ServiceConfig{prom, graf} {
			if _, tag, ok := strings.Cut(s.Image, ":"); !ok || tag == "latest" || tag == "" {
				t.Errorf("%s image %q: pin a version", s.Name, s.Image)
			}
		}
	})

	t.Run("networks: Prometheus reaches the replicas, Grafana only Prometheus, Redis neither", func(t *testing.T) {
		if len(sharedNetworks(prom, app)) == 0 {
			t.Errorf("prometheus (%v) shares no network with app (%v): it cannot scrape the replicas", prom.Networks, app.Networks)
		}
		for _, other := range []string{"redis", "coturn"} {
			if n := sharedNetworks(prom, p.Services[other]); len(n) != 0 {
				t.Errorf("prometheus shares %v with %s", n, other)
			}
		}
		if len(sharedNetworks(graf, prom)) == 0 {
			t.Error("grafana shares no network with prometheus")
		}
		for name, s := range p.Services {
			if name != "grafana" && name != "prometheus" {
				if n := sharedNetworks(graf, s); len(n) != 0 {
					t.Errorf("grafana shares %v with %s: it needs Prometheus only", n, name)
				}
			}
		}
	})

	t.Run("UIs on the host's loopback", func(t *testing.T) {
		for _, c := range []struct {
			s      types.ServiceConfig
			target uint32
		}{{prom, 9090}, {graf, 3000}} {
			if len(c.s.Ports) != 1 || c.s.Ports[0].Target != c.target || c.s.Ports[0].HostIP != "127.0.0.1" || c.s.Ports[0].Published != strconv.Itoa(int(c.target)) {
				t.Errorf("%s ports %+v, want 127.0.0.1:%d:%d", c.s.Name, c.s.Ports, c.target, c.target)
			}
		}
	})

	t.Run("Prometheus runs the shipped config and finds every replica by DNS", func(t *testing.T) {
		m := mounts(t, prom)
		cfgFile, ok := inside(m, flagValue(prom.Command, "--config.file"))
		if !ok || cfgFile != promConfigFile {
			t.Fatalf("prometheus --config.file=%q is %q from the repository, want %s (mounts %v)", flagValue(prom.Command, "--config.file"), cfgFile, promConfigFile, m)
		}
		var cfg promConfig
		readYAML(t, cfgFile, &cfg)
		if !slices.Contains(cfg.RuleFiles, filepath.Base(rulesFile)) {
			t.Errorf("rule_files %v does not load %s", cfg.RuleFiles, filepath.Base(rulesFile))
		}
		found := false
		for _, sc := range cfg.ScrapeConfigs {
			if sc.JobName != "gomegle" {
				continue
			}
			found = true
			if len(sc.DNSSD) != 1 || !slices.Equal(sc.DNSSD[0].Names, []string{"app"}) || sc.DNSSD[0].Type != "A" ||
				!slices.Contains(app.Expose, strconv.Itoa(sc.DNSSD[0].Port)) {
				t.Errorf("job gomegle discovers %+v, want dns_sd_configs names [app], type A, an exposed app port %v", sc.DNSSD, app.Expose)
			}
			if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
				t.Errorf("job gomegle scrapes %s", sc.MetricsPath)
			}
		}
		if !found {
			t.Error("no scrape job named gomegle (the rules and the dashboard select job=\"gomegle\")")
		}
	})

	t.Run("Grafana is provisioned from the repository", func(t *testing.T) {
		m := mounts(t, graf)
		provisioning, ok := m["/etc/grafana/provisioning"]
		if !ok {
			t.Fatalf("grafana mounts no /etc/grafana/provisioning: %v", m)
		}
		var ds struct {
			Datasources []struct {
				UID, Type, URL string
			} `yaml:"datasources"`
		}
		readYAML(t, filepath.Join(provisioning, "datasources", "prometheus.yml"), &ds)
		if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
			t.Fatalf("provisioned datasources %+v, want one prometheus", ds.Datasources)
		}
		if want := "http://prometheus:" + strconv.Itoa(int(prom.Ports[0].Target)); ds.Datasources[0].URL != want {
			t.Errorf("datasource url %q, want %q (the prometheus service)", ds.Datasources[0].URL, want)
		}
		uid := ds.Datasources[0].UID
		d := readDashboard(t)
		for _, panel := range allPanels(d.Panels) {
			if panel.Type == "row" {
				continue
			}
			if panel.Datasource == nil || panel.Datasource.UID != uid {
				t.Errorf("panel %q uses datasource %+v, not the provisioned %q", panel.Title, panel.Datasource, uid)
			}
			for _, tg := range panel.Targets {
				if tg.Datasource != nil && tg.Datasource.UID != uid {
					t.Errorf("panel %q target uses datasource %+v", panel.Title, tg.Datasource)
				}
			}
			if !slices.Contains([]string{"timeseries", "stat"}, panel.Type) {
				t.Errorf("panel %q is a %s: only Grafana's built-in timeseries and stat panels (no plugins)", panel.Title, panel.Type)
			}
		}
		var prov struct {
			Providers []struct {
				Type    string
				Options struct {
					Path string
				}
			} `yaml:"providers"`
		}
		readYAML(t, filepath.Join(provisioning, "dashboards", "gomegle.yml"), &prov)
		if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" {
			t.Fatalf("dashboard providers %+v, want one file provider", prov.Providers)
		}
		dir, ok := m[prov.Providers[0].Options.Path]
		if !ok || dir != filepath.Dir(dashboardFile) {
			t.Errorf("the provider loads %q, where %q is mounted, want %s", prov.Providers[0].Options.Path, dir, filepath.Dir(dashboardFile))
		}
		if home, ok := inside(m, env(graf, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")); !ok || home != dashboardFile {
			t.Errorf("home dashboard %q is %q, want %s", env(graf, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"), home, dashboardFile)
		}
	})

	t.Run("Grafana: anonymous viewers, an admin password from the environment, no phoning home", func(t *testing.T) {
		if env(graf, "GF_AUTH_ANONYMOUS_ENABLED") != "true" || env(graf, "GF_AUTH_ANONYMOUS_ORG_ROLE") != "Viewer" {
			t.Errorf("anonymous access %q as %q, want true as Viewer", env(graf, "GF_AUTH_ANONYMOUS_ENABLED"), env(graf, "GF_AUTH_ANONYMOUS_ORG_ROLE"))
		}
		if env(graf, "GF_USERS_ALLOW_SIGN_UP") != "false" {
			t.Error("Grafana allows sign-up")
		}
		if pw := env(graf, "GF_SECURITY_ADMIN_PASSWORD"); !strings.Contains(pw, "insecure") {
			t.Errorf("the default admin password %q is not labelled as the insecure development default", pw)
		}
		if pw := env(loadComposeMonitoring(t, "GRAFANA_ADMIN_PASSWORD=from-the-operator").Services["grafana"], "GF_SECURITY_ADMIN_PASSWORD"); pw != "from-the-operator" {
			t.Errorf("GRAFANA_ADMIN_PASSWORD=from-the-operator gives admin password %q", pw)
		}
		for name, want := range map[string]string{
			"GF_ANALYTICS_REPORTING_ENABLED":          "false",
			"GF_ANALYTICS_CHECK_FOR_UPDATES":          "false",
			"GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES":   "false",
			"GF_NEWS_NEWS_FEED_ENABLED":               "false",
			"GF_SECURITY_DISABLE_GRAVATAR":            "true",
			"GF_SNAPSHOTS_EXTERNAL_ENABLED":           "false",
			"GF_PLUGINS_PREINSTALL_DISABLED":          "true",
			"GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLE": "true",
		} {
			if got := env(graf, name); got != want {
				t.Errorf("grafana %s=%q, want %q", name, got, want)
			}
		}
		for name := range graf.Environment {
			if name == "GF_INSTALL_PLUGINS" || name == "GF_PLUGINS_PREINSTALL" {
				t.Errorf("grafana installs plugins (%s): the dashboard needs none", name)
			}
		}
	})
}
