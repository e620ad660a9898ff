package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/hotpath-apm/hotpath/collector/intake"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestCollectorFlagsDefaults(t *testing.T) {
	cfg, err := parseCollectorFlags(nil, envMap(nil), new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.listen != "127.0.0.1:8200" || cfg.dataDir != "./hotpath-data" || cfg.secretToken != "" || len(cfg.apiKeys) != 0 ||
		cfg.retention != 7*24*time.Hour || cfg.maxDisk != 0 || cfg.minFreeDisk != 0 || cfg.stallTimeout != 5*time.Second || cfg.logLevel != zapcore.InfoLevel || cfg.http != defaultHTTPLimits {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestCollectorFlagsAndEnv(t *testing.T) {
	env := envMap(map[string]string{
		"HOTPATH_LISTEN":       "0.0.0.0:9200",
		"HOTPATH_DATA":         "/from/env",
		"HOTPATH_SECRET_TOKEN": "env-token",
		"HOTPATH_API_KEY":      "a:1,b:2",
		"HOTPATH_RETENTION":    "36h",
		"HOTPATH_MAX_DISK":     "2GiB",
		"HOTPATH_LOG_LEVEL":    "debug",
	})
	cfg, err := parseCollectorFlags([]string{"--data", "/from/flag", "--retention=3d"}, env, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	want := collectorConfig{
		listen: "0.0.0.0:9200", dataDir: "/from/flag", secretToken: "env-token",
		apiKeys:   []intake.APIKey{{ID: "a", Key: "1"}, {ID: "b", Key: "2"}},
		retention: 72 * time.Hour, maxDisk: 2 << 30, logLevel: zapcore.DebugLevel,
	}
	if cfg.listen != want.listen || cfg.dataDir != want.dataDir || cfg.secretToken != want.secretToken ||
		len(cfg.apiKeys) != 2 || cfg.apiKeys[0] != want.apiKeys[0] || cfg.apiKeys[1] != want.apiKeys[1] ||
		cfg.retention != want.retention || cfg.maxDisk != want.maxDisk || cfg.logLevel != want.logLevel {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}

	// A repeated flag on the command line replaces the environment's list.
	cfg, err = parseCollectorFlags([]string{"--api-key", "c:3", "--api-key", "d:4"}, env, new(bytes.Buffer))
	if err != nil || len(cfg.apiKeys) != 2 || cfg.apiKeys[0].ID != "c" || cfg.apiKeys[1].ID != "d" {
		t.Errorf("api keys %v, %v", cfg.apiKeys, err)
	}
}

func TestCollectorFlagsMinFreeDisk(t *testing.T) {
	for arg, want := range map[string]int64{"512MiB": 512 << 20, "1GB": 1e9, "off": -1, "0": -1} {
		cfg, err := parseCollectorFlags([]string{"--min-free-disk", arg}, envMap(nil), new(bytes.Buffer))
		if err != nil || cfg.minFreeDisk != want {
			t.Errorf("--min-free-disk %s: %d, %v; want %d", arg, cfg.minFreeDisk, err, want)
		}
	}
	cfg, err := parseCollectorFlags(nil, envMap(map[string]string{"HOTPATH_MIN_FREE_DISK": "2GiB"}), new(bytes.Buffer))
	if err != nil || cfg.minFreeDisk != 2<<30 {
		t.Errorf("HOTPATH_MIN_FREE_DISK: %d, %v", cfg.minFreeDisk, err)
	}
}

func TestCollectorFlagsErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--retention", "soon"}, want: "invalid retention"},
		{args: []string{"--retention", "-1d"}, want: "invalid retention"},
		{args: []string{"--max-disk", "lots"}, want: "invalid size"},
		{args: []string{"--min-free-disk", "-1GB"}, want: "invalid size"},
		{args: []string{"--api-key", "nocolon"}, want: `"id:key"`},
		{args: []string{"extra"}, want: "unexpected arguments"},
		{env: map[string]string{"HOTPATH_MAX_DISK": "-5"}, want: "HOTPATH_MAX_DISK"},
		{env: map[string]string{"HOTPATH_LOG_LEVEL": "loud"}, want: "HOTPATH_LOG_LEVEL"},
		{args: []string{"--memory-limit", "63MiB"}, want: "less than the 64MiB"},
	} {
		_, err := parseCollectorFlags(tt.args, envMap(tt.env), new(bytes.Buffer))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want one containing %q", tt.args, tt.env, err, tt.want)
		}
	}
}

// TestCollectorUsageHidesSecrets: -h output and flag errors never show the secret token.
func TestCollectorUsageHidesSecrets(t *testing.T) {
	var out bytes.Buffer
	_, _ = parseCollectorFlags([]string{"--secret-token", "hunter2", "-h"}, envMap(nil), &out)
	if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), "HOTPATH_SECRET_TOKEN") {
		t.Errorf("usage: %s", out.String())
	}
	_, err := parseCollectorFlags(nil, envMap(map[string]string{"HOTPATH_API_KEY": "hunter2"}), &out)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v shows the key", err)
	}
}

func TestRetentionFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "off": -1,
	} {
		var r retentionFlag
		if err := r.Set(in); err != nil || r.d != want {
			t.Errorf("%q: %v %v", in, r.d, err)
		}
	}
	for _, in := range []string{"", "0", "0d", "d", "7", "-2h", "forever"} {
		var r retentionFlag
		if err := r.Set(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestByteSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "500MB": 500e6, "512MiB": 512 << 20, "1.5GB": 1.5e9, "10GiB": 10 << 30,
		"2TB": 2e12, "64KiB": 64 << 10, "100B": 100, "3 GiB": 3 << 30,
	} {
		var b byteSizeFlag
		if err := b.Set(in); err != nil || b.n != want {
			t.Errorf("%q: %d %v, want %d", in, b.n, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1GB", "ten", "5PB", "1e30"} {
		var b byteSizeFlag
		if err := b.Set(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestDiskStallTimeoutFlag(t *testing.T) {
	for arg, want := range map[string]time.Duration{"30s": 30 * time.Second, "0": -1, "1ms": time.Millisecond} {
		cfg, err := parseCollectorFlags([]string{"--disk-stall-timeout", arg}, envMap(nil), new(bytes.Buffer))
		if err != nil || cfg.stallTimeout != want {
			t.Errorf("--disk-stall-timeout %s: %v, %v; want %v", arg, cfg.stallTimeout, err, want)
		}
	}
}
