// Package helm tests the chart in go-megle/ without a cluster: helm lint and helm template
// for every values file in go-megle/ci, every rendered object decoded strictly into the
// Kubernetes API types, and the chart's promises as assertions. A module of its own, so that
// the server's module carries no Kubernetes dependencies.
package helm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	chartDir = "go-megle"
	release  = "rel"
	// the namespace every test renders into
	namespace = "chat"
	// the oldest Kubernetes the chart supports (Chart.yaml's kubeVersion): preStop's sleep
	kubeVersion = "1.30.0"
)

// helmBinary is $HELM, or helm on PATH. Missing, the test is skipped with a message saying
// so, unless REQUIRE_HELM=1 (CI sets it), when it fails.
func helmBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HELM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	msg := "helm not found on PATH (.ci/run builds it: go install helm.sh/helm/v3/cmd/helm@<the pinned version>; or set HELM)"
	if os.Getenv("REQUIRE_HELM") == "1" {
		t.Fatalf("REQUIRE_HELM=1 but %s", msg)
	}
	t.Skipf("skipping: %s; set REQUIRE_HELM=1 to make this a failure", msg)
	return ""
}

// helm runs helm and returns its standard output; the error carries its standard error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return helmWithEnv(t, nil, args...)
}

// helmWithEnv runs helm with more environment variables.
func helmWithEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// template renders the chart as release "rel" in namespace "chat".
func template(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return helm(t, append([]string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion}, args...)...)
}

// ciValues lists the chart-testing values files: each one a way the chart is installed.
func ciValues(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) < 7 {
		t.Fatalf("ci values files %v (%v): want the seven of the README", files, err)
	}
	return files
}

// rendered is one render of the chart, every object decoded into its API type.
type rendered struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	secrets         []*corev1.Secret
	configMaps      []*corev1.ConfigMap
	ingresses       []*networkingv1.Ingress
	policies        []*networkingv1.NetworkPolicy
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
	all             []metav1.Object
}

// decodeStrict decodes YAML into out, refusing unknown and duplicate fields: a field the API
// does not know would be dropped by the API server without a word (a misspelt securityContext
// is no securityContext).
func decodeStrict(doc []byte, out any) error {
	return yaml.UnmarshalStrict(doc, out)
}

// decode splits a rendered stream into its documents and decodes each strictly into the type
// its apiVersion and kind name; a kind the chart is not known to render is an error.
func decode(manifest string) (*rendered, error) {
	r := &rendered{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("split: %w", err)
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("type of %s: %w", doc, err)
		}
		if meta.Kind == "" {
			if strings.TrimSpace(stripComments(string(doc))) != "" {
				return nil, fmt.Errorf("a document without a kind:\n%s", doc)
			}
			continue
		}
		obj, err := r.add(meta)
		if err != nil {
			return nil, err
		}
		if err := decodeStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", meta.Kind, err, doc)
		}
		r.all = append(r.all, obj.(metav1.Object))
	}
	return r, nil
}

// add makes the typed object for an apiVersion and kind, and files it.
func (r *rendered) add(meta metav1.TypeMeta) (any, error) {
	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 Deployment":
		return filed(&r.deployments), nil
	case "v1 Service":
		return filed(&r.services), nil
	case "v1 Secret":
		return filed(&r.secrets), nil
	case "v1 ConfigMap":
		return filed(&r.configMaps), nil
	case "networking.k8s.io/v1 Ingress":
		return filed(&r.ingresses), nil
	case "networking.k8s.io/v1 NetworkPolicy":
		return filed(&r.policies), nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return filed(&r.hpas), nil
	case "policy/v1 PodDisruptionBudget":
		return filed(&r.pdbs), nil
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return filed(&r.serviceMonitors), nil
	case "monitoring.coreos.com/v1 PrometheusRule":
		return filed(&r.rules), nil
	}
	return nil, fmt.Errorf("the chart rendered %s %s, which this test does not know: add it to rendered.add", meta.APIVersion, meta.Kind)
}

// filed appends a new object to a list and returns it, to be decoded into.
func filed[T any](list *[]*T) *T {
	o := new(T)
	*list = append(*list, o)
	return o
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// renderValues renders with a values file (and more arguments) and decodes the result.
func renderValues(t *testing.T, args ...string) *rendered {
	t.Helper()
	out, err := template(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decode(out)
	if err != nil {
		t.Fatalf("rendered with %v: %v", args, err)
	}
	return r
}

// deployment returns the Deployment of one component (server, redis, coturn), or nil.
func (r *rendered) deployment(component string) *appsv1.Deployment {
	for _, d := range r.deployments {
		if d.Spec.Template.Labels["app.kubernetes.io/component"] == component {
			return d
		}
	}
	return nil
}

func (r *rendered) server(t *testing.T) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	d := r.deployment("server")
	if d == nil {
		t.Fatal("no server Deployment")
	}
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == "server" {
			return d, c
		}
	}
	t.Fatal("the server Deployment has no container named server")
	return nil, nil
}

// envOf is a container's environment by name (each name once: a second one would be ignored
// by whoever reads the first).
func envOf(t *testing.T, c *corev1.Container) map[string]corev1.EnvVar {
	t.Helper()
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Fatalf("container %s sets %s twice", c.Name, e.Name)
		}
		env[e.Name] = e
	}
	return env
}

// checkNames holds every object's name and labels to what the API server accepts (helm
// template does not: a Service name over 63 characters renders and fails at install).
func checkNames(t *testing.T, r *rendered) {
	t.Helper()
	seen := map[string]bool{}
	for _, o := range r.all {
		kind := fmt.Sprintf("%T", o)
		if o.GetNamespace() != "" && o.GetNamespace() != namespace {
			t.Errorf("%s %s is put in namespace %s", kind, o.GetName(), o.GetNamespace())
		}
		check := validation.IsDNS1123Subdomain
		if _, ok := o.(*corev1.Service); ok {
			check = validation.IsDNS1035Label
		}
		for _, msg := range check(o.GetName()) {
			t.Errorf("%s name %q: %s", kind, o.GetName(), msg)
		}
		if seen[kind+"/"+o.GetName()] {
			t.Errorf("two %s named %s", kind, o.GetName())
		}
		seen[kind+"/"+o.GetName()] = true
		for k, v := range o.GetLabels() {
			for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
				t.Errorf("%s %s label %s=%s: %s", kind, o.GetName(), k, v, msg)
			}
		}
	}
}

// sortedKeys is for messages that do not change from run to run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
