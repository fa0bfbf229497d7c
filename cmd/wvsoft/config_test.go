package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/pgtest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Development has introspection on, production off unless asked; the limits come from the
// environment and a bad value stops the program.
func TestConfiguration(t *testing.T) {
	dev, err := loadConfig(envOf(nil))
	if err != nil || !dev.Introspection || dev.Limits != (graph.Limits{}) {
		t.Fatalf("development: %+v %v", dev, err)
	}
	prod, err := loadConfig(envOf(map[string]string{"WVSOFT_ENV": "production"}))
	if err != nil || prod.Introspection || prod.LogFormat != "json" {
		t.Fatalf("production: %+v %v", prod, err)
	}
	limits, err := loadConfig(envOf(map[string]string{"GRAPHQL_MAX_DEPTH": "7", "GRAPHQL_MAX_COMPLEXITY": "900",
		"GRAPHQL_MAX_ALIASES": "3", "GRAPHQL_MAX_QUERY_BYTES": "1000", "GRAPHQL_MAX_TOKENS": "200",
		"GRAPHQL_MAX_BODY_BYTES": "4096", "GRAPHQL_MAX_PAGE_SIZE": "1000"}))
	want := graph.Limits{MaxDepth: 7, MaxComplexity: 900, MaxAliases: 3, MaxQueryBytes: 1000, MaxTokens: 200, MaxBodyBytes: 4096, MaxPageSize: 1000}
	if err != nil || limits.Limits != want {
		t.Fatalf("limits: %+v %v", limits.Limits, err)
	}
	timeouts, err := loadConfig(envOf(map[string]string{"SHUTDOWN_TIMEOUT": "3s", "REQUEST_TIMEOUT": "4s", "DATABASE_STATEMENT_TIMEOUT": "5s"}))
	if err != nil || timeouts.ShutdownTimeout != 3*time.Second || timeouts.RequestTimeout != 4*time.Second || timeouts.StatementTimeout != 5*time.Second {
		t.Fatalf("timeouts: %+v %v", timeouts, err)
	}
	if dev.ShutdownTimeout != 15*time.Second || dev.RequestTimeout != 30*time.Second || dev.StatementTimeout != 30*time.Second {
		t.Fatalf("default timeouts: %+v", dev)
	}
	if _, err := loadConfig(envOf(map[string]string{"REQUEST_TIMEOUT": "soon"})); err == nil {
		t.Fatal("a bad duration accepted")
	}
	cors, err := loadConfig(envOf(map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.nl,https://beheer.example.nl"}))
	if err != nil || len(cors.CORSOrigins) != 2 {
		t.Fatalf("CORS origins: %v %v", cors.CORSOrigins, err)
	}
	if _, err := loadConfig(envOf(map[string]string{"CORS_ALLOWED_ORIGINS": "*"})); err == nil {
		t.Fatal("a wildcard origin accepted")
	}
	if _, err := loadConfig(envOf(map[string]string{"GRAPHQL_MAX_DEPTH": "-1", "GRAPHQL_MAX_PAGE_SIZE": "lots"})); err == nil ||
		!strings.Contains(err.Error(), "GRAPHQL_MAX_DEPTH") || !strings.Contains(err.Error(), "GRAPHQL_MAX_PAGE_SIZE") {
		t.Fatalf("bad limits accepted: %v", err)
	}
}

// The production configuration answers neither introspection nor with field suggestions.
func TestProductionHidesTheSchema(t *testing.T) {
	if _, err := loadLogKeys(config{Production: true}, true); err == nil || !strings.Contains(err.Error(), "ACCESS_LOG_SIGNING_KEY is required") {
		t.Fatalf("production without an access-log signing key: %v", err)
	}
	skey, _, err := accesslog.GenerateKey("wvsoft-access-log-test")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, map[string]string{"WVSOFT_ENV": "production", "ACCESS_LOG_SIGNING_KEY": skey, "ALLOW_DEVELOPMENT_TOKENS": "true"})
	member := s.token("member@bakkerij-de-vries.example")
	r := s.query(member, `{ __schema { types { name } } }`, nil)
	if r.Data["__schema"] != nil || len(r.Errors) == 0 {
		t.Fatalf("introspection in production: %+v", r)
	}
	r = s.query(member, `{ me { rol } }`, nil)
	if len(r.Errors) != 1 || strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Fatalf("suggestions in production: %+v", r)
	}
	d := startServer(t, nil)
	r = d.query(d.token("member@bakkerij-de-vries.example"), `{ me { rol } }`, nil)
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Fatalf("no suggestions in development: %+v", r)
	}
}

