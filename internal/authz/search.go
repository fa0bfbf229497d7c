package authz

import (
	"context"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Filtering or ordering on a field is reading it: which rows match a condition, and in which
// order rows come, tell the field's values as surely as the values themselves. So a list may be
// filtered or ordered on a field only when the policy lets the request read that field,
// unmasked, in every class of records the list can return to it: every tenant the request's row
// filter reaches (or the one tenant of the list) and every record state the type's records can
// be in (wvsoft.StatesOf) with the consent state the server knows of that tenant. Deciding it
// per class of records, not per row, means the answer does not depend on which rows exist, so
// that a refusal tells nothing about the data either. A refusal names the field (FORBIDDEN, with
// extensions.field the argument). Under a support-access grant, the search is recorded in the
// access log as a read of the field in the customer's data space.

// mayFilter checks every condition and the order of a page of kind within f, in tenant (uuid.Nil
// for a list over every tenant in f).
func (s *Store) mayFilter(ctx context.Context, kind string, f wvsoft.TenantFilter, tenant uuid.UUID, where []wvsoft.Condition, order wvsoft.Order) error {
	checked := map[string]bool{}
	check := func(field, arg string) error {
		if field == "" || checked[field] {
			return nil
		}
		checked[field] = true
		return s.readableEverywhere(ctx, kind, f, tenant, field, arg)
	}
	for _, c := range where {
		if err := check(c.Field, c.Arg); err != nil {
			return err
		}
	}
	return check(order.Field, order.Arg)
}

// readableEverywhere decides field of kind as the hook would for every class of records the list
// can hold, and refuses unless every decision allows it unmasked.
func (s *Store) readableEverywhere(ctx context.Context, kind string, f wvsoft.TenantFilter, tenant uuid.UUID, field, arg string) error {
	r := FromContext(ctx)
	typ := s.schema.Types[kind]
	if r == nil || typ == nil || typ.Fields.ForName(field) == nil {
		return &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed to filter or order on " + kind + "." + field, Field: arg}
	}
	def := typ.Fields.ForName(field)
	tenants := []uuid.UUID{tenant}
	if tenant == uuid.Nil && !f.All {
		tenants = f.Tenants
	}
	for _, t := range tenants {
		consent := []bool{r.withdrawn(t)}
		if t == uuid.Nil && len(r.subject.ConsentWithdrawn) > 0 {
			consent = []bool{false, true} // across tenants: some withdrew consent
		}
		for _, state := range wvsoft.StatesOf(kind) {
			for _, withdrawn := range consent {
				state.ConsentWithdrawn = withdrawn
				d := r.field(ctx, target{object: kind, def: def, tenant: t, state: state}, true)
				if d.Effect != Allow {
					return &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Field: arg,
						Message: "not allowed to read " + kind + "." + field + " in every " + kind + " this list can return; filtering or ordering on a field is reading it"}
				}
				if d.Grant != "" {
					// The director searched a data space under a grant: the access log records
					// the field as read in that customer's data space.
					d.count.add()
					r.recordAccess(d, &wvsoft.Customer{TenantID: t})
				}
			}
		}
	}
	return nil
}

// Persons returns a page of one customer's data space; a customer outside the filter is not
// found.
func (s *Store) Persons(ctx context.Context, tenant uuid.UUID, p wvsoft.Page) ([]*wvsoft.Person, wvsoft.Window, error) {
	f, err := s.personsFilter(ctx, tenant, p.Where, p.Order)
	if err != nil {
		return nil, wvsoft.Window{}, err
	}
	return s.next.Persons(ctx, f, tenant, p)
}

// CountPersons counts what Persons pages through: the same rows, the same conditions.
func (s *Store) CountPersons(ctx context.Context, tenant uuid.UUID, where []wvsoft.Condition) (int, error) {
	f, err := s.personsFilter(ctx, tenant, where, wvsoft.Order{})
	if err != nil {
		return 0, err
	}
	return s.next.CountPersons(ctx, f, tenant, where)
}

func (s *Store) personsFilter(ctx context.Context, tenant uuid.UUID, where []wvsoft.Condition, order wvsoft.Order) (wvsoft.TenantFilter, error) {
	f, err := Filter(ctx, wvsoft.KindPerson, ActionRead)
	if err != nil {
		return f, err
	}
	if !f.Allows(tenant) {
		return f, wvsoft.NotFound("customer")
	}
	return f, s.mayFilter(ctx, wvsoft.KindPerson, f, tenant, where, order)
}

// Customers returns a page of the customer register within the request's reach.
func (s *Store) Customers(ctx context.Context, p wvsoft.Page) ([]*wvsoft.Customer, wvsoft.Window, error) {
	f, err := s.customersFilter(ctx, p.Where, p.Order)
	if err != nil {
		return nil, wvsoft.Window{}, err
	}
	return s.next.Customers(ctx, f, p)
}

// CountCustomers counts what Customers pages through.
func (s *Store) CountCustomers(ctx context.Context, where []wvsoft.Condition) (int, error) {
	f, err := s.customersFilter(ctx, where, wvsoft.Order{})
	if err != nil {
		return 0, err
	}
	return s.next.CountCustomers(ctx, f, where)
}

func (s *Store) customersFilter(ctx context.Context, where []wvsoft.Condition, order wvsoft.Order) (wvsoft.TenantFilter, error) {
	f, err := Filter(ctx, wvsoft.KindCustomer, ActionRead)
	if err != nil {
		return f, err
	}
	return f, s.mayFilter(ctx, wvsoft.KindCustomer, f, uuid.Nil, where, order)
}
