package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/redistest"
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
		opt, err := redis.ParseURL(env(app, "REDIS_URL"))
		if err != nil || opt.Addr != "redis:6379" {
			t.Fatalf("REDIS_URL %q does not name the redis service (%v)", env(app, "REDIS_URL"), err)
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
		lbNet := lb.Networks["front"]
		if lbNet == nil {
			t.Fatalf("lb is not on the front network: %v", lb.Networks)
		}
		lbAddr := lbNet.Ipv4Address
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
	t.Run("redis requires the password that the app's REDIS_URL carries", func(t *testing.T) {
		for _, password := range []string{"", "0123abcd-from-the-operator"} {
			p := p
			if password != "" {
				p = loadCompose(t, "REDIS_PASSWORD="+password)
			}
			redisSvc, app := p.Services["redis"], p.Services["app"]
			required := redisRequirePass(t, redisSvc)
			if required == "" || (password != "" && required != password) {
				t.Fatalf("redis --requirepass %q with REDIS_PASSWORD=%q", required, password)
			}
			if password == "" && !strings.Contains(required, "insecure") {
				t.Fatalf("the default Redis password %q is not labelled as the insecure development default", required)
			}
			opt, err := redis.ParseURL(env(app, "REDIS_URL"))
			if err != nil {
				t.Fatalf("REDIS_URL: %v", err)
			}
			if opt.Password != required {
				t.Fatalf("REDIS_URL's password %q is not Redis's %q (REDIS_PASSWORD=%q)", opt.Password, required, password)
			}
			if env(redisSvc, "REDISCLI_AUTH") != required {
				t.Fatalf("redis REDISCLI_AUTH %q: the health check would not authenticate with %q", env(redisSvc, "REDISCLI_AUTH"), required)
			}
		}
	})
	t.Run("Redis shares a network with the app only, coturn with nobody", func(t *testing.T) {
		members := map[string][]string{} // network -> services on it
		for name, svc := range p.Services {
			if len(svc.Networks) == 0 {
				t.Fatalf("service %s names no network: it would join the default one", name)
			}
			for network := range svc.Networks {
				members[network] = append(members[network], name)
			}
		}
		for _, m := range members {
			slices.Sort(m)
		}
		for network := range redisSvc.Networks {
			if !slices.Equal(members[network], []string{"app", "redis"}) {
				t.Errorf("network %s has %v: Redis must share its networks with the app only", network, members[network])
			}
			if !p.Networks[network].Internal {
				t.Errorf("Redis's network %s is not internal: true", network)
			}
		}
		for network := range p.Services["coturn"].Networks {
			if !slices.Equal(members[network], []string{"coturn"}) {
				t.Errorf("network %s has %v: coturn relays to any peer a user names, so it must be alone on its networks", network, members[network])
			}
		}
		shared := false
		for network := range lb.Networks {
			shared = shared || slices.Contains(members[network], "app")
		}
		if !shared {
			t.Error("the balancer shares no network with the app")
		}
	})
}

// redisRequirePass is the value after --requirepass in the redis service's command.
func redisRequirePass(t *testing.T, s types.ServiceConfig) string {
	t.Helper()
	i := slices.Index(s.Command, "--requirepass")
	if i < 0 || i+1 >= len(s.Command) {
		t.Fatalf("redis command %q has no --requirepass <password>", s.Command)
	}
	return s.Command[i+1]
}

// The compose file's Redis health check, run for real against a redis-server with the
// compose file's password: it passes with the password the compose file gives it and fails
// with a wrong one. (redis-cli ping exits 0 even on NOAUTH, so a check that only looks at
// the exit code would call an unreachable Redis healthy, or hang compose up on depends_on.)
// The app's REDIS_URL, pointed at this server, authenticates; no password is refused.
func TestComposeRedisPasswordAndHealthcheck(t *testing.T) {
	p := loadCompose(t)
	redisSvc, app := p.Services["redis"], p.Services["app"]
	password := redisRequirePass(t, redisSvc)
	cli := redistest.CLI(t)
	srv := redistest.Start(t, "--requirepass", password)

	if redisSvc.HealthCheck == nil || len(redisSvc.HealthCheck.Test) != 2 || redisSvc.HealthCheck.Test[0] != "CMD-SHELL" {
		t.Fatalf("redis healthcheck %+v: want [CMD-SHELL, <command>]", redisSvc.HealthCheck)
	}
	check := redisSvc.HealthCheck.Test[1]
	if strings.Count(check, "redis-cli") != 1 {
		t.Fatalf("redis healthcheck %q: want exactly one redis-cli (the test points it at its own port)", check)
	}
	// adapted only in where redis-cli finds the server
	check = strings.Replace(check, "redis-cli", cli+" -p "+strconv.Itoa(srv.Port), 1)
	runCheck := func(auth string) error {
		cmd := exec.Command("sh", "-c", check)
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+auth)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := runCheck(env(redisSvc, "REDISCLI_AUTH")); err != nil {
		t.Fatalf("the health check fails with the compose file's REDISCLI_AUTH: %v", err)
	}
	if err := runCheck("not-the-password"); err == nil {
		t.Fatal("the health check passes with a wrong password: it cannot tell an unreachable Redis from a healthy one")
	}

	ctx := context.Background()
	noAuth := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer noAuth.Close()
	if err := noAuth.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without a password: %v, want NOAUTH", err)
	}
	opt, err := redis.ParseURL(env(app, "REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	opt.Addr = srv.Addr() // the app's URL, pointed at this server
	withURL := redis.NewClient(opt)
	defer withURL.Close()
	if err := withURL.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING with the app's REDIS_URL: %v", err)
	}
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
