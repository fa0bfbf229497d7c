package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

var _ wvsoft.Store = (*DB)(nil)

// Column lists, one per table, so that every query of a type reads the same columns. Contact
// persons are read from contact_persons_read, which adds the customer's relationship end
// (migration 00021).
const (
	customerColumns      = `tenant_id, slug, name, email, phone, street, postal_code, city, kvk_number, iban, relationship_start, relationship_end, created_at`
	contactPersonColumns = `tenant_id, id, salutation, name, role, email, phone, restricted_at,
		relationship_end`
	userColumns   = wvsoft.UserColumns
	apiKeyColumns = `tenant_id, id, name, prefix, can_write, special_categories, created_at, revoked_at`
	// personColumns, as every @table type's, come from its declaration in schema.graphql.
	personColumns = wvsoft.PersonColumns
)

// tenantClause is the tenant filter as SQL over parameter $1, and the value of $1. It is the
// first wall; row-level security, set from the same filter, is the second.
func tenantClause(f wvsoft.TenantFilter) (string, any) {
	if f.All {
		return "$1::uuid[] IS NULL", nil
	}
	return "tenant_id = ANY($1)", pq.Array(f.Tenants)
}

// lookupClause is tenantClause for a lookup by primary key, (tenant_id, id) = (any of the
// tenants, one of some ids): the tenant test is a filter of the rows found, not an index
// condition. As an index condition beside row-level security's own tenant test, PostgreSQL 15
// costs every index that leads with tenant_id alike for such a lookup, and took one that reads
// all of a customer's rows to find one id: a node(id:) read 1,000 index entries in a customer of
// 1,000 persons, and would read 1,000,000 in the largest. Row-level security bounds
// the scan to the tenants as before; this wall still drops any row of another tenant. On Citus
// the test stays an index condition: it is what routes the lookup to its tenant's shard.
func (d *DB) lookupClause(f wvsoft.TenantFilter) (string, any) {
	if f.All || d.citus {
		return tenantClause(f)
	}
	return "(tenant_id = ANY($1)) IS TRUE", pq.Array(f.Tenants)
}

// selectRows runs a SELECT whose format has one %s for the tenant clause ($1); rest are $2...
func selectRows[T any](ctx context.Context, d *DB, f wvsoft.TenantFilter, dest *[]T, format string, rest ...any) error {
	clause, arg := tenantClause(f)
	return selectWhere(ctx, d, f, dest, clause, arg, format, rest...)
}

// selectByID is selectRows for a lookup by primary key (lookupClause).
func selectByID[T any](ctx context.Context, d *DB, f wvsoft.TenantFilter, dest *[]T, format string, rest ...any) error {
	clause, arg := d.lookupClause(f)
	return selectWhere(ctx, d, f, dest, clause, arg, format, rest...)
}

func selectWhere[T any](ctx context.Context, d *DB, f wvsoft.TenantFilter, dest *[]T, clause string, arg any, format string, rest ...any) error {
	args := append([]any{arg}, rest...)
	q := fmt.Sprintf(format, clause)
	return d.readTx(ctx, f, func(tx reader) error {
		return selectInto(ctx, tx, dest, q, args...)
	})
}

// CustomersByID returns the customers among ids that the filter lets through.
func (d *DB) CustomersByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.Customer, error) {
	rows := []*wvsoft.Customer{}
	err := selectRows(ctx, d, f, &rows,
		`SELECT `+customerColumns+` FROM customers WHERE %s AND tenant_id = ANY($2)`, pq.Array(ids))
	return rows, err
}

