package helm

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeCluster is as much of a Kubernetes API server as helm's lookup asks of one: the core
// group's resources and GET of a Secret. It is the cluster between installs and upgrades, so
// that "generated once and kept" is tested without one. Anything else it is asked is a test
// failure: rendering must never write.
type fakeCluster struct {
	t       *testing.T
	mu      sync.Mutex
	secrets map[string]*corev1.Secret
	srv     *httptest.Server
}

func newFakeCluster(t *testing.T) *fakeCluster {
	f := &fakeCluster{t: t, secrets: map[string]*corev1.Secret{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCluster) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	reply := func(code int, v any) {
		w.WriteHeader(code)
		if err := json.NewEncoder(w).Encode(v); err != nil {
			f.t.Errorf("fake API server: %v", err)
		}
	}
	notFound := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound}
	if r.Method != http.MethodGet {
		f.t.Errorf("rendering asked the cluster to %s %s", r.Method, r.URL.Path)
		reply(http.StatusMethodNotAllowed, notFound)
		return
	}
	switch name, isSecret := strings.CutPrefix(r.URL.Path, "/api/v1/namespaces/"+namespace+"/secrets/"); {
	case r.URL.Path == "/api/v1":
		reply(http.StatusOK, metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "v1",
			APIResources: []metav1.APIResource{{Name: "secrets", SingularName: "secret", Namespaced: true, Kind: "Secret", Verbs: []string{"get", "list"}}}})
	case isSecret:
		f.mu.Lock()
		s, ok := f.secrets[name]
		f.mu.Unlock()
		if !ok {
			reply(http.StatusNotFound, notFound)
			return
		}
		reply(http.StatusOK, s)
	default:
		reply(http.StatusNotFound, notFound)
	}
}

// store keeps a Secret as an install would have created it.
func (f *fakeCluster) store(s *corev1.Secret) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := s.DeepCopy()
	c.TypeMeta = metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}
	c.Namespace = namespace
	f.secrets[c.Name] = c
}

// render is helm template as an install or upgrade sees it: lookup asks this cluster.
func (f *fakeCluster) render(t *testing.T, args ...string) (*rendered, error) {
	t.Helper()
	out, err := helmWithEnv(t, []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "none")},
		append([]string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion,
			"--dry-run=server", "--kube-apiserver", f.srv.URL}, args...)...)
	if err != nil {
		return nil, err
	}
	return decode(out)
}

func (f *fakeCluster) mustRender(t *testing.T, args ...string) *rendered {
	t.Helper()
	r, err := f.render(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.secrets) != 1 {
		t.Fatalf("%d Secrets rendered, want 1", len(r.secrets))
	}
	return r
}

// TestGeneratedSecretsAreKept: secrets.generate makes each secret once, at install; every
// upgrade keeps it (a new BAN_SECRET would unhash every ban, a new TURN_SECRET would break
// every credential handed out), a secret the release needs later is added beside the kept
// ones, and one given in values replaces the kept one.
func TestGeneratedSecretsAreKept(t *testing.T) {
	cluster := newFakeCluster(t)
	values := []string{"--set", "secrets.generate=true", "--set", "redis.enabled=true"}

	install := cluster.mustRender(t, values...)
	first := install.secrets[0]
	for _, k := range []string{"BAN_SECRET", "REDIS_PASSWORD"} {
		if len(first.Data[k]) < 32 {
			t.Fatalf("install generated %s %q", k, first.Data[k])
		}
	}
	cluster.store(first)

	upgrade := cluster.mustRender(t, values...)
	if !equalData(upgrade.secrets[0].Data, first.Data) {
		t.Fatal("an upgrade changed the generated secrets")
	}
	d1, _ := install.server(t)
	d2, _ := upgrade.server(t)
	if d1.Spec.Template.Annotations["checksum/secrets"] != d2.Spec.Template.Annotations["checksum/secrets"] {
		t.Fatal("an upgrade that kept the secrets changed the pods' checksum of them (every upgrade would roll for nothing)")
	}

	// a release that needs one more secret later (coturn: TURN_SECRET) gets it beside the kept ones
	more := cluster.mustRender(t, append(values, "--set", "coturn.enabled=true", "--set", "coturn.host=turn.example.com", "--set", "coturn.externalIP=203.0.113.5")...)
	got := more.secrets[0].Data
	if string(got["BAN_SECRET"]) != string(first.Data["BAN_SECRET"]) || string(got["REDIS_PASSWORD"]) != string(first.Data["REDIS_PASSWORD"]) || len(got["TURN_SECRET"]) < 32 {
		t.Fatalf("adding coturn: keys %v, want the kept secrets and a new TURN_SECRET", sortedKeys(got))
	}

	// a value given in values wins (rotation)
	rotated := cluster.mustRender(t, append(values, "--set", "secrets.BAN_SECRET=a-rotated-ban-secret-0123456789")...)
	if string(rotated.secrets[0].Data["BAN_SECRET"]) != "a-rotated-ban-secret-0123456789" || string(rotated.secrets[0].Data["REDIS_PASSWORD"]) != string(first.Data["REDIS_PASSWORD"]) {
		t.Fatal("rotating BAN_SECRET did not replace it alone")
	}
}

// TestExistingSecretMustHoldEveryKey: an existing Secret that lacks a key the release needs
// is refused at install, by name, instead of pods that never start.
func TestExistingSecretMustHoldEveryKey(t *testing.T) {
	cluster := newFakeCluster(t)
	cluster.store(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Data: map[string][]byte{"BAN_SECRET": []byte("0123456789abcdef0123")}})
	values := []string{"--set", "secrets.existingSecret=mine", "--set", "redis.enabled=true"}
	if _, err := cluster.render(t, values...); err == nil || !strings.Contains(err.Error(), `"mine" has no key REDIS_PASSWORD`) {
		t.Fatalf("rendering against a Secret without REDIS_PASSWORD: %v", err)
	}
	cluster.store(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Data: map[string][]byte{
		"BAN_SECRET": []byte("0123456789abcdef0123"), "REDIS_PASSWORD": []byte("0123456789abcdef0123")}})
	r, err := cluster.render(t, values...)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.secrets) != 0 {
		t.Fatal("with an existing Secret the chart must create none")
	}
	_, c := r.server(t)
	if ref := envOf(t, c)["BAN_SECRET"].ValueFrom.SecretKeyRef; ref.Name != "mine" {
		t.Fatalf("BAN_SECRET from %s, want the existing Secret", ref.Name)
	}
}

func equalData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if string(b[k]) != string(v) {
			return false
		}
	}
	return true
}
