package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// loaders batch the lookups that nested lists would otherwise make once per parent (N+1): a
// page of 100 customers with their contact persons costs two queries, not 101.
type loaders struct {
	customers      *dataloadgen.Loader[uuid.UUID, *wvsoft.Customer]
	contactPersons *dataloadgen.Loader[uuid.UUID, []*wvsoft.ContactPerson]
}

// batchWait is how long a loader collects keys before it queries. The sibling fields of a list
// ask within microseconds of each other; the library's default of 16 ms would only add latency.
const batchWait = 2 * time.Millisecond

type loadersKey struct{}

// withLoaders gives one operation its own loaders, so nothing is cached across requests or
// subjects.
func withLoaders(ctx context.Context, store *authz.Store) context.Context {
	l := &loaders{
		customers: dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([]*wvsoft.Customer, []error) {
			rows, err := store.CustomersByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			byID := make(map[uuid.UUID]*wvsoft.Customer, len(rows))
			for _, c := range rows {
				byID[c.TenantID] = c
			}
			out := make([]*wvsoft.Customer, len(ids))
			errs := make([]error, len(ids))
			for i, id := range ids {
				if out[i] = byID[id]; out[i] == nil {
					errs[i] = wvsoft.NotFound("customer")
				}
			}
			return out, errs
		}, dataloadgen.WithWait(batchWait)),
		contactPersons: dataloadgen.NewLoader(func(ctx context.Context, tenants []uuid.UUID) ([][]*wvsoft.ContactPerson, []error) {
			byTenant, err := store.ContactPersonsOf(ctx, tenants)
			if err != nil {
				return nil, []error{err}
			}
			out := make([][]*wvsoft.ContactPerson, len(tenants))
			for i, t := range tenants {
				out[i] = byTenant[t]
				if out[i] == nil {
					out[i] = []*wvsoft.ContactPerson{}
				}
			}
			return out, nil
		}, dataloadgen.WithWait(batchWait)),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders { return ctx.Value(loadersKey{}).(*loaders) }

// prefetchContactPersons loads the contact persons of a page of customers in one query and
// primes the loader with them, so that the page costs two queries whatever its size; a
// time-windowed batch alone can split when the machine is busy.
func (r *Resolver) prefetchContactPersons(ctx context.Context, customers []*wvsoft.Customer) error {
	tenants := make([]uuid.UUID, len(customers))
	for i, c := range customers {
		tenants[i] = c.TenantID
	}
	byTenant, err := r.authorized.ContactPersonsOf(ctx, tenants)
	if err != nil {
		return err
	}
	l := loadersFrom(ctx).contactPersons
	for _, t := range tenants {
		list := byTenant[t]
		if list == nil {
			list = []*wvsoft.ContactPerson{}
		}
		l.Prime(t, list)
	}
	return nil
}

// selected reports whether the operation selects the path of fields below the current field
// (through fragments of any type).
func selected(ctx context.Context, path ...string) bool {
	oc := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for _, name := range path {
		var next []graphql.CollectedField
		found := false
		for _, f := range fields {
			if f.Name == name {
				found = true
				next = append(next, graphql.CollectFields(oc, f.Selections, nil)...)
			}
		}
		if !found {
			return false
		}
		fields = next
	}
	return true
}