// CreateCustomer inserts c; its TenantID must be set.
func (d *DB) CreateCustomer(ctx context.Context, f wvsoft.TenantFilter, c *wvsoft.Customer) error {
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		// The slug is unique over all customers through its lookup table (a reference table on
		// Citus, where no index spans the shards); a taken slug is a unique violation: CONFLICT.
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_slugs (slug, tenant) VALUES ($1, $2)`, c.Slug, c.TenantID); err != nil {
			return err
		}
		return tx.GetContext(ctx, &c.CreatedAt, `INSERT INTO customers (tenant_id, slug, name, email, phone, street,
			postal_code, city, kvk_number, iban, relationship_start) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
			RETURNING created_at`,
			c.TenantID, c.Slug, c.Name, c.Email, c.Phone, c.Street, c.PostalCode, c.City, c.KvkNumber, c.Iban, c.RelationshipStart)
	})
}

// UpdateCustomer applies changes to the customer id within the filter.
func (d *DB) UpdateCustomer(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID, c wvsoft.Changes) (*wvsoft.Customer, error) {
	var out wvsoft.Customer
	err := d.update(ctx, f, &out, customersTable, id, c)
	return &out, err
}

// ContactPersonsOf returns the contact persons of the given customers, grouped by customer, in one query.
func (d *DB) ContactPersonsOf(ctx context.Context, f wvsoft.TenantFilter, tenants []uuid.UUID) (map[uuid.UUID][]*wvsoft.ContactPerson, error) {
	rows := []*wvsoft.ContactPerson{}
	err := selectRows(ctx, d, f, &rows,
		`SELECT `+contactPersonColumns+` FROM contact_persons_read WHERE %s AND tenant_id = ANY($2) ORDER BY tenant_id, id`,
		pq.Array(tenants))
	byTenant := make(map[uuid.UUID][]*wvsoft.ContactPerson, len(tenants))
	for _, r := range rows {
		byTenant[r.TenantID] = append(byTenant[r.TenantID], r)
	}
	return byTenant, err
}

// ContactPersonsByID returns the contact persons among ids that the filter lets through.
func (d *DB) ContactPersonsByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.ContactPerson, error) {
	rows := []*wvsoft.ContactPerson{}
	err := selectByID(ctx, d, f, &rows,
		`SELECT `+contactPersonColumns+` FROM contact_persons_read WHERE %s AND id = ANY($2)`, pq.Array(ids))
	return rows, err
}

// CreateContactPerson inserts c.
func (d *DB) CreateContactPerson(ctx context.Context, f wvsoft.TenantFilter, c *wvsoft.ContactPerson) error {
	if !f.Allows(c.TenantID) {
		return wvsoft.NotFound("customer")
	}
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO contact_persons (tenant_id, id, salutation, name, role, email, phone)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, c.TenantID, c.UUID, c.Salutation, c.Name, c.Role, c.Email, c.Phone)
		return err
	})
}

// UpdateContactPerson applies changes to the contact person id within the filter.
func (d *DB) UpdateContactPerson(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID, c wvsoft.Changes) (*wvsoft.ContactPerson, error) {
	var out wvsoft.ContactPerson
	err := d.update(ctx, f, &out, contactPersonsTable, id, c)
	return &out, err
}

// DeleteContactPerson removes the contact person id within the filter.
func (d *DB) DeleteContactPerson(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID) error {
	return d.delete(ctx, f, contactPersonsTable, id)
}

// UsersOf returns the users of one customer.
func (d *DB) UsersOf(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) ([]*wvsoft.User, error) {
	rows := []*wvsoft.User{}
	err := selectRows(ctx, d, f, &rows,
		`SELECT `+userColumns+` FROM users WHERE %s AND tenant_id = $2 ORDER BY id`, tenant)
	return rows, err
}

// UsersByID returns the users among ids that the filter lets through.
func (d *DB) UsersByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.User, error) {
	rows := []*wvsoft.User{}
	err := selectByID(ctx, d, f, &rows, `SELECT `+userColumns+` FROM users WHERE %s AND id = ANY($2)`, pq.Array(ids))
	return rows, err
}

// CreateUser inserts u.
func (d *DB) CreateUser(ctx context.Context, f wvsoft.TenantFilter, u *wvsoft.User) error {
	if !f.Allows(u.TenantID) {
		return wvsoft.NotFound("customer")
	}
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		var taken bool
		// Logins are unique per customer (migration 00007): only this customer's own users are
		// compared, which its admin sees anyway. Whether the address signs in elsewhere, for
		// another customer or as staff, is not this customer's to learn.
		if err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND lower(email) = lower($2))`,
			u.TenantID, u.Email); err != nil {
			return err
		}
		if taken {
			return &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "a user of this customer has this e-mail address already", Field: "input.email"}
		}
		if err := insertRecord(ctx, tx, usersTable, u, u.Written(), "created_at", &u.CreatedAt); err != nil {
			return err
		}
		// Sign-in finds the user through the login index, in the same transaction.
		_, err := tx.ExecContext(ctx, `INSERT INTO login_index (email, tenant, user_id, created_at) VALUES (lower($1), $2, $3, $4)`,
			u.Email, u.TenantID, u.UUID, u.CreatedAt)
		return err
	})
}

