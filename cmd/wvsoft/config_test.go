package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/accesslog"
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
