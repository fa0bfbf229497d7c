package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// listField is a field of the API that a list may filter or order on, and its SQL (migration
// 00012). Fields are named as the API names them; the columns stay here. Encrypted columns
// (crypt.go) are never listed: their ciphertext has no order and matches nothing.
type listField struct {
	// column is the stored column, for equality (an enum) and date ranges.
	column string
	// key is what the list orders on and searches text in: a generated key column, folded as
	// wvsoft_fold folds (a text field), or an expression over column (a date); "" when the
	// field is only filtered on.
	key string
	// fold folds a searched text as the key was folded; %s is its parameter. "" for non-text.
	fold string
	// cast is the type of the key, to which a cursor's key is cast.
	cast string
}

const (
	foldText       = `wvsoft_fold(%s)`
	foldPostalCode = `wvsoft_fold(replace(%s, ' ', ''))`
)

// textField is a searchable text field with its generated key column.
func textField(key, fold string) listField {
	return listField{key: key, fold: fold, cast: `text COLLATE "C"`}
}

// dateField is a date that lists filter on by range and order on; rows without one come first.
func dateField(column string) listField {
	return listField{column: column, key: "coalesce(" + column + ", '-infinity'::date)", cast: "date"}
}

// list is a table as a list of the API: its columns, its id (the tiebreak of every order and the
// cursor of the order of creation) and its fields.
type list struct {
	kind, table, columns, id string
	fields                   map[string]listField
	// class is the SQL condition of the rows in a record state (wvsoft.RecordState, without
	// the consent state, which every list has by its tenant_id) at the time in parameter at:
	// the columns the state of the list's records comes from, as their RecordState method reads
	// them. nil when all the type's records are in one state.
	class func(st wvsoft.RecordState, at string) string
}

// endedRelationship is the condition that the customer's relationship has ended at the time in
// parameter at, as wvsoft.RecordState's Relationship says it (relationshipAt): its end date, at
// midnight UTC, is not after that time. customer is the customers row's alias. The time is the
// request's (the injected clock the policy decided at), not the database's.
func endedRelationship(customer, at string) string {
	return fmt.Sprintf(`(%[1]s.relationship_end IS NOT NULL AND (%[1]s.relationship_end::timestamp AT TIME ZONE 'UTC') <= %[2]s::timestamptz)`, customer, at)
}

// relationshipClass is the condition for a state's relationship, over the condition that it ended.
func relationshipClass(s wvsoft.RecordState, ended string) string {
	if s.Relationship == wvsoft.RelationshipEnded {
		return ended
	}
	return "NOT " + ended
}

// storedContactRole is the stored contact role of the state's ContactRole.
func storedContactRole(r wvsoft.ContactRole) (string, bool) {
	switch r {
	case wvsoft.ContactRoleOwner:
		return "OWNER", true
	case wvsoft.ContactRoleDirector:
		return "DIRECTOR", true
	case wvsoft.ContactRoleContact:
		return "CONTACT", true
	}
	return "", false
}

// The lists of the API, made when asked for (no package state).

func personList() list {
	return list{kind: wvsoft.KindPerson, table: "persons", columns: personColumns, id: "id",
		fields: map[string]listField{
			"name":          textField("name_key", foldText),
			"city":          textField("city_key", foldText),
			"postalCode":    textField("postal_code_key", foldPostalCode),
			"birthDate":     dateField("birth_date"),
			"maritalStatus": {column: "marital_status"},
		}}
}

func customerList() list {
	return list{kind: wvsoft.KindCustomer, table: "customers", columns: customerColumns, id: "tenant_id",
		fields: map[string]listField{
			"name":              textField("name_key", foldText),
			"city":              textField("city_key", foldText),
			"postalCode":        textField("postal_code_key", foldPostalCode),
			"relationshipStart": dateField("relationship_start"),
			"relationshipEnd":   {column: "relationship_end", cast: "date"},
		},
		class: func(st wvsoft.RecordState, at string) string {
			return relationshipClass(st, endedRelationship("customers", at))
		},
	}
}

