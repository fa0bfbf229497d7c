package postgres

import (
	"context"
	"database/sql"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// SetTenants is setTenants, for the tests of package postgres_test.
var SetTenants = setTenants

// Reader is reader and ReadTx is readTx, for the tests of package postgres_test.
type Reader = reader

func ReadTx(d *DB, ctx context.Context, f wvsoft.TenantFilter, fn func(q Reader) error) error {
	return d.readTx(ctx, f, fn)
}

// ScanPersons is scanPersons, PersonColumns personColumns.
var ScanPersons = func(rows *sql.Rows, dest *[]*wvsoft.Person) error { return scanPersons(rows, dest) }

const PersonColumns = personColumns
