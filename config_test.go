package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-megle/go-megle/internal/redistest"
	"github.com/go-megle/go-megle/internal/wire"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaultsEnvAndFlags(t *testing.T) {
	cfg, err := LoadConfig(nil, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.RedisURL != "" || cfg.InterestFallback != 5*time.Second || cfg.MatchTTL != 10*time.Minute ||
		cfg.ReadLimit != 384<<10 || cfg.ResumeGrace != 20*time.Second || cfg.KeyPrefix != "{mm}" || !wire.ValidIDText(string(cfg.InstanceID)) {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = LoadConfig([]string{"-addr", "127.0.0.1:9000"}, envOf(map[string]string{
		"ADDR": ":1", "REDIS_URL": "redis://r:6379/0", "INSTANCE_ID": "eu-1", "ALLOWED_ORIGINS": "https://a.example, https://b.example",
		"INTEREST_FALLBACK": "2s", "TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" {
		t.Fatalf("a flag must win over its variable: %q", cfg.Addr)
	}
	if cfg.RedisURL != "redis://r:6379/0" || cfg.InstanceID != "eu-1" || len(cfg.AllowedOrigins) != 2 ||
		cfg.InterestFallback != 2*time.Second || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("from the environment: %+v", cfg)
	}
}

func TestConfigRejectsBadSettings(t *testing.T) {
	cases := map[string]map[string]string{
		"duration":          {"MATCH_TTL": "forever"},
		"hash tag":          {"KEY_PREFIX": "mm"},
		"instance id":       {"INSTANCE_ID": "a b"},
		"origin":            {"ALLOWED_ORIGINS": "example.com"},
		"proxy":             {"TRUSTED_PROXIES": "not-an-ip"},
		"two redis modes":   {"REDIS_URL": "redis://x", "REDIS_CLUSTER_ADDRS": "a:1"},
		"sentinel master":   {"REDIS_SENTINEL_ADDRS": "a:1"},
		"turn secret":       {"TURN_URLS": "turn:t:3478"},
		"heartbeat":         {"HEARTBEAT_INTERVAL": "5s", "HEARTBEAT_TTL": "6s"},
		"log level":         {"LOG_LEVEL": "loud"},
		"negative fallback": {"INTEREST_FALLBACK": "-1s"},
		"no reports":        {"REPORTS_MAX": "0"},
		"reporter age":      {"AUTOBAN_REPORTER_AGE": "168h"}, // not shorter than REPORT_TTL: never remembered so long
		"conversation":      {"AUTOBAN_MIN_CONVERSATION": "-1s"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadConfig(nil, envOf(env), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("accepted %v", env)
			}
			for k := range env {
				if !strings.Contains(err.Error(), k) && name != "two redis modes" && name != "sentinel master" {
					t.Fatalf("error %q does not name %s", err, k)
				}
			}
		})
	}
}

func TestConfigHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, err := LoadConfig([]string{"-h"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, name := range []string{"ADDR", "REDIS_URL", "INSTANCE_ID", "ALLOWED_ORIGINS", "INTEREST_FALLBACK", "MATCH_TTL",
		"RESUME_GRACE", "READ_LIMIT", "RATE_LIMIT", "MAX_CONNS_PER_IP", "TRUSTED_PROXIES", "STUN_URLS", "TURN_SECRET", "SHUTDOWN_TIMEOUT",
		"BAN_SECRET_FILE", "TURN_SECRET_FILE", "MOD_TOKEN_FILE", "REDIS_PASSWORD", "REDIS_PASSWORD_FILE", "MESSAGE_TIMEOUT",
		"UNFINISHED_BYTES_PER_IP", "MAX_HTTP_CONNS_PER_IP",
		"REPORTS_MAX", "AUTOBAN_MIN_CONVERSATION", "AUTOBAN_REPORTER_AGE", "REPORT_EVIDENCE_MAX"} {
		if !strings.Contains(out.String(), "["+name+"]") {
			t.Errorf("-h does not document %s", name)
		}
	}
}

// Issue 21, item 2: a public default secret (the compose file's insecure-dev-… values) is
// refused outside development: with a real Redis the server exits at once and says which
// setting and why; with the embedded Redis (one laptop) it only warns.
func TestServerRefusesPublicDefaultSecrets(t *testing.T) {
	rs := redistest.Start(t)
	for _, tc := range []struct {
		name, setting, value string
	}{
		{"BAN_SECRET", "BAN_SECRET", "insecure-dev-secret-set-BAN_SECRET"},
		{"TURN_SECRET", "TURN_SECRET", "insecure-dev-secret-set-TURN_SECRET"},
		{"the Redis password in REDIS_URL", "REDIS_URL", "redis://:insecure-dev-password-set-REDIS_PASSWORD@" + rs.Addr() + "/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := processEnv(rs.URL(), "ADDR=127.0.0.1:0", tc.setting+"="+tc.value)
			if tc.setting == "TURN_SECRET" {
				env = append(env, "TURN_URLS=turn:turn.example:3478")
			}
			cmd := exec.Command(serverBinary(t))
			cmd.Env = env
			redistest.DieWithParent(cmd)
			done := make(chan error, 1)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() == 0 {
					t.Fatalf("exit %v, want a failure", err)
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("the server started with the public default %s:\n%s", tc.setting, out.String())
			}
			if msg := out.String(); !strings.Contains(msg, tc.setting) || !strings.Contains(msg, "public") {
				t.Fatalf("the message does not say which setting and why:\n%s", msg)
			}
		})
	}
}

// Secrets come from files too (X_FILE), as a container without a shell is handed them; a
// public default is fine on the embedded Redis only.
func TestConfigSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := LoadConfig([]string{"-turn-secret-file", write("turn", "from-a-flag-file")}, envOf(map[string]string{
		"BAN_SECRET_FILE": write("ban", "0123456789abcdef\n"), "REDIS_PASSWORD_FILE": write("redis", "pw\r\n"),
		"MOD_TOKEN_FILE": write("mod", "a-moderator-token-of-32-characters"), "REDIS_URL": "redis://r:6379/0",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BanSecret != "0123456789abcdef" || cfg.TURNSecret != "from-a-flag-file" || cfg.RedisPassword != "pw" || cfg.ModToken != "a-moderator-token-of-32-characters" {
		t.Fatalf("secrets from files: %+v", cfg)
	}
	for name, env := range map[string]map[string]string{
		"both":          {"BAN_SECRET": "x", "BAN_SECRET_FILE": write("ban2", "y")},
		"missing file":  {"TURN_SECRET_FILE": filepath.Join(dir, "nope")},
		"empty file":    {"BAN_SECRET_FILE": write("empty", "\n")},
		"public ban":    {"BAN_SECRET_FILE": write("pub", "insecure-dev-secret-set-BAN_SECRET"), "REDIS_URL": "redis://r:6379/0"},
		"public mod":    {"MOD_TOKEN": "insecure-dev-token-set-MOD_TOKEN", "REDIS_CLUSTER_ADDRS": "a:1"},
		"public in url": {"REDIS_URL": "redis://:insecure-dev-password-set-REDIS_PASSWORD@r:6379/0"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadConfig(nil, envOf(env), &bytes.Buffer{}); err == nil {
				t.Fatalf("accepted %v", env)
			}
		})
	}
	// development: the embedded Redis takes the public defaults (main warns)
	if _, err := LoadConfig(nil, envOf(map[string]string{"BAN_SECRET": "insecure-dev-secret-set-BAN_SECRET"}), &bytes.Buffer{}); err != nil {
		t.Fatalf("the embedded Redis refused a development default: %v", err)
	}
}
