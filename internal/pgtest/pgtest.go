// Package pgtest gives tests a fresh PostgreSQL database each, cloned from a template that is
// migrated and seeded once, so a test costs a CREATE DATABASE, not a migration.
//
// The server comes from WVSOFT_TEST_DATABASE_URL or DATABASE_URL (an owner URL; `make test`
// sets it with internal/devdb/ensure-postgres.sh). Without either, tests that need a database
// fail: they never pass silently by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver

	"github.com/wvsoft/privacy/internal/postgres"
)

// TemplateName is the default template database; `make test` drops it first so that a changed
// seed or migration is picked up. WVSOFT_TEST_TEMPLATE names another, so that two working copies
// with different migrations can test against one server without rebuilding each other's template.
const TemplateName = "wvsoft_test_template"

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)

// templateName is the template this test binary uses.
func templateName() string {
	// The name goes into SQL unquoted: only a plain identifier is taken.
	if v := os.Getenv("WVSOFT_TEST_TEMPLATE"); identifier.MatchString(v) {
		return v
	}
	return TemplateName
}

// DB is a fresh database for one test.
type DB struct {
	// OwnerURL connects as the owner (migrations, seed, looking below row-level security).
	OwnerURL string
	// AppURL connects as the application role, as the server does.
	AppURL string
	Name   string
	// DataKey is the data encryption key (DATA_ENCRYPTION_KEY) the template's BSNs and medical
	// notes are encrypted with: random per template, kept as the template database's comment.
	DataKey string
}

// Keyring is DataKey as the store takes it.
func (db *DB) Keyring(t testing.TB) *postgres.Keyring {
	t.Helper()
	k, err := postgres.NewKeyring(db.DataKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// New creates a fresh database from the template and drops it when the test ends.
func New(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	base := serverURL(t)
	admin, err := sql.Open("postgres", withDatabase(base, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	template := templateName()
	nodes := clusterNodes(t, ctx, admin, base)
	key := ensureTemplate(t, ctx, admin, base, template, nodes)

	b := make([]byte, 6)
	rand.Read(b)
	name := "wvsoft_test_" + hex.EncodeToString(b)
	// On Citus every node gets its copy of the template: the coordinator's metadata names the
	// same shards on the same workers, in the database of the same name.
	for _, node := range append([]string{base}, nodes...) {
		if err := onNode(ctx, node, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
			t.Fatalf("create test database on %s: %v", redact(node), err)
		}
	}
	t.Cleanup(func() {
		for _, node := range append([]string{base}, nodes...) {
			onNode(context.Background(), node, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		}
	})
	owner := withDatabase(base, name)
	app, err := postgres.AppURL(owner, "")
	if err != nil {
		t.Fatal(err)
	}
	return &DB{OwnerURL: owner, AppURL: app, Name: name, DataKey: key}
}

// ensureTemplate migrates and seeds the template once and returns its data key; concurrent test
// binaries wait on an advisory lock.
func ensureTemplate(t testing.TB, ctx context.Context, admin *sql.DB, base, template string, workers []string) string {
	t.Helper()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v", redact(base), err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7461002)`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7461002)`)
	var key sql.NullString
	err = conn.QueryRowContext(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, template).Scan(&key)
	switch {
	case err == nil && key.Valid && onEveryNode(ctx, workers, template):
		return key.String
	case err == nil || errors.Is(err, sql.ErrNoRows):
		// None, one from before the data was encrypted, or one that a worker lacks: build it anew.
		for _, node := range append([]string{base}, workers...) {
			if err := onNode(ctx, node, `DROP DATABASE IF EXISTS `+template+` WITH (FORCE)`); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Fatal(err)
	}
	building := template + "_building"
	for _, node := range append([]string{base}, workers...) {
		onNode(ctx, node, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
		if err := onNode(ctx, node, `CREATE DATABASE `+building); err != nil {
			t.Fatal(err)
		}
	}
	url := withDatabase(base, building)
	if workers != nil {
		if err := citusDatabase(ctx, base, building, workers); err != nil {
			t.Fatalf("citus in the template: %v", err)
		}
	}
	if err := postgres.Migrate(ctx, url, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate template: %v", err)
	}
	newKey, err := postgres.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := postgres.NewKeyring(newKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Seed(ctx, url, time.Now(), keys); err != nil {
		t.Fatalf("seed template: %v", err)
	}
	// COMMENT takes no parameters; the key is base64, which holds no quote.
	if _, err := conn.ExecContext(ctx, `COMMENT ON DATABASE `+building+` IS '`+newKey+`'`); err != nil {
		t.Fatal(err)
	}
	// Rename only when complete, so a crash never leaves a half-built template behind.
	if workers != nil {
		// Citus's maintenance daemon stays connected to every database with the extension, and a
		// database with connections can be neither renamed nor copied: the template takes none.
		for _, node := range append(append([]string{}, workers...), base) {
			if err := closeDatabase(ctx, node, building); err != nil {
				t.Fatal(err)
			}
			if err := onNode(ctx, node, `ALTER DATABASE `+building+` RENAME TO `+template); err != nil {
				t.Fatal(err)
			}
		}
		return newKey
	}
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+building+` RENAME TO `+template); err != nil {
		t.Fatal(err)
	}
	return newKey
}

func serverURL(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"WVSOFT_TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	t.Fatal("no PostgreSQL: set DATABASE_URL (or run `make test`, which finds or starts one)")
	return ""
}

func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + db
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// TamperURL is OwnerURL for a test that plays an owner who switches the access log's triggers
// off: on Citus, ALTER TABLE ... DISABLE TRIGGER on a distributed table takes
// citus.enable_unsafe_triggers (on plain PostgreSQL a setting that nothing reads).
func (db *DB) TamperURL() string {
	u, err := url.Parse(db.OwnerURL)
	if err != nil {
		return db.OwnerURL
	}
	q := u.Query()
	q.Set("options", "-c citus.enable_unsafe_triggers=on")
	u.RawQuery = q.Encode()
	return u.String()
}