// Every setting the program reads follows one rule: a value the program cannot take stops the start
// with an error that names the setting; none falls back to its default in silence. The table
// must cover every name config.go reads, so that a new setting is added here with its bad value.
func TestEverySettingRefusesABadValue(t *testing.T) {
	bad := map[string]string{
		"WVSOFT_ENV":                    "prod",
		"LISTEN_ADDR":                   "nowhere",
		"POLICY_DIR":                    filepath.Join(t.TempDir(), "missing"),
		"LOG_FORMAT":                    "JSON-lines",
		"LOG_LEVEL":                     "loud",
		"GRAPHQL_INTROSPECTION":         "yes please",
		"GRAPHQL_TRUSTED_DOCUMENTS":     "some",
		"GRAPHQL_TRUSTED_DOCUMENTS_DIR": filepath.Join(t.TempDir(), "missing"),
		"GRAPHQL_MAX_DEPTH":             "deep",
		"GRAPHQL_MAX_COMPLEXITY":        "0",
		"GRAPHQL_MAX_ALIASES":           "-3",
		"GRAPHQL_MAX_QUERY_BYTES":       "1k",
		"GRAPHQL_MAX_TOKENS":            "many",
		"GRAPHQL_MAX_PAGE_SIZE":         "1.5",
		"GRAPHQL_MAX_BODY_BYTES":        "1MB",
		"INQUIRY_BURST":                 "lots",
		"INQUIRY_INTERVAL":              "often",
		"OUTBOX_POLL_INTERVAL":          "-2s",
		"SHUTDOWN_TIMEOUT":              "soon",
		"TOKEN_MAX_LIFETIME":            "0",
		"REQUEST_TIMEOUT":               "30",
		"SUBSCRIPTION_RECHECK_INTERVAL": "1 minute",
		"DATABASE_STATEMENT_TIMEOUT":    "never",
		"CORS_ALLOWED_ORIGINS":          "*",
		"ALLOWED_HOSTS":                 "https://api.wvsoft.example/",
		"METRICS_ADDR":                  "0.0.0.0:9464", // not loopback, and no METRICS_TOKEN
		"TRUSTED_PROXIES":               "the proxy",
		"DATA_ENCRYPTION_KEY":           "short",
		"DATA_ENCRYPTION_OLD_KEYS":      "short",
		"ACCESS_LOG_SIGNING_KEY":        "not a key",
		"ACCESS_LOG_VERIFIER_KEYS":      "not a key",
		"PPROF_ADDR":                    "0.0.0.0:6060",
		"SMTP_URL":                      "smtp://%zz",
		"ALLOW_DEVELOPMENT_TOKENS":      "maybe",
	}
	// Free text: any value is one the program takes (a name, an address it connects to later,
	// a file it creates); what is wrong with it shows where it is used.
	free := map[string]bool{"DATABASE_URL": true, "APP_DATABASE_URL": true, "APP_DATABASE_PASSWORD": true,
		"TOKEN_KEY_FILE": true, "DATA_ENCRYPTION_KEY_FILE": true, "ACCESS_LOG_SIGNING_KEY_FILE": true,
		"OIDC_ISSUER": true, "OIDC_AUDIENCE": true, "OIDC_JWKS_URL": true, "OIDC_EMAIL_CLAIM": true,
		"OIDC_EMAIL_VERIFIED_CLAIM": true, "OIDC_CUSTOMER_CLAIM": true, "WVSOFT_TOKEN": true,
		"POLICY_AUTHORS": true, "DECISION_LOG": true, "METRICS_TOKEN": true}
	// Configuration is read in one place, config.go; any other file that reads a setting fails.
	reads := regexp.MustCompile(`\b(?:getenv|get|positive|duration|boolean|oneOf)\("([A-Z][A-Z0-9_]+)"`)
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range sources {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reads.FindAllStringSubmatch(string(src), -1) {
			if file != "config.go" {
				t.Errorf("%s reads the setting %s: settings are read in config.go only", file, m[1])
			}
			if _, ok := bad[m[1]]; !ok && !free[m[1]] {
				t.Errorf("config.go reads %s: give it a bad value here (or list it as free text)", m[1])
			}
		}
	}
	db := pgtest.New(t)
	for name, value := range bad {
		env := map[string]string{"DATABASE_URL": db.OwnerURL, "DATA_ENCRYPTION_KEY": db.DataKey, "LISTEN_ADDR": "127.0.0.1:0",
			"TOKEN_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"), "DECISION_LOG": "off",
			"ACCESS_LOG_SIGNING_KEY_FILE": filepath.Join(t.TempDir(), "log-key"), "METRICS_ADDR": "off", name: value}
		if name == "GRAPHQL_TRUSTED_DOCUMENTS_DIR" {
			env["GRAPHQL_TRUSTED_DOCUMENTS"] = "allowed"
		}
		// A setting taken as its default lets the server start: it runs until the deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, []string{"wvsoft", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: the start went on, or its error does not name the setting: %v", name, value, err)
		}
	}
}
