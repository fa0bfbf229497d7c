package authz

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Filtering or ordering on a field is reading it: which rows match a condition, and in which
// order rows come, tell the field's values as surely as the values themselves. So the policy
// decides a filtered or ordered field as the hook decides it (action read), for every class of
// records the list can return to the request: every tenant the request's row filter reaches (or
// the one tenant of the list), every record state the type's records can be in
// (wvsoft.StatesOf), and the consent states the server knows of those tenants. Deciding it per
// class of records, not per row, means the answer does not depend on which rows exist, so that
// a refusal tells nothing about the data either.
//
//   - A condition looks only where the field is readable unmasked: when some classes allow it
//     and others do not, the condition is narrowed to the allowed classes
//     (wvsoft.Condition.Readable), and a row of another class never matches. When no class
//     allows it, the list is refused (FORBIDDEN, extensions.field the argument).
//   - An order moves every row, so it needs the field readable unmasked in every class.
//
// Under a support-access grant, the search is recorded in the access log as a read of the
// field in the customer's data space.

// mayFilter decides every condition and the order of a page of kind within f, in tenant
// (uuid.Nil for a list over every tenant in f), and returns the conditions narrowed to where
// their fields are readable: a copy, since the caller's conditions may be read at the same time
// (two totalCount fields of one connection resolve concurrently).
func (s *Store) mayFilter(ctx context.Context, kind string, f wvsoft.TenantFilter, tenant uuid.UUID, where []wvsoft.Condition, order wvsoft.Order) ([]wvsoft.Condition, error) {
	type decided struct{ readable *wvsoft.Readable }
	fields := map[string]decided{}
	readable := func(field, arg string) (*wvsoft.Readable, error) {
		if d, ok := fields[field]; ok {
			return d.readable, nil
		}
		r, err := s.readableIn(ctx, kind, f, tenant, field, arg)
		if err != nil {
			return nil, err
		}
		fields[field] = decided{r}
		return r, nil
	}
	narrowed := slices.Clone(where)
	for i := range narrowed {
		r, err := readable(narrowed[i].Field, narrowed[i].Arg)
		if err != nil {
			return nil, err
		}
		narrowed[i].Readable = r
	}
	if order.Field == "" {
		return narrowed, nil
	}
	r, err := readable(order.Field, order.Arg)
	if err == nil && r != nil {
		err = &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Field: order.Arg,
			Message: "not allowed to read " + kind + "." + order.Field + " in every " + kind + " this list can return; ordering on a field is reading it in every row"}
	}
	return narrowed, err
}

// readableIn decides field of kind for every class of records the list can hold. It returns
// nil when every class allows the field unmasked, the allowed classes when some do, and a
// FORBIDDEN error when none does. A class counts as allowed only when every tenant in which it
// can occur allows it.
func (s *Store) readableIn(ctx context.Context, kind string, f wvsoft.TenantFilter, tenant uuid.UUID, field, arg string) (*wvsoft.Readable, error) {
	r := FromContext(ctx)
	def := s.field(kind, field)
	refused := &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Field: arg,
		Message: "not allowed to read " + kind + "." + field + " in any " + kind + " this list can return; filtering on a field is reading it"}
	if r == nil || def == nil {
		return nil, refused
	}
	tenants := []uuid.UUID{tenant}
	if tenant == uuid.Nil && !f.All {
		tenants = f.Tenants
	}
	// A class of records is a record state with the consent state of its customer.
	allowed := map[wvsoft.RecordState]bool{}
	var classes []wvsoft.RecordState
	type grantedRead struct {
		d      *FieldDecision
		tenant uuid.UUID
	}
	var granted []grantedRead
	for _, t := range tenants {
		consent := []bool{r.withdrawn(t)}
		if t == uuid.Nil && len(r.subject.ConsentWithdrawn) > 0 {
			consent = []bool{false, true} // across tenants: some withdrew consent
		}
		for _, state := range wvsoft.StatesOf(kind) {
			for _, withdrawn := range consent {
				state.ConsentWithdrawn = withdrawn
				d := r.field(ctx, target{object: kind, def: def, tenant: t, state: state}, true)
				ok := d.Effect == Allow
				if prev, seen := allowed[state]; !seen {
					classes = append(classes, state)
				} else {
					ok = ok && prev
				}
				allowed[state] = ok
				if d.Effect == Allow && d.Grant != "" {
					granted = append(granted, grantedRead{d, t})
				}
			}
		}
	}
	out := &wvsoft.Readable{Withdrawn: r.subject.ConsentWithdrawn, At: r.Now()}
	for _, c := range classes {
		if allowed[c] {
			out.States = append(out.States, c)
		}
	}
	if len(out.States) == 0 {
		return nil, refused
	}
	for _, g := range granted {
		// The director searched a data space under a grant: the access log records the field
		// as read in that customer's data space.
		g.d.count.add()
		r.recordAccess(g.d, &wvsoft.Customer{TenantID: g.tenant})
	}
	if len(out.States) == len(classes) {
		return nil, nil
	}
	return out, nil
}