func contactPersonList() list {
	return list{kind: wvsoft.KindContactPerson, table: "contact_persons_read", columns: contactPersonColumns, id: "id",
		fields: map[string]listField{
			"name": textField("name_key", foldText),
			"role": {column: "role"},
		},
		class: func(st wvsoft.RecordState, at string) string {
			ended := endedRelationship("contact_persons_read", at)
			restricted := "restricted_at IS NULL"
			if st.Restricted {
				restricted = "restricted_at IS NOT NULL"
			}
			role := "(role IS NULL OR role NOT IN ('OWNER', 'DIRECTOR', 'CONTACT'))"
			if r, ok := storedContactRole(st.ContactRole); ok {
				role = "role = '" + r + "'"
			}
			return relationshipClass(st, ended) + " AND " + restricted + " AND " + role
		},
	}
}

// unusable is the error for a field the list cannot filter or order on; the API's input types
// offer none, so only a caller of the store that bypasses them meets it.
func (l list) unusable(field, arg string) error {
	return &wvsoft.Error{Code: wvsoft.EINVALID, Message: l.kind + "." + field + " cannot be filtered or ordered on", Field: arg}
}

// escapeLike makes a searched text match itself only: LIKE's wildcards and escape are escaped.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// where is the conditions as SQL over parameters appended to args; "TRUE" for none.
func (l list) where(conds []wvsoft.Condition, args *[]any) (string, error) {
	parts := []string{"TRUE"}
	param := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	for _, c := range conds {
		fd, ok := l.fields[c.Field]
		if !ok {
			return "", l.unusable(c.Field, c.Arg)
		}
		if c.Readable != nil {
			readable, err := l.readable(c, param)
			if err != nil {
				return "", err
			}
			parts = append(parts, readable)
		}
		switch {
		case c.Op == wvsoft.OpStartsWith && fd.fold != "" && len(c.Values) == 1:
			// A range, not LIKE: under row-level security only leakproof operators (the text
			// comparisons) become index conditions (migration 00012). The folded text is a
			// constant when the statement is planned (lib/pq binds the parameters of an unnamed
			// statement before planning), so the range is one index scan. U+10FFFF is the
			// largest character: every text that starts with the prefix sorts below it.
			text := fmt.Sprintf(fd.fold, param(c.Values[0]))
			parts = append(parts, fmt.Sprintf(`%s >= %s AND %s < (%s || chr(1114111))`, fd.key, text, fd.key, text))
		case c.Op == wvsoft.OpContains && fd.fold != "" && len(c.Values) == 1:
			text := fmt.Sprintf(fd.fold, param(escapeLike(c.Values[0])))
			parts = append(parts, fmt.Sprintf(`%s LIKE ('%%' || %s || '%%') COLLATE "C"`, fd.key, text))
		case c.Op == wvsoft.OpIn && fd.column != "" && fd.cast == "" && len(c.Values) > 0:
			parts = append(parts, fmt.Sprintf("%s = ANY(%s)", fd.column, param(pq.Array(c.Values))))
		case (c.Op == wvsoft.OpFrom || c.Op == wvsoft.OpTo) && fd.cast == "date" && len(c.Values) == 1:
			op := ">="
			if c.Op == wvsoft.OpTo {
				op = "<="
			}
			parts = append(parts, fmt.Sprintf("%s %s %s::date", fd.column, op, param(c.Values[0])))
		default:
			return "", l.unusable(c.Field, c.Arg)
		}
	}
	return strings.Join(parts, " AND "), nil
}