// UpdateUser applies changes to the user id within the filter.
func (d *DB) UpdateUser(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID, c wvsoft.Changes) (*wvsoft.User, error) {
	var out wvsoft.User
	err := d.update(ctx, f, &out, usersTable, id, c)
	return &out, err
}

// DeleteUser removes the user id within the filter.
func (d *DB) DeleteUser(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID) error {
	return d.delete(ctx, f, usersTable, id)
}

// APIKeysOf returns the API keys of one customer.
func (d *DB) APIKeysOf(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) ([]*wvsoft.APIKey, error) {
	rows := []*wvsoft.APIKey{}
	err := selectRows(ctx, d, f, &rows,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE %s AND tenant_id = $2 ORDER BY id`, tenant)
	return rows, err
}

// APIKeysByID returns the keys among ids that the filter lets through.
func (d *DB) APIKeysByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.APIKey, error) {
	rows := []*wvsoft.APIKey{}
	err := selectByID(ctx, d, f, &rows, `SELECT `+apiKeyColumns+` FROM api_keys WHERE %s AND id = ANY($2)`, pq.Array(ids))
	return rows, err
}

// CreateAPIKey inserts k with the hash of its secret.
func (d *DB) CreateAPIKey(ctx context.Context, f wvsoft.TenantFilter, k *wvsoft.APIKey, secretHash []byte) error {
	if !f.Allows(k.TenantID) {
		return wvsoft.NotFound("customer")
	}
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		// The hash is unique over all customers through its lookup table: a duplicate is CONFLICT.
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_key_hashes (secret_hash, tenant, key_id) VALUES ($1, $2, $3)`,
			secretHash, k.TenantID, k.UUID); err != nil {
			return err
		}
		return tx.GetContext(ctx, &k.CreatedAt, `INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, can_write, special_categories)
			VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING created_at`,
			k.TenantID, k.UUID, k.Name, k.Prefix, secretHash, k.CanWrite, k.SpecialCategories)
	})
}

// RevokeAPIKey marks the key revoked at at; revoking twice keeps the first time.
func (d *DB) RevokeAPIKey(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID, at time.Time) (*wvsoft.APIKey, error) {
	var out wvsoft.APIKey
	err := d.updateColumns(ctx, f, &out, apiKeysTable, id, []columnChange{{"revoked_at", sqlCoalesce{at}}}, nil)
	return &out, err
}

// PersonsByID returns the persons among ids that the filter lets through.
func (d *DB) PersonsByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.Person, error) {
	rows := []*wvsoft.Person{}
	err := selectByID(ctx, d, f, &rows, `SELECT `+personColumns+` FROM persons WHERE %s AND id = ANY($2)`, pq.Array(ids))
	if err == nil {
		err = d.openPersons(rows)
	}
	return rows, err
}

