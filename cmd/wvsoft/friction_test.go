package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/pgtest"
)

// Asking for help is not an error, for every command.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"audit", "--help"}, {"audit", "-h"},
		{"audit", "verify", "--help"}, {"token", "--help"}, {"purge", "--help"}, {"seed", "--help"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"wvsoft"}, args...), envOf(nil), &out, &errOut); err != nil {
			t.Errorf("wvsoft %s: %v", strings.Join(args, " "), err)
		}
		if !strings.Contains(out.String(), "Usage") && !strings.Contains(out.String(), "wvsoft") {
			t.Errorf("wvsoft %s printed no usage: %q", strings.Join(args, " "), out.String())
		}
	}
}

// The printed address is one a browser can open: bound to every address, it is 127.0.0.1.
func TestPrintedAddressIsBrowsable(t *testing.T) {
	for addr, want := range map[string]string{"0.0.0.0:8080": "http://127.0.0.1:8080", "[::]:8080": "http://127.0.0.1:8080",
		"127.0.0.1:9000": "http://127.0.0.1:9000", "[::1]:8080": "http://[::1]:8080", "192.0.2.7:80": "http://192.0.2.7:80"} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := browsableURL(tcp); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
	// The real server bound to every address prints 127.0.0.1, and that address serves.
	s := startServer(t, map[string]string{"LISTEN_ADDR": "0.0.0.0:0"})
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		t.Fatalf("printed %s", s.url)
	}
}

// A port in use is the one error of a second server: no worker starts and logs its own
// cancellation first.
func TestPortInUseIsTheOnlyError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	db := pgtest.New(t)
	var out, logs bytes.Buffer
	env := envOf(map[string]string{"DATABASE_URL": db.OwnerURL, "LISTEN_ADDR": taken.Addr().String(),
		"TOKEN_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"), "DATA_ENCRYPTION_KEY": db.DataKey, "DECISION_LOG": "off"})
	err = run(context.Background(), []string{"wvsoft", "serve"}, env, &out, &logs)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve on a taken port: %v", err)
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "purge") {
		t.Fatalf("misleading log before the real error:\n%s", logs.String())
	}
}

// LOG_LEVEL sets the level of the server's log; the decision log goes to its own sink
// (DECISION_LOG), here a file, and not to the console.
func TestLogLevelAndDecisionSink(t *testing.T) {
	file := filepath.Join(t.TempDir(), "logs", "decision.log")
	s := startServer(t, map[string]string{"LOG_LEVEL": "warn", "DECISION_LOG": file})
	member := s.token("member@bakkerij-de-vries.example")
	if r := s.query(member, `{ persons(first: 3) { edges { node { name iban } } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("query: %v", r.Errors)
	}
	s.shutdown()
	console := s.logs.String()
	for _, line := range []string{`"decision_id"`, `"msg":"http request"`, `"level":"INFO"`} {
		if strings.Contains(console, line) {
			t.Errorf("at LOG_LEVEL=warn the console has %s:\n%.1500s", line, console)
		}
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"path":"wvsoft/authz/decision"`) || !strings.Contains(string(raw), `"records":{"count":3,`) {
		t.Fatalf("decision log file:\n%.1500s", raw)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("decision log mode %v", fi.Mode().Perm())
	}

	// Off means off; a level that does not exist stops the program.
	off := startServer(t, map[string]string{"DECISION_LOG": "off"})
	off.query(off.token("member@bakkerij-de-vries.example"), `{ persons(first: 1) { edges { node { name } } } }`, nil)
	off.shutdown()
	if strings.Contains(off.logs.String(), `"decision_id"`) || !strings.Contains(off.logs.String(), `"msg":"http request"`) {
		t.Fatalf("DECISION_LOG=off:\n%.1500s", off.logs.String())
	}
	if _, err := loadConfig(envOf(map[string]string{"LOG_LEVEL": "chatty"})); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Fatalf("LOG_LEVEL=chatty: %v", err)
	}
	for env, want := range map[string]string{"development": ".data/decision.log", "production": "stderr"} {
		if c, _ := loadConfig(envOf(map[string]string{"WVSOFT_ENV": env})); c.DecisionLog != want {
			t.Errorf("%s: DECISION_LOG default %q, want %q", env, c.DecisionLog, want)
		}
	}
}

// The new settings are read, and a bad one stops the program.
func TestIssue18Configuration(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{"TOKEN_MAX_LIFETIME": "1h", "OIDC_EMAIL_CLAIM": "upn",
		"OIDC_EMAIL_VERIFIED_CLAIM": "none", "TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7", "LOG_LEVEL": "DEBUG", "DECISION_LOG": "stdout"}))
	if err != nil || c.TokenMaxLifetime != time.Hour || c.OIDCEmailClaim != "upn" || c.OIDCEmailVerifiedClaim != "none" ||
		len(c.TrustedProxies) != 2 || c.LogLevel != slog.LevelDebug || c.DecisionLog != "stdout" {
		t.Fatalf("%+v %v", c, err)
	}
	def, _ := loadConfig(envOf(nil))
	if def.TokenMaxLifetime != 12*time.Hour || def.OIDCEmailClaim != "email" || def.OIDCEmailVerifiedClaim != "email_verified" ||
		len(def.TrustedProxies) != 0 || def.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults: %+v", def)
	}
	for _, bad := range []map[string]string{{"TRUSTED_PROXIES": "proxy.example"}, {"TOKEN_MAX_LIFETIME": "forever"}} {
		if _, err := loadConfig(envOf(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// `wvsoft token` issues nothing beyond the maximum.
	db := pgtest.New(t)
	env := envOf(map[string]string{"DATABASE_URL": db.OwnerURL, "TOKEN_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"), "TOKEN_MAX_LIFETIME": "1h"})
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"wvsoft", "token", "--ttl", "2h", "member@bakkerij-de-vries.example"}, env, &out, &errOut); err == nil {
		t.Fatalf("a 2h token under a 1h maximum: %s", out.String())
	}
	if err := run(context.Background(), []string{"wvsoft", "token", "member@bakkerij-de-vries.example"}, env, &out, &errOut); err != nil {
		t.Fatalf("the default ttl under a 1h maximum: %v", err)
	}
}