// readable is the condition that a row is in one of the classes where c may look
// (wvsoft.Readable): its record state and its customer's consent state.
func (l list) readable(c wvsoft.Condition, param func(any) string) (string, error) {
	if l.class == nil {
		// The authorized store narrows a condition only for a type whose records differ in
		// state; a list that cannot tell them apart matches nothing rather than too much.
		return "FALSE", nil
	}
	withdrawn := make([]string, len(c.Readable.Withdrawn))
	for i, t := range c.Readable.Withdrawn {
		withdrawn[i] = t.String()
	}
	w, at := param(pq.Array(withdrawn)), param(c.Readable.At)
	classes := make([]string, 0, len(c.Readable.States))
	for _, st := range c.Readable.States {
		consent := fmt.Sprintf("NOT (tenant_id = ANY(%s::uuid[]))", w)
		if st.ConsentWithdrawn {
			consent = fmt.Sprintf("tenant_id = ANY(%s::uuid[])", w)
		}
		classes = append(classes, "("+l.class(st, at)+" AND "+consent+")")
	}
	if len(classes) == 0 {
		return "FALSE", nil
	}
	return "(" + strings.Join(classes, " OR ") + ")", nil
}

// order is the page's order in the direction it travels (backwards for last/before), the key
// expression, and the keyset conditions of the rows after the cursor and of those not after it.
type order struct {
	by          string
	after, upTo string
}

// within is the condition of the list's own rows (the tenant filter and the list's scope): the
// cursor's row is looked up among them only.
func (l list) order(p wvsoft.Page, within string, args *[]any) (order, error) {
	desc := p.Order.Desc != p.Backward // the direction the page travels in
	dir, gt, le := "ASC", ">", "<="
	if desc {
		dir, gt, le = "DESC", "<", ">="
	}
	o := order{by: fmt.Sprintf("%s %s", l.id, dir)}
	left, right := l.id, ""
	if p.Order.Field != "" {
		fd, ok := l.fields[p.Order.Field]
		if !ok || fd.key == "" {
			return o, l.unusable(p.Order.Field, p.Order.Arg)
		}
		o.by = fmt.Sprintf("%s %s, %s %s", fd.key, dir, l.id, dir)
		if p.After != uuid.Nil {
			// The cursor names its row only; the row's sort key is read here, so that a cursor
			// carries no value of the row (a name in a URL or a log would outlive an erasure)
			// and cannot bring a key of its own. The row is looked up among the list's own rows:
			// a cursor of another list (another customer's, within the caller's reach or not)
			// would otherwise tell where that row sorts. A row gone since, or not in the list,
			// ends the list. Naming the list's tenant also routes the look-up to its shard.
			*args = append(*args, p.After)
			left = "(" + fd.key + ", " + l.id + ")"
			right = fmt.Sprintf("((SELECT %s FROM %s WHERE %s = $%d AND %s), ", fd.key, l.table, l.id, len(*args), within)
		}
	}
	if p.After == uuid.Nil {
		o.after, o.upTo = "TRUE", "FALSE"
		return o, nil
	}
	if right == "" {
		*args = append(*args, p.After)
		right = fmt.Sprintf("$%d", len(*args))
	} else {
		right += fmt.Sprintf("$%d)", len(*args))
	}
	o.after, o.upTo = left+" "+gt+" "+right, left+" "+le+" "+right
	return o, nil
}

// page reads one page of l within the tenant filter ($1), the scope (a condition over the
// parameters scopeArgs, $2...), the page's conditions and its cursor, into dest; and whether
// rows lie beyond the page and before its cursor. Rows come in the list's order, also when the
// page was read backwards.
func page[R any](ctx context.Context, d *DB, f wvsoft.TenantFilter, l list, scope string, scopeArgs []any,
	p wvsoft.Page, dest *[]R) (wvsoft.Window, error) {
	var w wvsoft.Window
	clause, tenantArg := tenantClause(f)
	args := append([]any{tenantArg}, scopeArgs...)
	where, err := l.where(p.Where, &args)
	if err != nil {
		return w, err
	}
	o, err := l.order(p, clause+" AND "+scope, &args)
	if err != nil {
		return w, err
	}
	from := fmt.Sprintf(`FROM %s WHERE %s AND %s AND %s`, l.table, clause, scope, where)
	rowsSQL := fmt.Sprintf(`SELECT %s %s AND %s ORDER BY %s LIMIT $%d`,
		l.columns, from, o.after, o.by, len(args)+1)
	// The rows on the other side of the cursor: those not after it, in the same conditions.
	behindSQL := fmt.Sprintf(`SELECT EXISTS (SELECT 1 %s AND %s)`, from, o.upTo)
	var behind bool
	err = d.readTx(ctx, f, func(tx reader) error {
		if err := selectInto(ctx, tx, dest, rowsSQL, append(args, p.First+1)...); err != nil {
			return err
		}
		if p.After == uuid.Nil {
			return nil
		}
		return tx.GetContext(ctx, &behind, behindSQL, args...)
	})
	if err != nil {
		return w, err
	}
	more := len(*dest) > p.First
	if more {
		*dest = (*dest)[:p.First]
	}
	if p.Backward {
		slices.Reverse(*dest)
		w.HasPrevious, w.HasNext = more, behind
	} else {
		w.HasNext, w.HasPrevious = more, behind
	}
	return w, nil
}

