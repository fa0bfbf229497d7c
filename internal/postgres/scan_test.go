package postgres_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The persons' own scanner reads what sqlx reads: every column, NULLs as nil pointers, each
// row's values its own; rows of other columns go through sqlx.
func TestScanPersonsAsSqlx(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	owner, err := sqlx.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	// The seed's persons, and each of them once more with every optional column NULL.
	query := `SELECT ` + postgres.PersonColumns + ` FROM persons
		UNION ALL SELECT tenant_id, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, created_at, updated_at FROM persons
		ORDER BY 1, 2, 3 NULLS FIRST`
	var want []*wvsoft.Person
	if err := owner.SelectContext(ctx, &want, query); err != nil {
		t.Fatal(err)
	}
	scan := func(query string) []*wvsoft.Person {
		t.Helper()
		rows, err := owner.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []*wvsoft.Person
		if err := postgres.ScanPersons(rows, &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := scan(query)
	if len(want) < 4 || !reflect.DeepEqual(got, want) {
		t.Fatalf("scanned %d persons unlike sqlx's %d", len(got), len(want))
	}
	nulls, values := 0, 0
	for _, p := range got {
		if p.Name == nil && p.MedicalNotes == nil && p.BirthDate == nil {
			nulls++
		}
		if p.Name != nil && p.Household != nil && p.BirthDate != nil {
			values++
		}
	}
	if nulls == 0 || values == 0 {
		t.Fatalf("%d rows of NULLs, %d with values: the comparison saw too little", nulls, values)
	}
	// No two rows share a value's storage: changing one changes no other.
	*got[len(got)-1].Name = "changed"
	for _, p := range got[:len(got)-1] {
		if p.Name != nil && *p.Name == "changed" {
			t.Fatal("two rows share a field")
		}
	}

	// Another column order: sqlx's way, the same persons.
	other := `SELECT id, tenant_id, name, street, postal_code, city, email, phone, birth_date, iban, bsn, marital_status,
		household, medical_notes, created_at, updated_at FROM persons ORDER BY 2, 1`
	var wantOther []*wvsoft.Person
	if err := owner.SelectContext(ctx, &wantOther, other); err != nil {
		t.Fatal(err)
	}
	if gotOther := scan(other); len(wantOther) == 0 || !reflect.DeepEqual(gotOther, wantOther) {
		t.Fatalf("another column order: %d persons unlike sqlx's %d", len(gotOther), len(wantOther))
	}
}
