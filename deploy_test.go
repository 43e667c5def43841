package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/redis/go-redis/v9"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/store"
	"github.com/go-megle/go-megle/internal/web"
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
		for _, v := range redisSvc.Volumes {
			if !v.ReadOnly || !strings.HasPrefix(v.Target, "/run/secrets/") {
				t.Fatalf("redis mounts %+v: it must have no volume but its secrets, read-only", v)
			}
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
		if lbNet.Ipv4Address == "" || lbNet.Ipv6Address == "" || env(app, "TRUSTED_PROXIES") != lbNet.Ipv4Address+"/32,"+lbNet.Ipv6Address+"/128" {
			t.Fatalf("TRUSTED_PROXIES %q must be exactly the balancer's addresses %q and %q", env(app, "TRUSTED_PROXIES"), lbNet.Ipv4Address, lbNet.Ipv6Address)
		}
	})
	// Issue 21 (suspected, confirmed by Docker's docs, "Port publishing and mapping": "Ports on
	// the host's IPv6 addresses will map to the container's IPv4 address if no host IP is given
	// in a port mapping, the bridge network is IPv4-only, and --userland-proxy=true (default)"):
	// through docker-proxy every IPv6 client reached nginx as one address. The balancer's
	// network is dual-stack, so the published port maps IPv6 to nginx's own IPv6 address
	// (ip6tables, with the client's address kept), and nginx listens there.
	t.Run("IPv6 clients reach the balancer with their own addresses", func(t *testing.T) {
		var front *types.NetworkConfig
		for name := range lb.Networks {
			n := p.Networks[name]
			front = &n
		}
		if len(lb.Networks) != 1 || front.EnableIPv6 == nil || !*front.EnableIPv6 {
			t.Fatalf("the balancer's network %+v is not dual-stack (enable_ipv6): IPv6 clients would arrive through docker-proxy as one address", front)
		}
		lbAddr, err := netip.ParseAddr(lb.Networks["front"].Ipv6Address)
		if err != nil {
			t.Fatalf("the balancer has no fixed IPv6 address: %v", err)
		}
		inSubnet := false
		for _, c := range front.Ipam.Config {
			if prefix, err := netip.ParsePrefix(c.Subnet); err == nil && prefix.Addr().Is6() && prefix.Contains(lbAddr) {
				inSubnet = true
			}
		}
		if !inSubnet {
			t.Fatalf("the balancer's IPv6 address %s is in none of its network's subnets %+v", lbAddr, front.Ipam.Config)
		}
		if len(lb.Ports) != 1 || lb.Ports[0].HostIP != "" {
			t.Fatalf("lb ports %+v: want one published on every host address", lb.Ports)
		}
		conf, err := os.ReadFile("deploy/nginx.conf")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^\s*listen\s+\[::\]:8080;`).Match(conf) {
			t.Fatal("nginx does not listen on IPv6: a dual-stack network would hand it IPv6 connections it cannot take")
		}
	})
	t.Run("the app hands out TURN", func(t *testing.T) {
		if env(app, "TURN_URLS") == "" || env(app, "TURN_SECRET_FILE") == "" {
			t.Fatal("app hands out no TURN servers")
		}
	})
	t.Run("Redis shares a network with the app only, coturn with nobody", func(t *testing.T) {
		members := map[string][]string{} // network -> services on it
		for name, svc := range p.Services {
			if svc.NetworkMode == "none" {
				continue // no network at all (the secrets service)
			}
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

// composeSecrets is what the compose file's secrets service wrote, run for real: its script
// in this machine's sh, each volume it writes a directory of the test's.
type composeSecrets struct {
	p    *types.Project
	dirs map[string]string // volume -> directory
}

// runSecretsService runs the secrets service's script (again, into the same directories,
// when given a previous run).
func runSecretsService(t *testing.T, p *types.Project, previous *composeSecrets) *composeSecrets {
	t.Helper()
	svc, ok := p.Services["secrets"]
	if !ok {
		t.Fatal("no secrets service")
	}
	if len(svc.Entrypoint) != 2 || svc.Entrypoint[0] != "/bin/sh" || len(svc.Command) != 1 {
		t.Fatalf("secrets service: entrypoint %q command %q, want [/bin/sh, -<flags>] and one script", svc.Entrypoint, svc.Command)
	}
	cs := &composeSecrets{p: p, dirs: map[string]string{}}
	if previous != nil {
		cs.dirs = previous.dirs
	}
	script := svc.Command[0]
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeVolume || v.ReadOnly {
			t.Fatalf("secrets service mounts %+v: want named volumes it writes", v)
		}
		if cs.dirs[v.Source] == "" {
			cs.dirs[v.Source] = t.TempDir()
		}
		script = strings.ReplaceAll(script, v.Target+"/", cs.dirs[v.Source]+"/")
	}
	if strings.Contains(script, "/secrets") {
		t.Fatalf("the secrets script writes outside its volumes:\n%s", script)
	}
	out, err := exec.Command(svc.Entrypoint[0], svc.Entrypoint[1], script).CombinedOutput()
	if err != nil {
		t.Fatalf("the secrets script: %v\n%s", err, out)
	}
	return cs
}

// path is the test's file for a path inside service name's container (through the volume it
// is on, which the secrets service writes).
func (cs *composeSecrets) path(t *testing.T, name, inContainer string) string {
	t.Helper()
	for _, v := range cs.p.Services[name].Volumes {
		if rest, ok := strings.CutPrefix(inContainer, v.Target+"/"); ok && cs.dirs[v.Source] != "" {
			return filepath.Join(cs.dirs[v.Source], rest)
		}
	}
	t.Fatalf("%s's %s is on no volume the secrets service writes", name, inContainer)
	return ""
}

func (cs *composeSecrets) read(t *testing.T, name, inContainer string) string {
	t.Helper()
	b, err := os.ReadFile(cs.path(t, name, inContainer))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// composeConfigFile is the file a service's command names after flag (redis-server's first
// argument when flag is "").
func composeConfigFile(t *testing.T, s types.ServiceConfig, flag string) string {
	t.Helper()
	i := 1
	if flag != "" {
		i = slices.Index(s.Command, flag) + 1
	}
	if i <= 0 || i >= len(s.Command) || !strings.HasPrefix(s.Command[i], "/run/secrets/") {
		t.Fatalf("command %q names no config file under /run/secrets after %q", s.Command, flag)
	}
	return s.Command[i]
}

// Issue 21, item 2: the compose file ran with public default secrets unless the operator set
// them (the README's command for "anything reachable by others" forgot BAN_SECRET, so anyone
// could forge proofs of work and reverse address hashes). Now it has no secret in it: a
// one-shot service makes them once from /dev/urandom, keeps them in a named volume, and hands
// each service only its own; the app reads them through *_FILE settings.
func TestComposeSecrets(t *testing.T) {
	p := loadCompose(t)
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, svc := range p.Services { // the default services (monitoring is a profile of its own)
		all := append(slices.Clone(svc.Command), svc.Entrypoint...)
		for k, v := range svc.Environment {
			if v != nil {
				all = append(all, k+"="+*v)
			}
		}
		for _, s := range all {
			if strings.Contains(s, publicDefaultPrefix) {
				t.Errorf("service %s carries a public default: %q", name, s)
			}
		}
	}
	for _, v := range []string{"TURN_SECRET", "REDIS_PASSWORD", "BAN_SECRET"} {
		if strings.Contains(string(raw), "${"+v) {
			t.Errorf("docker-compose.yml still takes %s from the environment: the secrets service makes it", v)
		}
	}

	first := runSecretsService(t, p, nil)
	app := p.Services["app"]
	secrets := map[string]string{}
	for _, setting := range []string{"BAN_SECRET_FILE", "TURN_SECRET_FILE", "REDIS_PASSWORD_FILE"} {
		file := env(app, setting)
		if file == "" {
			t.Fatalf("app has no %s", setting)
		}
		secret := first.read(t, "app", file)
		if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(secret) {
			t.Fatalf("%s %q: want 32 random bytes in hex", setting, secret)
		}
		secrets[setting] = strings.TrimSpace(secret)
	}
	if len(slices.Compact(slices.Sorted(maps.Values(secrets)))) != 3 {
		t.Fatalf("the secrets are not distinct: %v", secrets)
	}
	t.Run("made once and kept", func(t *testing.T) {
		again := runSecretsService(t, p, first)
		for setting, secret := range secrets {
			if got := strings.TrimSpace(again.read(t, "app", env(app, setting))); got != secret {
				t.Fatalf("%s changed on the second run: %q, then %q", setting, secret, got)
			}
		}
		fresh := runSecretsService(t, p, nil) // a new volume: new secrets
		if strings.TrimSpace(fresh.read(t, "app", env(app, "BAN_SECRET_FILE"))) == secrets["BAN_SECRET_FILE"] {
			t.Fatal("another volume got the same secret: they are not random")
		}
	})
	t.Run("the app starts with them and refuses nothing", func(t *testing.T) {
		vars := map[string]string{}
		for k, v := range app.Environment {
			if v != nil {
				vars[k] = *v
			}
		}
		for _, setting := range []string{"BAN_SECRET_FILE", "TURN_SECRET_FILE", "REDIS_PASSWORD_FILE"} {
			vars[setting] = first.path(t, "app", vars[setting])
		}
		cfg, err := LoadConfig(nil, envOf(vars), io.Discard)
		if err != nil {
			t.Fatalf("the app's configuration: %v", err)
		}
		if cfg.BanSecret != secrets["BAN_SECRET_FILE"] || cfg.TURNSecret != secrets["TURN_SECRET_FILE"] || cfg.RedisPassword != secrets["REDIS_PASSWORD_FILE"] {
			t.Fatal("the app did not read its secrets from the files")
		}
	})
	t.Run("coturn and Redis get the app's secrets", func(t *testing.T) {
		conf := first.read(t, "coturn", composeConfigFile(t, p.Services["coturn"], "-c"))
		if conf != "static-auth-secret="+secrets["TURN_SECRET_FILE"]+"\n" {
			t.Fatalf("coturn's config %q does not hold the app's TURN secret", conf)
		}
		conf = first.read(t, "redis", composeConfigFile(t, p.Services["redis"], ""))
		if conf != "requirepass "+secrets["REDIS_PASSWORD_FILE"]+"\n" {
			t.Fatalf("redis's config %q does not hold the app's password", conf)
		}
	})
	t.Run("each volume is its consumer's alone, read-only, after the secrets are made", func(t *testing.T) {
		mounts := map[string][]string{} // volume -> services mounting it
		for name, svc := range p.Services {
			for _, v := range svc.Volumes {
				if v.Type != types.VolumeTypeVolume {
					continue
				}
				mounts[v.Source] = append(mounts[v.Source], name)
				if name != "secrets" && !v.ReadOnly {
					t.Errorf("%s mounts %s writable", name, v.Source)
				}
			}
			if name == "secrets" || len(svc.Volumes) == 0 || slices.ContainsFunc(svc.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Type != types.VolumeTypeVolume }) {
				continue
			}
			if d, ok := svc.DependsOn["secrets"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
				t.Errorf("%s does not wait for the secrets service to complete: %+v", name, svc.DependsOn)
			}
		}
		for volume, want := range map[string][]string{"app-secrets": {"app", "secrets"}, "redis-secrets": {"redis", "secrets"}, "turn-secrets": {"coturn", "secrets"}} {
			got := slices.Sorted(slices.Values(mounts[volume]))
			if !slices.Equal(got, want) {
				t.Errorf("volume %s is mounted by %v, want %v", volume, got, want)
			}
		}
		if s := p.Services["secrets"]; s.NetworkMode != "none" || s.Restart != "no" {
			t.Errorf("the secrets service: network_mode %q restart %q, want none and no", s.NetworkMode, s.Restart)
		}
	})
}

// The compose file's Redis, run for real: redis-server with the config file the secrets
// service wrote (requirepass) and the compose file's options, and its health check as the
// compose file has it: it passes with the password file it reads and fails with a wrong one.
// (redis-cli ping exits 0 even on NOAUTH, so a check that only looks at the exit code would
// call an unreachable Redis healthy, or hang compose up on depends_on.) The app's settings,
// pointed at this server, authenticate; no password is refused.
func TestComposeRedisPasswordAndHealthcheck(t *testing.T) {
	p := loadCompose(t)
	redisSvc, app := p.Services["redis"], p.Services["app"]
	secrets := runSecretsService(t, p, nil)
	cli := redistest.CLI(t)
	if redisSvc.Command[0] != "redis-server" {
		t.Fatalf("redis command %q: want redis-server <config file> <options>", redisSvc.Command)
	}
	srv := redistest.StartWithConfig(t, secrets.path(t, "redis", composeConfigFile(t, redisSvc, "")), redisSvc.Command[2:]...)

	if redisSvc.HealthCheck == nil || len(redisSvc.HealthCheck.Test) != 2 || redisSvc.HealthCheck.Test[0] != "CMD-SHELL" {
		t.Fatalf("redis healthcheck %+v: want [CMD-SHELL, <command>]", redisSvc.HealthCheck)
	}
	check := redisSvc.HealthCheck.Test[1]
	files := regexp.MustCompile(`/run/secrets/[\w/.-]+`).FindAllString(check, -1)
	if strings.Count(check, "redis-cli") != 1 || len(files) != 1 {
		t.Fatalf("redis healthcheck %q: want exactly one redis-cli and one secret file (the test points them at its own)", check)
	}
	// adapted only in where redis-cli finds the server and where the password file is
	check = strings.Replace(check, "redis-cli", cli+" -p "+strconv.Itoa(srv.Port), 1)
	runCheck := func(passwordFile string) error {
		out, err := exec.Command("sh", "-c", strings.Replace(check, files[0], passwordFile, 1)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := runCheck(secrets.path(t, "redis", files[0])); err != nil {
		t.Fatalf("the health check fails with the password file the secrets service wrote: %v", err)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runCheck(wrong); err == nil {
		t.Fatal("the health check passes with a wrong password: it cannot tell an unreachable Redis from a healthy one")
	}

	ctx := context.Background()
	noAuth := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer noAuth.Close()
	if err := noAuth.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("PING without a password: %v, want NOAUTH", err)
	}
	vars := map[string]string{"REDIS_URL": env(app, "REDIS_URL"), "REDIS_PASSWORD_FILE": secrets.path(t, "app", env(app, "REDIS_PASSWORD_FILE"))}
	cfg, err := LoadConfig(nil, envOf(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opt, err := redis.ParseURL(cfg.RedisURL); err != nil || opt.Addr != "redis:6379" {
		t.Fatalf("REDIS_URL %q does not name the redis service (%v)", cfg.RedisURL, err)
	}
	cfg.RedisURL = srv.URL() // the app's settings, pointed at this server
	rdb, closeRedis, err := store.OpenRedis(ctx, cfg.redis(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeRedis()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING with the app's settings: %v", err)
	}
}

// ---- coturn: what the shipped TURN server refuses to relay to ---------------------------

// requiredDeniedPeers are the peer ranges the shipped coturn must refuse (issue 10): with
// TURN credentials from /api/config anyone can allocate a relay and name any peer, so
// coturn must never relay into a private network, the host, or through an address that
// embeds one of those. Each is first-last or a CIDR block.
var requiredDeniedPeers = []string{
	// IPv4
	"0.0.0.0/8",      // "this network"
	"10.0.0.0/8",     // RFC 1918
	"100.64.0.0/10",  // CGNAT
	"127.0.0.0/8",    // loopback
	"169.254.0.0/16", // link-local, cloud metadata services
	"172.16.0.0/12",  // RFC 1918, Docker's networks
	"192.0.0.0/24",   // IETF protocol assignments
	"192.88.99.0/24", // 6to4 relay anycast
	"192.168.0.0/16", // RFC 1918
	"198.18.0.0/15",  // benchmarking
	"224.0.0.0/4",    // multicast
	"240.0.0.0/4",    // reserved, broadcast
	// IPv6
	"::1/128",               // loopback
	"::1-::255.255.255.255", // IPv4-compatible (::/96; "::" itself coturn refuses on its own)
	"::ffff:0:0/96",         // IPv4-mapped
	"::ffff:0:0:0/96",       // IPv4-translated
	"64:ff9b::/96",          // NAT64
	"64:ff9b:1::/48",        // local-use NAT64
	"100::/64",              // discard-only
	"2002::/16",             // 6to4 (embeds an IPv4 address)
	"fc00::/7",              // unique-local
	"fe80::/10",             // link-local
	"fec0::/10",             // site-local (deprecated, still routed by some)
	"ff00::/8",              // multicast
}

// peerRange is an inclusive address range, as coturn's denied-peer-ip takes it.
type peerRange struct{ from, to netip.Addr }

func (r peerRange) String() string { return r.from.String() + "-" + r.to.String() }

func (r peerRange) contains(a netip.Addr) bool {
	return a.BitLen() == r.from.BitLen() && r.from.Compare(a) <= 0 && a.Compare(r.to) <= 0
}

// parsePeerRange reads "a-b", "a" or "a/n".
func parsePeerRange(s string) (peerRange, error) {
	if from, to, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(from)
		if err != nil {
			return peerRange{}, fmt.Errorf("range %q: %w", s, err)
		}
		b, err := netip.ParseAddr(to)
		if err != nil {
			return peerRange{}, fmt.Errorf("range %q: %w", s, err)
		}
		if a.BitLen() != b.BitLen() || b.Less(a) {
			return peerRange{}, fmt.Errorf("range %q: not first-last of one family", s)
		}
		return peerRange{a, b}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return peerRange{}, fmt.Errorf("prefix %q: %w", s, err)
		}
		p = p.Masked()
		last := p.Addr().As16()
		if p.Addr().Is4() {
			b := p.Addr().As4()
			for i := range 32 - p.Bits() {
				b[3-i/8] |= 1 << (i % 8)
			}
			return peerRange{p.Addr(), netip.AddrFrom4(b)}, nil
		}
		for i := range 128 - p.Bits() {
			last[15-i/8] |= 1 << (i % 8)
		}
		return peerRange{p.Addr(), netip.AddrFrom16(last)}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return peerRange{}, fmt.Errorf("address %q: %w", s, err)
	}
	return peerRange{a, a}, nil
}

// covered reports whether every address of want is in one of the ranges.
func covered(ranges []peerRange, want peerRange) bool {
	cur := want.from
	for {
		var end netip.Addr
		for _, r := range ranges {
			if r.contains(cur) && (!end.IsValid() || end.Less(r.to)) {
				end = r.to
			}
		}
		if !end.IsValid() {
			return false
		}
		if !end.Less(want.to) {
			return true
		}
		cur = end.Next()
	}
}

// flagValues returns the values of every --name=value in a command line.
func flagValues(t *testing.T, cmd []string, name string) []string {
	t.Helper()
	var out []string
	for _, arg := range cmd {
		if arg == name {
			t.Fatalf("%s without =value in %q: write it as %s=<value>", name, cmd, name)
		}
		if v, ok := strings.CutPrefix(arg, name+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// TestComposeCoturnRefusesPrivatePeers checks the compose file's coturn flags; the same flags
// are run for real by TestTURNRelayRefusesPrivatePeers (turn_relay_test.go).
func TestComposeCoturnRefusesPrivatePeers(t *testing.T) {
	p := loadCompose(t)
	turn := p.Services["coturn"]
	cmd := turn.Command
	for _, flag := range []string{"--no-tcp-relay", "--no-multicast-peers", "--use-auth-secret", "--no-cli"} {
		if !slices.Contains(cmd, flag) {
			t.Errorf("coturn %q lacks %s", cmd, flag)
		}
	}
	if slices.Contains(cmd, "--allow-loopback-peers") {
		t.Error("coturn allows loopback peers: only a test rig may")
	}
	var denied []peerRange
	for _, v := range flagValues(t, cmd, "--denied-peer-ip") {
		r, err := parsePeerRange(v)
		if err != nil {
			t.Fatalf("--denied-peer-ip=%s: %v", v, err)
		}
		if strings.Contains(v, "/") {
			t.Errorf("--denied-peer-ip=%s: coturn 4.6 takes first-last ranges, not CIDR", v)
		}
		if r.from.Is6() {
			// coturn reads a range that starts at "::" as having no lower bound, and every
			// IPv4 address sorts below every IPv6 one: it would refuse every IPv4 peer.
			if r.from.IsUnspecified() {
				t.Errorf("--denied-peer-ip=%s starts at \"::\": coturn would refuse every IPv4 peer", v)
			}
			// coturn before 4.16 compares IPv6 addresses byte by byte (every byte within the
			// bounds), later versions in order: a range means the same to both only if, past
			// the first byte in which its bounds differ, they are all 00 and all ff.
			a, b := r.from.As16(), r.to.As16()
			i := 0
			for i < 16 && a[i] == b[i] {
				i++
			}
			for j := i + 1; j < 16; j++ {
				if a[j] != 0 || b[j] != 0xff {
					t.Errorf("--denied-peer-ip=%s: coturn 4.6 would read it as a smaller set than it says", v)
					break
				}
			}
		}
		denied = append(denied, r)
	}
	if len(denied) == 0 {
		t.Fatalf("coturn %q has no --denied-peer-ip", cmd)
	}
	for _, want := range requiredDeniedPeers {
		r, err := parsePeerRange(want)
		if err != nil {
			t.Fatal(err)
		}
		if !covered(denied, r) {
			t.Errorf("coturn does not refuse every peer in %s (%s)", want, r)
		}
	}
	// An allowed address wins over a denied range: the only one allowed is coturn's own
	// (its relay addresses, for two users relayed by this one server), on a network where
	// nothing else lives.
	var own []string
	for network, cfg := range turn.Networks {
		if cfg != nil && cfg.Ipv4Address != "" {
			own = append(own, cfg.Ipv4Address)
		}
		for name, svc := range p.Services {
			if _, on := svc.Networks[network]; on && name != "coturn" {
				t.Errorf("%s shares network %s with coturn", name, network)
			}
		}
	}
	for _, v := range flagValues(t, cmd, "--allowed-peer-ip") {
		if !slices.Contains(own, v) {
			t.Errorf("--allowed-peer-ip=%s is not coturn's own address %v", v, own)
		}
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

// ---- system daemons the deployment tests run ----------------------------------------------

// requireDaemon returns the path of a system daemon: $envVar if set, else command on PATH,
// else Debian's path for it. Missing, the test is skipped with a message saying why, unless
// one of requiredBy is "1" in the environment (CI sets them), when it fails.
func requireDaemon(t *testing.T, command, envVar, debianPath, install string, requiredBy ...string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		return p
	}
	if p, err := exec.LookPath(command); err == nil {
		return p
	}
	if _, err := os.Stat(debianPath); err == nil {
		return debianPath // /usr/sbin is not on an unprivileged user's PATH
	}
	msg := fmt.Sprintf("%s not found on PATH nor at %s (%s, or set %s)", command, debianPath, install, envVar)
	for _, v := range requiredBy {
		if os.Getenv(v) == "1" {
			t.Fatalf("%s=1 but %s", v, msg)
		}
	}
	t.Skipf("skipping: %s; set %s=1 to make this a failure", msg, requiredBy[0])
	return ""
}

// daemon is a child process of the test, in the foreground, with its output in a file. It
// dies with the test binary (redistest.DieWithParent) and is killed at cleanup.
type daemon struct {
	name    string
	logFile string
	exited  chan struct{}
}

func startDaemon(t *testing.T, name, bin string, args []string, dir string) *daemon {
	t.Helper()
	logFile := filepath.Join(dir, name+".log")
	// O_APPEND: the daemon may open the same file again by name (/dev/stderr), and both
	// descriptors must add to its end.
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	redistest.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{name: name, logFile: logFile, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.exited
		if t.Failed() {
			t.Logf("%s log (%s):\n%s", name, logFile, d.log())
		}
	})
	return d
}

func (d *daemon) log() string {
	b, err := os.ReadFile(d.logFile)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	return string(b)
}

// waitUntil polls ready (a readiness probe, not a wait for an outcome) until it is true;
// the daemon exiting first, or the bound passing, fails the test.
func (d *daemon) waitUntil(t *testing.T, what string, bound time.Duration, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !ready() {
		select {
		case <-d.exited:
			t.Fatalf("%s exited before %s:\n%s", d.name, what, d.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %s:\n%s", d.name, what, bound, d.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// filesContaining lists the files under dir that contain s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// ---- nginx: deploy/nginx.conf run for real ------------------------------------------------

// requireNginx returns Debian's nginx, or skips the test (fails it under REQUIRE_NGINX=1 or
// REQUIRE_BROWSER=1, which CI sets).
func requireNginx(t *testing.T) string {
	t.Helper()
	return requireDaemon(t, "nginx", "NGINX_PATH", "/usr/sbin/nginx", "apt-get install nginx-light", "REQUIRE_NGINX", "REQUIRE_BROWSER")
}

// replaceOnce replaces the one match of re; anything but exactly one means the config
// changed shape, and the adapter must be updated rather than guess.
func replaceOnce(conf string, re *regexp.Regexp, repl, what string) (string, error) {
	if n := len(re.FindAllStringIndex(conf, -1)); n != 1 {
		return "", fmt.Errorf("deploy/nginx.conf: %d %s, want exactly one: update adaptNginxConf", n, what)
	}
	return re.ReplaceAllString(conf, repl), nil
}

// adaptNginxConf is deploy/nginx.conf adapted only in its upstream servers (one line per
// upstream, same parameters), its listen address (the IPv6 one goes: the tests listen on IPv4
// loopback) and its files (pid, temporary directories, under dir), as web/e2e/servers.ts
// adapts it, so that it runs on loopback beside anything.
func adaptNginxConf(conf string, upstreams []string, listen, dir string) (string, error) {
	upstream := regexp.MustCompile(`(?m)^([ \t]*)server app:8080 ([^;\n]*);[ \t]*$`)
	m := upstream.FindStringSubmatch(conf)
	if m == nil {
		return "", errors.New(`deploy/nginx.conf: no "server app:8080 ...;" upstream line: update adaptNginxConf`)
	}
	var lines []string
	for _, u := range upstreams {
		lines = append(lines, m[1]+"server "+u+" "+m[2]+";")
	}
	out, err := replaceOnce(conf, upstream, strings.ReplaceAll(strings.Join(lines, "\n"), "$", "$$"), `"server app:8080" lines`)
	if err != nil {
		return "", err
	}
	if out, err = replaceOnce(out, regexp.MustCompile(`(?m)^([ \t]*)listen 8080;[ \t]*$`), "${1}listen "+listen+";", `"listen 8080;" lines`); err != nil {
		return "", err
	}
	if out, err = replaceOnce(out, regexp.MustCompile(`(?m)^[ \t]*listen \[::\]:8080;.*$`), "", `"listen [::]:8080;" lines`); err != nil {
		return "", err
	}
	paths := regexp.MustCompile(`(?m)^([ \t]*)(pid|\w+_temp_path)[ \t]+/tmp/([^;\s]+);`)
	if n := len(paths.FindAllString(out, -1)); n != 6 {
		return "", fmt.Errorf("deploy/nginx.conf: %d pid and temp path lines under /tmp, want 6: update adaptNginxConf", n)
	}
	return paths.ReplaceAllString(out, "${1}${2} "+strings.ReplaceAll(dir, "$", "$$")+"/${3};"), nil
}

// startNginx runs nginx in the foreground with conf (written to dir) and waits until it
// answers its own /healthz on listen.
func startNginx(t *testing.T, bin, conf, listen, dir string) {
	t.Helper()
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// -e: the log nginx writes before it has read the config (the default is under /var/log)
	d := startDaemon(t, "nginx", bin, []string{"-e", "stderr", "-c", confFile, "-p", dir + "/", "-g", "daemon off;"}, dir)
	d.waitUntil(t, "200 from its own /healthz", 15*time.Second, func() bool {
		status, _, err := rawHTTP(listen, "GET", "/healthz", nil)
		return err == nil && status == http.StatusOK
	})
}

// rawHTTP sends one request with exactly this request target (no client-side cleaning or
// re-encoding of the path) and returns the status and body.
func rawHTTP(addr, method, target string, header map[string]string) (int, string, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, "", fmt.Errorf("deadline: %w", err)
	}
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, addr)
	for k, v := range header {
		fmt.Fprintf(&req, "%s: %s\r\n", k, v)
	}
	if _, ok := header["Connection"]; !ok {
		req.WriteString("Connection: close\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return 0, "", fmt.Errorf("write request: %w", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return 0, "", fmt.Errorf("read response: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if err != nil && res.StatusCode != http.StatusSwitchingProtocols {
		return 0, "", fmt.Errorf("read body: %w", err)
	}
	return res.StatusCode, string(body), nil
}

// nginxInFrontOf runs the shipped config in front of one upstream and returns its address.
func nginxInFrontOf(t *testing.T, bin string, upstream *httptest.Server) string {
	t.Helper()
	dir := t.TempDir()
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	conf, err := adaptNginxConf(readNginxConf(t), []string{upstream.Listener.Addr().String()}, listen, dir)
	if err != nil {
		t.Fatal(err)
	}
	startNginx(t, bin, conf, listen, dir)
	return listen
}

func readNginxConf(t *testing.T) string {
	t.Helper()
	conf, err := os.ReadFile("deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	return string(conf)
}

// Resume tokens travel in the URL (GET /ws?resume=<token>). nginx writes the request line
// into its error log with every line about a request that failed upstream, so the shipped
// config's error log level must be one that has none of those, and it keeps no access log.
// Run for real: two dead upstreams (so that both "connect() failed" / "no live upstreams"
// at error and "upstream server temporarily disabled" at warn happen), three resumes, and the
// token must be in no file nginx wrote. The control, the same config with its error log at
// info, must show the token: that proves the requests took the failing path and that the
// test reads what nginx writes.
func TestNginxLogsNoResumeTokens(t *testing.T) {
	bin := requireNginx(t)
	conf := readNginxConf(t)

	for _, m := range regexp.MustCompile(`(?m)^\s*access_log\s+([^;]*);`).FindAllStringSubmatch(conf, -1) {
		if strings.TrimSpace(m[1]) != "off" {
			t.Errorf("access_log %s: the shipped balancer keeps no access log (request URIs carry resume tokens)", m[1])
		}
	}
	if regexp.MustCompile(`(?m)^\s*log_format\b`).MatchString(conf) {
		t.Error("deploy/nginx.conf defines a log_format: no access log is kept, so none is needed")
	}

	dead := []string{"127.0.0.1:" + strconv.Itoa(redistest.FreePort(t)), "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))}
	errorLog := regexp.MustCompile(`(?m)^error_log[ \t]+(\S+)[ \t]+\w+;`)
	for _, tc := range []struct {
		name      string
		level     string // "": as shipped
		wantToken bool
	}{
		{"as shipped", "", false},
		{"control: the same config with its error log at info", "info", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
			c, err := adaptNginxConf(conf, dead, listen, dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.level != "" {
				if c, err = replaceOnce(c, errorLog, "error_log $1 "+tc.level+";", "top-level error_log lines"); err != nil {
					t.Fatal(err)
				}
			}
			startNginx(t, bin, c, listen, dir)
			key := make([]byte, 16)
			if _, err := rand.Read(key); err != nil {
				t.Fatal(err)
			}
			token := "resume-" + hex.EncodeToString(key)
			upgrade := map[string]string{
				"Connection":            "Upgrade",
				"Upgrade":               "websocket",
				"Sec-WebSocket-Version": "13",
				"Sec-WebSocket-Key":     "dGhlIHNhbXBsZSBub25jZQ==",
			}
			for range 3 {
				status, _, err := rawHTTP(listen, "GET", "/ws?resume="+token, upgrade)
				if err != nil || status != http.StatusBadGateway {
					t.Fatalf("GET /ws?resume=… with both upstreams dead: %d %v, want 502", status, err)
				}
			}
			hits := filesContaining(t, dir, token)
			switch {
			case tc.wantToken && len(hits) == 0:
				t.Fatalf("the control's log has no resume token: the test does not see what nginx logs")
			case !tc.wantToken && len(hits) > 0:
				t.Fatalf("the resume token is in %v: nginx logs request URIs (its log follows)", hits)
			}
		})
	}
}

// The balancer is the public face: /metrics and /readyz (scraped and probed on each replica
// directly) answer 404 there, and the moderator console (/mod, /mod/api/*) is never proxied,
// however the path is spelled. The upstream records every request it gets: only the
// controls (the app's public paths) may reach it.
func TestNginxDoesNotExposeInternalEndpoints(t *testing.T) {
	bin := requireNginx(t)
	var mu sync.Mutex
	var proxied []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.RequestURI)
		mu.Unlock()
		_, _ = io.WriteString(w, "from a replica")
	}))
	t.Cleanup(upstream.Close)
	addr := nginxInFrontOf(t, bin, upstream)

	hidden := []string{
		"/metrics", "/metrics?name[]=gomegle_clients_connected", "/%6Detrics", "//metrics", "/assets/../metrics",
		"/readyz", "/%72eadyz", "//readyz",
		"/mod", "/mod/", "/mod/api/reports", "/mod/api/reports?status=open", "/mod/api/bans/1",
		"/%6Dod/api/reports", "//mod/api/reports", "/mod%2Fapi%2Freports", "/x/../mod/api/reports", "/mod/./api",
	}
	for _, target := range hidden {
		for _, method := range []string{"GET", "HEAD", "POST"} {
			status, body, err := rawHTTP(addr, method, target, map[string]string{"Content-Length": "0", "Connection": "close"})
			if err != nil {
				t.Fatalf("%s %s: %v", method, target, err)
			}
			if status != http.StatusNotFound || strings.Contains(body, "from a replica") {
				t.Errorf("%s %s through the balancer: %d %q, want nginx's 404", method, target, status, body)
			}
		}
	}
	// Controls: the public paths are proxied (so the 404s above are the config's doing), and
	// /healthz is the balancer's own.
	public := []string{"/", "/index.html", "/assets/index-abc123.js", "/api/config", "/ws", "/modern-art.png"}
	for _, target := range public {
		status, body, err := rawHTTP(addr, "GET", target, nil)
		if err != nil || status != http.StatusOK || body != "from a replica" {
			t.Errorf("GET %s through the balancer: %d %q %v, want the replica's 200", target, status, body, err)
		}
	}
	if status, body, err := rawHTTP(addr, "GET", "/healthz", nil); err != nil || status != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q %v, want the balancer's own ok", status, body, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(proxied, public) {
		t.Errorf("the replica got %q, want exactly the public controls %q", proxied, public)
	}
}

// The replicas send the UI precompressed; the balancer passes it through as it is: the
// client's Accept-Encoding reaches the replica, and what comes back (coding, length, type,
// Vary, caching, the bytes) is what the replica sent, never compressed again or undone. Run
// for real, with the server's own UI handler (over a small build with its copies) upstream.
func TestNginxPassesCompressedUIThrough(t *testing.T) {
	bin := requireNginx(t)
	var mu sync.Mutex
	var accepted []string
	ui := (&web.Server{UI: embeddedLikeFS(t)}).UIHandler()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		accepted = append(accepted, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		ui.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	listen := nginxInFrontOf(t, bin, upstream)

	const script = "/assets/index-AbCd12_-.js"
	for _, tc := range []struct {
		method, target string
		header         map[string][]string
		coding         string
	}{
		{"GET", script, map[string][]string{"Accept-Encoding": {"gzip, deflate, br, zstd"}}, "br"},
		{"GET", script, map[string][]string{"Accept-Encoding": {"gzip"}}, "gzip"},
		{"GET", script, map[string][]string{"Accept-Encoding": {"identity"}}, ""},
		{"GET", script, nil, ""},
		{"HEAD", script, map[string][]string{"Accept-Encoding": {"br"}}, "br"},
		{"GET", script, map[string][]string{"Accept-Encoding": {"br"}, "Range": {"bytes=0-99"}}, ""},
		{"GET", "/", map[string][]string{"Accept-Encoding": {"br"}}, "br"},
		// a file with no copies, asked for gzip: nginx must not compress it itself
		{"GET", "/favicon.svg", map[string][]string{"Accept-Encoding": {"gzip"}}, ""},
	} {
		t.Run(fmt.Sprintf("%s %s %v", tc.method, tc.target, tc.header), func(t *testing.T) {
			direct := fetchUI(t, upstream.URL, tc.method, tc.target, tc.header)
			through := fetchUI(t, "http://"+listen, tc.method, tc.target, tc.header)
			if through.status != direct.status || !bytes.Equal(through.body, direct.body) {
				t.Fatalf("through nginx: %d, %d bytes; from the replica: %d, %d bytes", through.status, len(through.body), direct.status, len(direct.body))
			}
			if got := through.header.Get("Content-Encoding"); got != tc.coding {
				t.Errorf("Content-Encoding %q through nginx, want %q", got, tc.coding)
			}
			for _, k := range []string{"Content-Encoding", "Content-Length", "Content-Type", "Content-Range", "Vary", "Cache-Control"} {
				if got, want := strings.Join(through.header.Values(k), ", "), strings.Join(direct.header.Values(k), ", "); got != want {
					t.Errorf("%s %q through nginx, %q from the replica", k, got, want)
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	// each case twice (direct, then through nginx): the header reached the replica both times
	for i := 0; i+1 < len(accepted); i += 2 {
		if accepted[i] != accepted[i+1] {
			t.Errorf("request %d: the replica got Accept-Encoding %q through nginx, %q directly", i/2, accepted[i+1], accepted[i])
		}
	}
}

// Issue 21 (suspected, confirmed without a balancer): half-sent requests held a goroutine each
// on a replica until HTTP_TIMEOUT, and the shipped nginx had no limit_conn or limit_req. Run
// for real in Debian's nginx: a half-sent request never reaches a replica (nginx holds it,
// until client_header_timeout); one address gets 429 past limit_req's burst of new WebSockets
// and past limit_conn's requests in progress, while another address is served.
func TestNginxLimitsPerAddress(t *testing.T) {
	bin := requireNginx(t)
	release := make(chan struct{})
	var accepted, holding atomic.Int64
	upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" { // a request that lasts, like a WebSocket
			holding.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "from a replica")
	}))
	upstream.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	upstream.Start()
	t.Cleanup(upstream.Close)
	t.Cleanup(func() { close(release) }) // before upstream.Close, which waits for the held requests

	conf := readNginxConf(t)
	perAddr := regexp.MustCompile(`(?m)^\s*limit_conn\s+peraddr\s+(\d+);`).FindStringSubmatch(conf)
	burst := regexp.MustCompile(`(?m)^\s*limit_req\s+zone=upgrades\s+burst=(\d+)\s+nodelay;`).FindStringSubmatch(conf)
	if perAddr == nil || burst == nil {
		t.Fatal("deploy/nginx.conf has no limit_conn peraddr <n> or no limit_req zone=upgrades burst=<n> nodelay on /ws")
	}
	maxConns, maxBurst := mustAtoi(t, perAddr[1]), mustAtoi(t, burst[1])
	dir := t.TempDir()
	listen := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	c, err := adaptNginxConf(conf, []string{upstream.Listener.Addr().String()}, listen, dir)
	if err != nil {
		t.Fatal(err)
	}
	startNginx(t, bin, c, listen, dir)
	from := func(local string) *net.Dialer {
		return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	}
	request := func(d *net.Dialer, target string) (net.Conn, error) {
		conn, err := d.Dial("tcp", listen)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { conn.Close() })
		_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, listen)
		return conn, err
	}
	status := func(conn net.Conn) int {
		if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	t.Run("a half-sent request never reaches a replica", func(t *testing.T) {
		before := accepted.Load()
		var halves []net.Conn
		for range 50 {
			conn, err := from("127.0.0.4").Dial("tcp", listen)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			if _, err := io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				t.Fatal(err)
			}
			halves = append(halves, conn)
		}
		// a whole request after them is proxied: what nginx holds is only the halves
		whole, err := request(from("127.0.0.5"), "/")
		if err != nil || status(whole) != http.StatusOK {
			t.Fatalf("a whole request: %v", err)
		}
		if n := accepted.Load() - before; n > 1 {
			t.Fatalf("the replica accepted %d connections for 50 half-sent requests and a whole one", n)
		}
		if _, err := io.WriteString(halves[0], "1\r\n\r\n"); err != nil { // finished: now it is proxied
			t.Fatal(err)
		}
		if got := status(halves[0]); got != http.StatusOK {
			t.Fatalf("a finished request: %d", got)
		}
	})
	t.Run("new WebSockets from one address are paced", func(t *testing.T) {
		ok, limited := 0, 0
		for range maxBurst + 50 {
			conn, err := request(from("127.0.0.6"), "/ws")
			if err != nil {
				t.Fatal(err)
			}
			switch got := status(conn); got {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				limited++
			default:
				t.Fatalf("GET /ws: %d", got)
			}
			conn.Close()
		}
		if ok < int(maxBurst) || limited == 0 {
			t.Fatalf("%d of %d upgrades let through, %d refused: want the burst (%d) through and the rest paced", ok, maxBurst+50, limited, maxBurst)
		}
		if conn, err := request(from("127.0.0.7"), "/ws"); err != nil || status(conn) != http.StatusOK {
			t.Fatalf("another address was paced too: %v", err)
		}
	})
	t.Run("requests in progress per address", func(t *testing.T) {
		var held []net.Conn
		for range maxConns {
			conn, err := request(from("127.0.0.8"), "/hold")
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, conn)
		}
		waitFor(t, 10*time.Second, "the held requests at the replica", func() bool { return holding.Load() >= maxConns })
		over, err := request(from("127.0.0.8"), "/hold")
		if err != nil {
			t.Fatal(err)
		}
		if got := status(over); got != http.StatusTooManyRequests {
			t.Fatalf("request %d in progress from one address: %d, want 429", maxConns+1, got)
		}
		if conn, err := request(from("127.0.0.9"), "/"); err != nil || status(conn) != http.StatusOK {
			t.Fatalf("another address was refused too: %v", err)
		}
		for _, conn := range held {
			conn.Close()
		}
	})
}
