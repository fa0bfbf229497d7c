package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// selectInto is q.SelectContext, but persons (a page of them is the largest answer there is)
// are scanned by scanPersons instead of sqlx's reflection.
func selectInto[T any](ctx context.Context, q reader, dest *[]T, query string, args ...any) error {
	if persons, ok := any(dest).(*[]*wvsoft.Person); ok {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return scanPersons(rows, persons)
	}
	return q.SelectContext(ctx, dest, query, args...)
}

// personColumnList is personColumns as rows.Columns names them.
var personColumnList = strings.Split(strings.ReplaceAll(personColumns, " ", ""), ",")

// personRow is a scanned person and the values its optional fields point to, in one
// allocation: sqlx makes a struct, and a pointer and a string for every optional field, through
// reflection for each row.
type personRow struct {
	p     wvsoft.Person
	text  [11]string
	birth time.Time
}

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
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if !equalStrings(cols, personColumnList) {
		return sqlx.StructScan(rows, dest)
	}
	// The scanners and the argument list are made once; each row points them at its own fields.
	// The columns: 0 tenant_id, 1 id, 2-7 name street postal_code city email phone, 8
	// birth_date, 9-13 iban bsn marital_status household medical_notes, 14 created_at, 15
	// updated_at.
	var text [11]optionalText
	var birth optionalTime
	args := make([]any, len(personColumnList))
	for i := range 6 {
		args[2+i] = &text[i]
	}
	args[8] = &birth
	for i := 6; i < 11; i++ {
		args[3+i] = &text[i]
	}
	for rows.Next() {
		r := new(personRow)
		p := &r.p
		fields := [11]**string{&p.Name, &p.Street, &p.PostalCode, &p.City, &p.Email, &p.Phone,
			&p.Iban, &p.Bsn, &p.MaritalStatus, &p.Household, &p.MedicalNotes}
		for i := range text {
			text[i] = optionalText{dst: fields[i], slot: &r.text[i]}
		}
		birth = optionalTime{dst: &p.BirthDate, slot: &r.birth}
		args[0], args[1], args[14], args[15] = &p.TenantID, &p.UUID, &p.CreatedAt, &p.UpdatedAt
		if err := rows.Scan(args...); err != nil {
			return err
		}
		*dest = append(*dest, p)
	}
	return rows.Err()
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
