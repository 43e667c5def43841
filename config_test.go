package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaultsEnvAndFlags(t *testing.T) {
	cfg, err := LoadConfig(nil, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.RedisURL != "" || cfg.InterestFallback != 5*time.Second || cfg.MatchTTL != 10*time.Minute ||
		cfg.ReadLimit != 384<<10 || cfg.ResumeGrace != 20*time.Second || cfg.KeyPrefix != "{mm}" || !validIDText(string(cfg.InstanceID)) {
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
		"REPORTS_MAX", "AUTOBAN_MIN_CONVERSATION", "AUTOBAN_REPORTER_AGE", "REPORT_EVIDENCE_MAX"} {
		if !strings.Contains(out.String(), "["+name+"]") {
			t.Errorf("-h does not document %s", name)
		}
	}
}