// count counts the rows of l within the tenant filter, the scope and the conditions.
func count(ctx context.Context, d *DB, f wvsoft.TenantFilter, l list, scope string, scopeArgs []any, where []wvsoft.Condition) (int, error) {
	clause, tenantArg := tenantClause(f)
	args := append([]any{tenantArg}, scopeArgs...)
	cond, err := l.where(where, &args)
	if err != nil {
		return 0, err
	}
	var n int
	err = d.readTx(ctx, f, func(tx reader) error {
		return tx.GetContext(ctx, &n, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s AND %s AND %s`, l.table, clause, scope, cond), args...)
	})
	return n, err
}

// Persons returns a page of one customer's data space: in the order of creation by default
// (keyset on the primary key), or by a field through its index (tenant_id, key, id); either way
// the cost of a page does not grow with the data space.
func (d *DB) Persons(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, p wvsoft.Page) ([]*wvsoft.Person, wvsoft.Window, error) {
	var out []*wvsoft.Person
	w, err := page(ctx, d, f, personList(), "tenant_id = $2", []any{tenant}, p, &out)
	if err != nil {
		return nil, w, err
	}
	return out, w, d.openPersons(out)
}

// CountPersons counts the persons of one customer's data space that meet the conditions.
func (d *DB) CountPersons(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, where []wvsoft.Condition) (int, error) {
	return count(ctx, d, f, personList(), "tenant_id = $2", []any{tenant}, where)
}

// Customers returns a page of the customer register, by default in the order of creation
// (tenant ids are UUIDv7).
func (d *DB) Customers(ctx context.Context, f wvsoft.TenantFilter, p wvsoft.Page) ([]*wvsoft.Customer, wvsoft.Window, error) {
	var out []*wvsoft.Customer
	w, err := page(ctx, d, f, customerList(), "TRUE", nil, p, &out)
	if err != nil {
		return nil, w, err
	}
	return out, w, nil
}

// CountCustomers counts the customers within the filter that meet the conditions.
func (d *DB) CountCustomers(ctx context.Context, f wvsoft.TenantFilter, where []wvsoft.Condition) (int, error) {
	return count(ctx, d, f, customerList(), "TRUE", nil, where)
}

// ContactPersons returns a page of the contact persons within the filter, across customers: by
// default in the order of creation.
func (d *DB) ContactPersons(ctx context.Context, f wvsoft.TenantFilter, p wvsoft.Page) ([]*wvsoft.ContactPerson, wvsoft.Window, error) {
	var out []*wvsoft.ContactPerson
	w, err := page(ctx, d, f, contactPersonList(), "TRUE", nil, p, &out)
	if err != nil {
		return nil, w, err
	}
	return out, w, nil
}

// CountContactPersons counts the contact persons within the filter that meet the conditions.
func (d *DB) CountContactPersons(ctx context.Context, f wvsoft.TenantFilter, where []wvsoft.Condition) (int, error) {
	return count(ctx, d, f, contactPersonList(), "TRUE", nil, where)
}