// CreatePerson inserts p.
func (d *DB) CreatePerson(ctx context.Context, f wvsoft.TenantFilter, p *wvsoft.Person) error {
	if !f.Allows(p.TenantID) {
		return wvsoft.NotFound("customer")
	}
	bsn, err := d.keys.sealPtr(colBSN, p.UUID, p.Bsn)
	if err != nil {
		return err
	}
	notes, err := d.keys.sealPtr(colMedicalNotes, p.UUID, p.MedicalNotes)
	if err != nil {
		return err
	}
	row := *p
	row.Bsn, row.MedicalNotes = bsn, notes
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if err := insertRecord(ctx, tx, personsTable, &row, p.Written(), "created_at, updated_at", &p.CreatedAt, &p.UpdatedAt); err != nil {
			return err
		}
		return d.logStaffWrite(ctx, tx, p.TenantID, wvsoft.KindPerson, p.UUID, "create", p.Written(), d.now())
	})
}

// UpdatePerson applies changes to the person id within the filter.
func (d *DB) UpdatePerson(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID, c wvsoft.Changes) (*wvsoft.Person, error) {
	var out wvsoft.Person
	cols, err := personsTable.columnsOf(c)
	if err != nil {
		return nil, err
	}
	for i, ch := range cols {
		if plain, ok := ch.value.(string); ok && (ch.column == colBSN || ch.column == colMedicalNotes) {
			v, err := d.keys.seal(ch.column, id, plain)
			if err != nil {
				return nil, err
			}
			cols[i].value = v
		}
	}
	cols = append(cols, columnChange{"updated_at", d.now()})
	if err := d.updateColumns(ctx, f, &out, personsTable, id, cols, c); err != nil {
		return &out, err
	}
	return &out, d.openPersons([]*wvsoft.Person{&out})
}

// openPersons decrypts the encrypted columns of persons read from the database.
func (d *DB) openPersons(rows []*wvsoft.Person) error {
	for _, p := range rows {
		if err := d.keys.openPtr(colBSN, p.UUID, &p.Bsn); err != nil {
			return err
		}
		if err := d.keys.openPtr(colMedicalNotes, p.UUID, &p.MedicalNotes); err != nil {
			return err
		}
	}
	return nil
}

// DeletePerson removes the person id within the filter.
func (d *DB) DeletePerson(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID) error {
	return d.delete(ctx, f, personsTable, id)
}

// sqlCoalesce sets a column only when it is still null.
type sqlCoalesce struct{ value any }

// table is what update and delete need to know of a table: its name, key and columns, the
// GraphQL type it stores and which of its columns the API writes. Field names map to columns
// here, so that column names never leave this package.
type table struct {
	name, key, columns, kind string
	// read, when set, is the view the columns are read from (else name).
	read string
	// writable maps the GraphQL fields that changes may name to their columns.
	writable map[string]string
	// created maps the fields that a new row is written with to their columns (insertRecord).
	created map[string]string
}

// from is the relation the table's columns are read from.
func (t table) from() string {
	if t.read != "" {
		return t.read
	}
	return t.name
}

// The tables that take partial updates.
var (
	customersTable = table{name: "customers", key: "tenant_id", columns: customerColumns, kind: wvsoft.KindCustomer,
		writable: map[string]string{"name": "name", "email": "email", "phone": "phone", "street": "street",
			"postalCode": "postal_code", "city": "city", "kvkNumber": "kvk_number", "iban": "iban",
			"relationshipStart": "relationship_start", "relationshipEnd": "relationship_end"}}
	contactPersonsTable = table{name: "contact_persons", read: "contact_persons_read", key: "id", columns: contactPersonColumns, kind: wvsoft.KindContactPerson,
		writable: map[string]string{"salutation": "salutation", "name": "name", "role": "role", "email": "email", "phone": "phone"}}
	usersTable   = declaredTable(wvsoft.KindUser, wvsoft.UserTable, userColumns)
	apiKeysTable = table{name: "api_keys", key: "id", columns: apiKeyColumns, kind: wvsoft.KindAPIKey}
	personsTable = declaredTable(wvsoft.KindPerson, wvsoft.PersonTable, personColumns)
)

