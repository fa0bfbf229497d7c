package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// A read runs in a read-only transaction with its tenants set, begun with its settings in one
// statement; whatever becomes of it, the connection goes back to the pool outside any transaction
// and without a tenant, or not at all.
func TestReadTxLeavesNoTransactionBehind(t *testing.T) {
	ctx := context.Background()
	_, app := openApp(t)
	raw := app.SQL()
	raw.SetMaxOpenConns(1) // every read and check below runs on the one connection there is
	bakkerij := postgres.SeedID("customer", "bakkerij-de-vries")
	f := wvsoft.TenantFilter{Tenants: []uuid.UUID{bakkerij}}

	// clean: the pool's connection is in no transaction (lib/pq refuses BEGIN inside one) and
	// has no tenant set; a connection that was closed is replaced by a fresh one, also clean.
	clean := func(t *testing.T) {
		t.Helper()
		var tenants, all sql.NullString
		var fresh bool
		// Outside a transaction a statement is its own: now() is its start.
		if err := raw.QueryRowxContext(ctx, `SELECT current_setting('app.tenants', true), current_setting('app.all_tenants', true),
			now() = statement_timestamp()`).Scan(&tenants, &all, &fresh); err != nil {
			t.Fatal(err)
		}
		if tenants.String != "" || (all.String != "" && all.String != "off") || !fresh {
			t.Fatalf("the connection came back with app.tenants %q, app.all_tenants %q, inside a transaction: %v", tenants.String, all.String, !fresh)
		}
		tx, err := raw.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatalf("the next transaction on the pool: %v", err)
		}
		tx.Rollback()
	}

	t.Run("inside: read only, the tenants set", func(t *testing.T) {
		var tenants, readOnly string
		var persons int
		err := postgres.ReadTx(app, ctx, f, func(q postgres.Reader) error {
			if err := q.GetContext(ctx, &tenants, `SELECT current_setting('app.tenants')`); err != nil {
				return err
			}
			if err := q.GetContext(ctx, &readOnly, `SHOW transaction_read_only`); err != nil {
				return err
			}
			return q.GetContext(ctx, &persons, `SELECT count(DISTINCT tenant_id) FROM persons`)
		})
		if err != nil || tenants != "{"+bakkerij.String()+"}" || readOnly != "on" || persons != 1 {
			t.Fatalf("tenants %q, read only %q, tenants of persons seen %d, err %v", tenants, readOnly, persons, err)
		}
		clean(t)
	})

	t.Run("a write is refused", func(t *testing.T) {
		err := postgres.ReadTx(app, ctx, f, func(q postgres.Reader) error {
			var n int
			return q.GetContext(ctx, &n, `WITH d AS (DELETE FROM persons RETURNING 1) SELECT count(*) FROM d`)
		})
		if err == nil {
			t.Fatal("a DELETE ran in a read-only transaction")
		}
		clean(t)
	})

	t.Run("after an error of the database", func(t *testing.T) {
		err := postgres.ReadTx(app, ctx, f, func(q postgres.Reader) error {
			var n int
			return q.GetContext(ctx, &n, `SELECT 1/0`)
		})
		if err == nil {
			t.Fatal("1/0 gave no error")
		}
		clean(t)
	})

	t.Run("after an error of the caller", func(t *testing.T) {
		mine := errors.New("mine")
		err := postgres.ReadTx(app, ctx, f, func(q postgres.Reader) error { return mine })
		if !errors.Is(err, mine) {
			t.Fatalf("err %v", err)
		}
		clean(t)
	})

	t.Run("after the request's context ended during the query", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := postgres.ReadTx(app, cctx, f, func(q postgres.Reader) error {
			var s string
			return q.GetContext(cctx, &s, `SELECT pg_sleep(5)::text`)
		})
		if err == nil {
			t.Fatal("the query outlived its context")
		}
		clean(t)
	})

	t.Run("after the request's context ended before the commit", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		postgres.ReadTx(app, cctx, f, func(q postgres.Reader) error {
			var n int
			err := q.GetContext(cctx, &n, `SELECT 1`)
			cancel()
			return err
		})
		clean(t)
	})
}
