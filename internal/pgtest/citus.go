package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/postgres"
)

// A Citus coordinator (`make test-citus`): the server's postgres database has the citus extension
// and names its workers in pg_dist_node. Citus keeps its metadata per database, so each test
// database is made on every node (a copy of the template on each: the coordinator's metadata
// names the same shards on the same workers in the database of the same name), and the template
// is built with the extension on every node and the workers registered before it is migrated
// (which distributes the tables, migration 00010) and seeded.
//
// WVSOFT_TEST_CITUS=1 insists on a Citus coordinator: without one the tests fail rather than run
// on plain PostgreSQL.

// Citus reports whether the server of the tests is a Citus coordinator.
func Citus(t testing.TB) bool {
	t.Helper()
	admin, err := sql.Open("postgres", withDatabase(serverURL(t), "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	return clusterNodes(t, context.Background(), admin, serverURL(t)) != nil
}

// clusterNodes returns the base URLs of the workers of a Citus coordinator (empty, not nil, for a
// coordinator without workers), or nil on plain PostgreSQL.
func clusterNodes(t testing.TB, ctx context.Context, admin *sql.DB, base string) []string {
	t.Helper()
	var citus bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')`).Scan(&citus); err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v", redact(base), err)
	}
	if !citus {
		if os.Getenv("WVSOFT_TEST_CITUS") == "1" {
			t.Fatalf("WVSOFT_TEST_CITUS=1, but %s is no Citus coordinator (no citus extension in its postgres database): run make test-citus", redact(base))
		}
		return nil
	}
	rows, err := admin.QueryContext(ctx, `SELECT nodename, nodeport FROM pg_dist_node
		WHERE groupid <> 0 AND noderole = 'primary' AND isactive ORDER BY nodeid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	nodes := []string{}
	for rows.Next() {
		var host string
		var port int
		if err := rows.Scan(&host, &port); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = net.JoinHostPort(host, strconv.Itoa(port))
		nodes = append(nodes, u.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// onNode runs one statement in the postgres database of a node.
func onNode(ctx context.Context, node, stmt string) error {
	db, err := sql.Open("postgres", withDatabase(node, "postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// onEveryNode reports whether every worker has the database.
func onEveryNode(ctx context.Context, workers []string, name string) bool {
	for _, node := range workers {
		db, err := sql.Open("postgres", withDatabase(node, "postgres"))
		if err != nil {
			return false
		}
		var ok bool
		err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&ok)
		db.Close()
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// citusDatabase puts the extension into database name on every node and registers the
// coordinator and the workers in the coordinator's copy.
func citusDatabase(ctx context.Context, base, name string, workers []string) error {
	for _, node := range append([]string{base}, workers...) {
		db, err := sql.Open("postgres", withDatabase(node, name))
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS citus`)
		db.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", redact(node), err)
		}
	}
	coord, err := sql.Open("postgres", withDatabase(base, name))
	if err != nil {
		return err
	}
	defer coord.Close()
	// The coordinator's own address as the workers reach it: as the tests reach it.
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	if _, err := coord.ExecContext(ctx, `SELECT citus_set_coordinator_host($1, $2::int)`, host, port); err != nil {
		return err
	}
	for _, w := range workers {
		wu, err := url.Parse(w)
		if err != nil {
			return err
		}
		if _, err := coord.ExecContext(ctx, `SELECT citus_add_node($1, $2::int)`, wu.Hostname(), wu.Port()); err != nil {
			return fmt.Errorf("add worker %s: %w", wu.Host, err)
		}
	}
	return nil
}

// closeDatabase makes a database take no connections and ends those it has (Citus's maintenance
// daemon among them), so that it can be renamed and copied.
func closeDatabase(ctx context.Context, node, name string) error {
	db, err := sql.Open("postgres", withDatabase(node, "postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `ALTER DATABASE `+name+` WITH ALLOW_CONNECTIONS false`); err != nil {
		return err
	}
	for i := 0; ; i++ {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1`, name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if i == 100 {
			return fmt.Errorf("database %s on %s keeps %d connections", name, redact(node), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BeforeCitus makes a database on every node of a Citus cluster without the extension,
// migrates and seeds it as plain PostgreSQL, and returns it with the function that then adds
// Citus to it (the extension on every node, the workers registered), as an operator does who
// moves an existing database onto Citus. It fails the test on plain PostgreSQL.
func BeforeCitus(t testing.TB) (*DB, func()) {
	t.Helper()
	ctx := context.Background()
	base := serverURL(t)
	admin, err := sql.Open("postgres", withDatabase(base, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	workers := clusterNodes(t, ctx, admin, base)
	if workers == nil {
		t.Fatal("BeforeCitus needs a Citus coordinator (make test-citus)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "wvsoft_test_" + hex.EncodeToString(b)
	for _, node := range append([]string{base}, workers...) {
		if err := onNode(ctx, node, `CREATE DATABASE `+name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, node := range append([]string{base}, workers...) {
			onNode(context.Background(), node, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		}
	})
	owner := withDatabase(base, name)
	if err := postgres.Migrate(ctx, owner, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	key, err := postgres.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := postgres.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Seed(ctx, owner, time.Now(), keys); err != nil {
		t.Fatalf("seed: %v", err)
	}
	app, err := postgres.AppURL(owner, "")
	if err != nil {
		t.Fatal(err)
	}
	return &DB{OwnerURL: owner, AppURL: app, Name: name, DataKey: key}, func() {
		t.Helper()
		if err := citusDatabase(ctx, base, name, workers); err != nil {
			t.Fatalf("add citus: %v", err)
		}
	}
}