// Persons returns a page of one customer's data space; a customer outside the filter is not
// found.
func (s *Store) Persons(ctx context.Context, tenant uuid.UUID, p wvsoft.Page) ([]*wvsoft.Person, wvsoft.Window, error) {
	f, where, err := s.personsFilter(ctx, tenant, p.Where, p.Order)
	if err != nil {
		return nil, wvsoft.Window{}, err
	}
	p.Where = where
	return s.next.Persons(ctx, f, tenant, p)
}

// CountPersons counts what Persons pages through: the same rows, the same conditions.
func (s *Store) CountPersons(ctx context.Context, tenant uuid.UUID, where []wvsoft.Condition) (int, error) {
	f, where, err := s.personsFilter(ctx, tenant, where, wvsoft.Order{})
	if err != nil {
		return 0, err
	}
	return s.next.CountPersons(ctx, f, tenant, where)
}

func (s *Store) personsFilter(ctx context.Context, tenant uuid.UUID, where []wvsoft.Condition, order wvsoft.Order) (wvsoft.TenantFilter, []wvsoft.Condition, error) {
	f, err := Filter(ctx, wvsoft.KindPerson, ActionRead)
	if err != nil {
		return f, nil, err
	}
	if !f.Allows(tenant) {
		return f, nil, wvsoft.NotFound("customer")
	}
	where, err = s.mayFilter(ctx, wvsoft.KindPerson, f, tenant, where, order)
	return f, where, err
}

// Customers returns a page of the customer register within the request's reach.
func (s *Store) Customers(ctx context.Context, p wvsoft.Page) ([]*wvsoft.Customer, wvsoft.Window, error) {
	f, where, err := s.registerFilter(ctx, wvsoft.KindCustomer, p.Where, p.Order)
	if err != nil {
		return nil, wvsoft.Window{}, err
	}
	p.Where = where
	return s.next.Customers(ctx, f, p)
}

// CountCustomers counts what Customers pages through.
func (s *Store) CountCustomers(ctx context.Context, where []wvsoft.Condition) (int, error) {
	f, where, err := s.registerFilter(ctx, wvsoft.KindCustomer, where, wvsoft.Order{})
	if err != nil {
		return 0, err
	}
	return s.next.CountCustomers(ctx, f, where)
}

// ContactPersons returns a page of the contact persons within the request's reach, across
// customers.
func (s *Store) ContactPersons(ctx context.Context, p wvsoft.Page) ([]*wvsoft.ContactPerson, wvsoft.Window, error) {
	f, where, err := s.registerFilter(ctx, wvsoft.KindContactPerson, p.Where, p.Order)
	if err != nil {
		return nil, wvsoft.Window{}, err
	}
	p.Where = where
	return s.next.ContactPersons(ctx, f, p)
}

// CountContactPersons counts what ContactPersons pages through.
func (s *Store) CountContactPersons(ctx context.Context, where []wvsoft.Condition) (int, error) {
	f, where, err := s.registerFilter(ctx, wvsoft.KindContactPerson, where, wvsoft.Order{})
	if err != nil {
		return 0, err
	}
	return s.next.CountContactPersons(ctx, f, where)
}

// registerFilter is the row filter of a list of kind across customers, and its conditions as
// the policy lets them look.
func (s *Store) registerFilter(ctx context.Context, kind string, where []wvsoft.Condition, order wvsoft.Order) (wvsoft.TenantFilter, []wvsoft.Condition, error) {
	f, err := Filter(ctx, kind, ActionRead)
	if err != nil {
		return f, nil, err
	}
	where, err = s.mayFilter(ctx, kind, f, uuid.Nil, where, order)
	return f, where, err
}
