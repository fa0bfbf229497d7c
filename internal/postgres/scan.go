package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// selectInto is q.SelectContext, but the records of @table types (a page of persons is the
// largest answer there is) are scanned by their generated scanners instead of sqlx's reflection.
func selectInto[T any](ctx context.Context, q reader, dest *[]T, query string, args ...any) error {
	switch d := any(dest).(type) {
	case *[]*wvsoft.Person:
		return queryInto(ctx, q, query, args, func(rows scanRows) error { return scanPersons(rows, d) })
	case *[]*wvsoft.User:
		return queryInto(ctx, q, query, args, func(rows scanRows) error {
			var scan userScanner
			return scanRecords(rows, d, userColumnList, scan.point, func(r *userRow) *wvsoft.User { return &r.record })
		})
	}
	return q.SelectContext(ctx, dest, query, args...)
}

func queryInto(ctx context.Context, q reader, query string, args []any, scan func(scanRows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scan(rows)
}

// userColumnList is userColumns as rows.Columns names them.
var userColumnList = strings.Split(strings.ReplaceAll(userColumns, " ", ""), ",")

// scanRecords appends the records of rows to dest, each row one allocation (Row, generated)
// that point aims the scan at. Rows with other columns than columns, or in another order, go
// through sqlx.StructScan.
func scanRecords[Row, R any](rows scanRows, dest *[]*R, columns []string, point func(*Row) []any, record func(*Row) *R) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if !equalStrings(cols, columns) {
		return sqlx.StructScan(rows, dest)
	}
	for rows.Next() {
		row := new(Row)
		if err := rows.Scan(point(row)...); err != nil {
			return err
		}
		*dest = append(*dest, record(row))
	}
	return rows.Err()
}

// personColumnList is personColumns as rows.Columns names them.
var personColumnList = strings.Split(strings.ReplaceAll(personColumns, " ", ""), ",")

// scanRows is what scanPersons needs of *sql.Rows (and sqlx.StructScan of it).
type scanRows interface {
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// scanPersons appends the persons of rows to dest. Rows with other columns than personColumns,
// or in another order, go through sqlx.StructScan.
func scanPersons(rows scanRows, dest *[]*wvsoft.Person) error {
	// The scanner is made once (personRow and personScanner are generated from Person's
	// declaration: scan_gen.go).
	var scan personScanner
	return scanRecords(rows, dest, personColumnList, scan.point, func(r *personRow) *wvsoft.Person { return &r.record })
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// optionalText scans a nullable text column into a *string field: nil for NULL, else slot,
// which holds the value.
type optionalText struct {
	dst  **string
	slot *string
}

func (o *optionalText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*o.dst = nil
	case string:
		*o.slot, *o.dst = v, o.slot
	case []byte:
		*o.slot, *o.dst = string(v), o.slot
	default:
		return fmt.Errorf("a text column holds a %T", src)
	}
	return nil
}

// optionalTime is optionalText for a nullable date or timestamp.
type optionalTime struct {
	dst  **time.Time
	slot *time.Time
}

func (o *optionalTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*o.dst = nil
	case time.Time:
		*o.slot, *o.dst = v, o.slot
	default:
		return fmt.Errorf("a date column holds a %T", src)
	}
	return nil
}
