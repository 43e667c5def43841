package main

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// There is no Docker engine on the test machines: the container files are checked for what
// can be checked without one. The load balancer config is exercised for real by the browser
// tests (web/e2e/operations.spec.ts), with Debian's nginx.

func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"}, cli.WithWorkingDirectory("."), cli.WithEnv(env), cli.WithInterpolation(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

func env(s types.ServiceConfig, name string) string {
	if v, ok := s.Environment[name]; ok && v != nil {
		return *v
	}
	return ""
}

func TestComposeFile(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"redis", "app", "lb", "coturn"} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("no %s service", name)
		}
	}
	redisSvc, app, lb := p.Services["redis"], p.Services["app"], p.Services["lb"]

	t.Run("redis keeps nothing on disk", func(t *testing.T) {
		cmd := strings.Join(redisSvc.Command, " ")
		if !strings.Contains(cmd, "--save  --appendonly no") {
			t.Fatalf("redis command %q: want --save \"\" --appendonly no", redisSvc.Command)
		}
		if len(redisSvc.Volumes) != 0 {
			t.Fatal("redis must have no volume")
		}
	})
	t.Run("app replicas have no host ports and share Redis", func(t *testing.T) {
		if len(app.Ports) != 0 {
			t.Fatalf("app publishes host ports %v: replicas could not scale", app.Ports)
		}
		if app.Deploy == nil || app.Deploy.Replicas == nil || *app.Deploy.Replicas < 2 {
			t.Fatal("want at least two app replicas")
		}
		if env(app, "REDIS_URL") != "redis://redis:6379/0" {
			t.Fatalf("REDIS_URL %q does not name the redis service", env(app, "REDIS_URL"))
		}
		if app.Build == nil {
			t.Fatal("app is not built from this repository")
		}
	})
	t.Run("the balancer's upstream is the app service", func(t *testing.T) {
		conf, err := os.ReadFile("deploy/nginx.conf")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*server\s+([\w.-]+):(\d+)\b`).FindAllStringSubmatch(string(conf), -1)
		if len(m) != 1 || m[0][1] != "app" || !slices.Contains(app.Expose, m[0][2]) {
			t.Fatalf("nginx upstream servers %v, want app:<an exposed app port %v>", m, app.Expose)
		}
		mounted := slices.ContainsFunc(lb.Volumes, func(v types.ServiceVolumeConfig) bool {
			return strings.HasSuffix(v.Source, "deploy/nginx.conf") && v.Target == "/etc/nginx/nginx.conf" && v.ReadOnly
		})
		if !mounted {
			t.Fatalf("lb does not mount deploy/nginx.conf read-only: %+v", lb.Volumes)
		}
		if len(lb.Ports) != 1 || lb.Ports[0].Published != "8080" || lb.Ports[0].Target != 8080 {
			t.Fatalf("lb ports %+v, want 8080:8080", lb.Ports)
		}
		lbAddr := lb.Networks["default"].Ipv4Address
		if lbAddr == "" || env(app, "TRUSTED_PROXIES") != lbAddr+"/32" {
			t.Fatalf("TRUSTED_PROXIES %q must be exactly the balancer's address %q", env(app, "TRUSTED_PROXIES"), lbAddr)
		}
	})
	t.Run("coturn and the app share the TURN secret", func(t *testing.T) {
		for _, secret := range []string{"", "s3cr3t-from-the-operator"} {
			p := p
			if secret != "" {
				p = loadCompose(t, "TURN_SECRET="+secret)
			}
			app, turn := p.Services["app"], p.Services["coturn"]
			appSecret := env(app, "TURN_SECRET")
			if appSecret == "" || (secret != "" && appSecret != secret) {
				t.Fatalf("app TURN_SECRET %q with TURN_SECRET=%q", appSecret, secret)
			}
			if !slices.Contains(turn.Command, "--static-auth-secret="+appSecret) || !slices.Contains(turn.Command, "--use-auth-secret") {
				t.Fatalf("coturn %v does not use the app's secret %q", turn.Command, appSecret)
			}
		}
		if env(app, "TURN_URLS") == "" {
			t.Fatal("app hands out no TURN servers")
		}
	})
}

// dockerInstruction is one Dockerfile instruction, continuation lines joined.
type dockerInstruction struct {
	cmd, args string
}

func readDockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dockerInstruction
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	var stages [][]dockerInstruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s before the first FROM", in.cmd)
			}
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 3 {
		t.Fatalf("%d stages, want a UI build, a Go build and a runtime", len(stages))
	}
	all := func(stage []dockerInstruction, cmd string) []string {
		var out []string
		for _, in := range stage {
			if in.cmd == cmd {
				out = append(out, in.args)
			}
		}
		return out
	}
	joined := func(cmd string) string {
		var s []string
		for _, st := range stages {
			s = append(s, all(st, cmd)...)
		}
		return strings.Join(s, "\n")
	}
	if !strings.Contains(joined("RUN"), "npm run build") || !strings.Contains(joined("RUN"), "-tags embedui") || !strings.Contains(joined("RUN"), "CGO_ENABLED=0") {
		t.Fatal("want the UI built and embedded in a static binary (npm run build; CGO_ENABLED=0 go build -tags embedui)")
	}
	final := stages[len(stages)-1]
	users := all(final, "USER")
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "root") || strings.HasPrefix(users[len(users)-1], "0") {
		t.Fatalf("the runtime stage runs as %q, want a non-root user", users)
	}
	if len(all(final, "HEALTHCHECK")) != 1 || !strings.Contains(all(final, "HEALTHCHECK")[0], "healthcheck") {
		t.Fatal("the runtime stage needs a HEALTHCHECK that uses the binary's healthcheck command")
	}
	if len(all(final, "RUN")) != 0 {
		t.Fatal("the runtime stage has no shell: it must not RUN anything")
	}
	secret := regexp.MustCompile(`(?i)(secret|password|passwd|token|api[_-]?key)`)
	for _, in := range ins {
		if (in.cmd == "ENV" || in.cmd == "ARG") && secret.MatchString(in.args) {
			t.Fatalf("%s %s: secrets are given at run time, never baked into the image", in.cmd, in.args)
		}
		if in.cmd == "COPY" && strings.Contains(in.args, ".env") {
			t.Fatalf("COPY %s: an env file may hold secrets", in.args)
		}
	}
	ignore, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{".git", "**/node_modules", "web/dist"} {
		if !strings.Contains(string(ignore), must) {
			t.Fatalf(".dockerignore does not exclude %s", must)
		}
	}
}
