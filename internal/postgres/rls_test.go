package postgres_test

import (
	"context"
	"github.com/lib/pq"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

func openApp(t *testing.T) (*pgtest.DB, *postgres.DB) {
	t.Helper()
	db := pgtest.New(t)
	app, err := postgres.Open(context.Background(), db.AppURL, time.Now, postgres.WithKeyring(db.Keyring(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return db, app
}

// The second wall: whatever SQL the application role runs, row-level security keeps it inside
// the tenants set for the transaction.
func TestRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	_, app := openApp(t)
	raw := app.SQL()
	bakkerij := postgres.SeedID("customer", "bakkerij-de-vries")
	jansen := postgres.SeedID("customer", "jansen-installatie")

	t.Run("the application role is neither superuser nor owner", func(t *testing.T) {
		var super, owner bool
		err := raw.QueryRowContext(ctx, `SELECT r.rolsuper, EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = current_user)
			FROM pg_roles r WHERE r.rolname = current_user`).Scan(&super, &owner)
		if err != nil || super || owner {
			t.Fatalf("super=%v owner=%v err=%v", super, owner, err)
		}
	})

	t.Run("without a tenant, every tenant table reads zero rows", func(t *testing.T) {
		for _, table := range []string{"customers", "contact_persons", "users", "api_keys", "persons"} {
			var n int
			if err := raw.GetContext(ctx, &n, `SELECT count(*) FROM `+table); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%s: %d rows visible without a tenant", table, n)
			}
		}
	})

	inTenant := func(t *testing.T, tenants string, all string, fn func(tx *sqlx.Tx) error) error {
		t.Helper()
		tx, err := raw.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		// SET LOCAL, as the server sets them: Citus passes it on to the workers, not set_config.
		if _, err := tx.ExecContext(ctx, `SET LOCAL app.tenants = `+pq.QuoteLiteral(tenants)+`; SET LOCAL app.all_tenants = `+pq.QuoteLiteral(all)); err != nil {
			t.Fatal(err)
		}
		return fn(tx)
	}

	t.Run("a tenant reads only its own rows, even with a query that forgets the filter", func(t *testing.T) {
		var tenants []uuid.UUID
		err := inTenant(t, "{"+bakkerij.String()+"}", "off", func(tx *sqlx.Tx) error {
			return tx.SelectContext(ctx, &tenants, `SELECT DISTINCT tenant_id FROM persons`)
		})
		if err != nil || len(tenants) != 1 || tenants[0] != bakkerij {
			t.Fatalf("tenants %v, err %v", tenants, err)
		}
	})

	t.Run("a tenant cannot write a row into another tenant", func(t *testing.T) {
		err := inTenant(t, "{"+bakkerij.String()+"}", "off", func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO persons (tenant_id, id, name) VALUES ($1, $2, 'indringer')`, jansen, uuid.New())
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "row-level security") {
			t.Fatalf("insert into another tenant: %v", err)
		}
		var moved int64
		err = inTenant(t, "{"+bakkerij.String()+"}", "off", func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE persons SET name = 'x' WHERE tenant_id = $1`, jansen)
			if err == nil {
				moved, _ = res.RowsAffected()
			}
			return err
		})
		if err != nil || moved != 0 {
			t.Fatalf("update of another tenant touched %d rows (err %v)", moved, err)
		}
	})

	t.Run("the register flag opens the customer register, never a data space", func(t *testing.T) {
		var customers, persons int
		err := inTenant(t, "{}", "on", func(tx *sqlx.Tx) error {
			if err := tx.GetContext(ctx, &customers, `SELECT count(*) FROM customers`); err != nil {
				return err
			}
			return tx.GetContext(ctx, &persons, `SELECT count(*) FROM persons`)
		})
		if err != nil || customers != 2 || persons != 0 {
			t.Fatalf("customers %d persons %d err %v", customers, persons, err)
		}
	})
}

// The first wall: the store's own filter, with RLS agreeing.
func TestStoreFiltersByTenant(t *testing.T) {
	ctx := context.Background()
	_, app := openApp(t)
	bakkerij := postgres.SeedID("customer", "bakkerij-de-vries")
	jansen := postgres.SeedID("customer", "jansen-installatie")
	only := wvsoft.TenantFilter{Tenants: []uuid.UUID{bakkerij}}

	rows, w, err := app.Persons(ctx, only, jansen, wvsoft.Page{First: 10})
	if err != nil || len(rows) != 0 || w.HasNext {
		t.Fatalf("persons of a tenant outside the filter: %d rows, %v", len(rows), err)
	}
	rows, w, err = app.Persons(ctx, only, bakkerij, wvsoft.Page{First: 10})
	if err != nil || len(rows) != 10 || !w.HasNext {
		t.Fatalf("own persons: %d rows, hasNext %v, %v", len(rows), w.HasNext, err)
	}
	next, _, err := app.Persons(ctx, only, bakkerij, wvsoft.Page{First: 10, After: rows[9].UUID})
	if err != nil || len(next) != 10 || next[0].UUID == rows[9].UUID || next[0].UUID.String() < rows[9].UUID.String() {
		t.Fatalf("keyset page 2: %v", err)
	}
	if err := app.DeletePerson(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{jansen}}, rows[0].UUID); wvsoft.ErrorCode(err) != wvsoft.ENOTFOUND {
		t.Fatalf("deleting another tenant's person: %v", err)
	}
	if _, err := app.UpdatePerson(ctx, only, rows[0].UUID, wvsoft.Changes{{Field: "maritalStatus", Value: "NOT_A_STATUS"}}); wvsoft.ErrorCode(err) != wvsoft.EINVALID {
		t.Fatalf("a check violation is bad input, got %v", err)
	}
}