// declaredTable is the table of a @table type of schema.graphql: a new row writes the fields
// that declare a @check, a change those its Update input writes, each to its declared column.
func declaredTable(kind, name, columns string) table {
	t := table{name: name, key: "id", columns: columns, kind: kind, writable: map[string]string{}, created: map[string]string{}}
	for _, f := range wvsoft.Declarations() {
		if f.Type != kind || f.Column == "" || f.Check == "" {
			continue
		}
		t.created[f.Field] = f.Column
		if f.Updatable {
			t.writable[f.Field] = f.Column
		}
	}
	return t
}

// insertRecord inserts a new row of a @table type: the key, the tenant and the fields it was
// given (written, by their GraphQL names), as the record's db tags name the columns; returned
// are the columns the database fills in, scanned into into.
func insertRecord(ctx context.Context, tx *sqlx.Tx, t table, record any, written []string, returned string, into ...any) error {
	cols := []string{"tenant_id", t.key}
	for _, field := range written {
		col, ok := t.created[field]
		if !ok {
			return fmt.Errorf("postgres: %s.%s is not writable", t.kind, field)
		}
		cols = append(cols, col)
	}
	q := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (:%s) RETURNING %s`,
		t.name, strings.Join(cols, ", "), strings.Join(cols, ", :"), returned)
	q, args, err := sqlx.Named(q, record)
	if err != nil {
		return err
	}
	return tx.QueryRowxContext(ctx, tx.Rebind(q), args...).Scan(into...)
}

// columnChange sets one column; only this package makes them.
type columnChange struct {
	column string
	value  any
}

// columnsOf maps changes by field to changes by column. A field the table does not take is an
// internal error: the API's inputs name only writable fields.
func (t table) columnsOf(changes wvsoft.Changes) ([]columnChange, error) {
	out := make([]columnChange, 0, len(changes)+1)
	for _, c := range changes {
		col, ok := t.writable[c.Field]
		if !ok {
			return nil, fmt.Errorf("postgres: %s.%s is not writable", t.kind, c.Field)
		}
		out = append(out, columnChange{col, c.Value})
	}
	return out, nil
}

// update applies changes to one row and returns it.
func (d *DB) update(ctx context.Context, f wvsoft.TenantFilter, dest any, t table, id uuid.UUID, changes wvsoft.Changes) error {
	cols, err := t.columnsOf(changes)
	if err != nil {
		return err
	}
	return d.updateColumns(ctx, f, dest, t, id, cols, changes)
}

// updateColumns applies column changes to one row and returns it. Column names come from this
// package, never from input; values are parameters. changes are the fields the caller changed,
// for the change history and the access log.
func (d *DB) updateColumns(ctx context.Context, f wvsoft.TenantFilter, dest any, t table, id uuid.UUID, cols []columnChange, changes wvsoft.Changes) error {
	clause, tenantArg := tenantClause(f)
	args := []any{tenantArg, id}
	sets := make([]string, 0, len(cols))
	for _, c := range cols {
		if co, ok := c.value.(sqlCoalesce); ok {
			args = append(args, co.value)
			sets = append(sets, fmt.Sprintf("%s = coalesce(%s, $%d)", c.column, c.column, len(args)))
			continue
		}
		args = append(args, c.value)
		sets = append(sets, fmt.Sprintf("%s = $%d", c.column, len(args)))
	}
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if f.All {
			// A write by id across all customers: the row's customer first, so that the write
			// names it (one shard on Citus, no commit over all of them).
			tenant, err := tenantOf(ctx, tx, t, id)
			if err != nil {
				return err
			}
			clause, args[0] = "tenant_id = ANY($1)", pq.Array([]uuid.UUID{tenant})
		}
		// The changed row is read back after the update rather than returned by it: Citus takes
		// no subquery in RETURNING (a contact person's relationship end is one).
		if len(sets) > 0 {
			var key any
			if err := tx.GetContext(ctx, &key, fmt.Sprintf(`UPDATE %s SET %s WHERE %s AND %s = $2 RETURNING %s`,
				t.name, strings.Join(sets, ", "), clause, t.key, t.key), args...); err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, dest, fmt.Sprintf(`SELECT %s FROM %s WHERE %s AND %s = $2`, t.columns, t.from(), clause, t.key), args[:2]...); err != nil {
			return err
		}
		if err := raiseAccess(ctx, tx, t, dest, id, len(sets) > 0); err != nil {
			return err
		}
		// Corrections are part of the record (P7): which fields changed, when, by whom.
		tn, ok := dest.(wvsoft.Tenanted)
		if !ok || len(changes) == 0 {
			return nil
		}
		fields := make([]string, 0, len(changes))
		for _, c := range changes {
			fields = append(fields, c.Field)
		}
		if err := recordHistory(ctx, tx, tn.Tenant(), t.name, id, fields, d.now()); err != nil {
			return err
		}
		return d.logStaffWrite(ctx, tx, tn.Tenant(), t.kind, id, "update", fields, d.now())
	})
}

// raiseAccess tells every server's live connections that a credential changed: a user (its
// role) or an API key (its revocation), so that they check theirs again at once.
func raiseAccess(ctx context.Context, tx *sqlx.Tx, t table, row any, id uuid.UUID, changed bool) error {
	tn, ok := row.(wvsoft.Tenanted)
	if !changed || !ok || (t.name != usersTable.name && t.name != apiKeysTable.name) {
		return nil
	}
	return raise(ctx, tx, wvsoft.EventAccessChanged, tn.Tenant(), id)
}

// delete removes one row by id within the filter; a row outside it is not found.
func (d *DB) delete(ctx context.Context, f wvsoft.TenantFilter, t table, id uuid.UUID) error {
	clause, tenantArg := tenantClause(f)
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if f.All {
			// As in updateColumns: the row's customer first, then a delete that names it.
			tenant, err := tenantOf(ctx, tx, t, id)
			if err != nil {
				return err
			}
			clause, tenantArg = "tenant_id = ANY($1)", pq.Array([]uuid.UUID{tenant})
		}
		var tenant uuid.UUID
		err := tx.GetContext(ctx, &tenant, fmt.Sprintf(`DELETE FROM %s WHERE %s AND id = $2 RETURNING tenant_id`, t.name, clause), tenantArg, id)
		if err != nil {
			return err // no row: not found
		}
		if t.name == usersTable.name {
			// A deleted user's address leaves the login index with it.
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_index WHERE tenant = $1 AND user_id = $2`, tenant, id); err != nil {
				return err
			}
			// Its live connections end (LISTEN): the next check finds no such user.
			if err := raise(ctx, tx, wvsoft.EventAccessChanged, tenant, id); err != nil {
				return err
			}
		}
		return d.logStaffWrite(ctx, tx, tenant, t.kind, id, "delete", nil, d.now())
	})
}

// tenantOf is the customer of row id of t (no row: not found).
func tenantOf(ctx context.Context, tx *sqlx.Tx, t table, id uuid.UUID) (uuid.UUID, error) {
	var tenant uuid.UUID
	err := tx.GetContext(ctx, &tenant, fmt.Sprintf(`SELECT tenant_id FROM %s WHERE %s = $1`, t.name, t.key), id)
	return tenant, err
}

// trimPage cuts the extra row that a page query fetched to learn whether a next page exists.
func trimPage[T any](rows []T, first int, err error) ([]T, bool, error) {
	if err != nil {
		return nil, false, err
	}
	if len(rows) > first {
		return rows[:first], true, nil
	}
	return rows, false, nil
}
