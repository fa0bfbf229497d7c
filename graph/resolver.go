// Package graph is the GraphQL layer: gqlgen's generated executor and thin resolvers that turn
// arguments into domain calls. Which fields a caller sees is decided by the authorization hook
// (fieldHook, installed in NewHandler), not here; which rows it reads and what it may
// write, by the authorized store (authz.Store) that the resolvers call.
package graph

//go:generate go run ../internal/codegen

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/graph/model"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/service"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// maxNodes bounds nodes(ids:).
const maxNodes = 100

// Resolver holds the dependencies of the resolvers, which the composition root builds once and
// hands over (NewResolver): the authorized store that queries call, and the service that every
// mutation is one call of.
type Resolver struct {
	// authorized is the persistence behind the policy (authz.Store): every call asks for its
	// row filter and decides its writes. Queries call it; mutations call service, which calls it.
	authorized *authz.Store
	// service carries out every mutation: validation, new ids and secrets, data-subject requests.
	service *service.Service
	// maxPageSize is the largest page a connection returns; NewHandler sets it in its copy from
	// HandlerConfig.Limits.
	maxPageSize int
	// scalars is how scalar struct fields are decided (scalarField); NewHandler sets it in its
	// copy.
	scalars scalarChecks
}

// NewResolver returns the resolvers over the authorized store and the service, which must be
// built over the same authorized store.
func NewResolver(authorized *authz.Store, svc *service.Service) *Resolver {
	return &Resolver{authorized: authorized, service: svc}
}

// NewSubjectReader reads a data subject's record for the article 15 export (the service's
// SubjectReader) through the same executor and field hook as any query, over the authorized
// store; it needs no service, so the service can be built with it.
func NewSubjectReader(authorized *authz.Store) service.SubjectReader {
	return &Resolver{authorized: authorized}
}

// Now is the service's clock, which every answer that depends on the time reads.
func (r *Resolver) Now() time.Time { return r.service.Now() }

// retention is the retention policy in force, the service's.
func (r *Resolver) retention() wvsoft.RetentionPolicy { return r.service.Retention() }

// persons returns a page of one customer's data space.
func (r *Resolver) persons(ctx context.Context, tenant uuid.UUID, a connectionArgs, filter *model.PersonFilter, orderBy *model.PersonOrder) (*model.PersonConnection, error) {
	p, err := r.personQuery(a, filter, orderBy)
	if err != nil {
		return nil, err
	}
	rows, w, err := r.authorized.Persons(ctx, tenant, p)
	if err != nil {
		return nil, err
	}
	noteRecords(ctx, wvsoft.KindPerson, rows, func(p *wvsoft.Person) uuid.UUID { return p.UUID })
	return personConnection(rows, w, p, tenant), nil
}

// lookup finds objects by global id, in the order given; what the caller may not see is nil,
// exactly like what does not exist.
func (r *Resolver) lookup(ctx context.Context, field string, gids []string) ([]wvsoft.Node, error) {
	byKind := map[string][]uuid.UUID{}
	parsed := make([]struct {
		kind string
		id   uuid.UUID
	}, len(gids))
	for i, gid := range gids {
		kind, id, err := wvsoft.ParseGlobalID(field, gid)
		if err != nil {
			return nil, err
		}
		parsed[i].kind, parsed[i].id = kind, id
		byKind[kind] = append(byKind[kind], id)
	}
	found := map[uuid.UUID]wvsoft.Node{}
	for kind, ids := range byKind {
		if err := r.fetchNodes(ctx, kind, ids, found); err != nil {
			return nil, err
		}
	}
	out := make([]wvsoft.Node, len(gids))
	for i, p := range parsed {
		if n, ok := found[p.id]; ok && kindOf(n) == p.kind {
			out[i] = n
			authz.NoteRecords(ctx, p.kind, p.id)
		}
	}
	return out, nil
}

func (r *Resolver) fetchNodes(ctx context.Context, kind string, ids []uuid.UUID, found map[uuid.UUID]wvsoft.Node) error {
	switch kind {
	case wvsoft.KindCustomer:
		return collect(r.authorized.CustomersByID(ctx, ids))(found, func(c *wvsoft.Customer) uuid.UUID { return c.TenantID })
	case wvsoft.KindContactPerson:
		return collect(r.authorized.ContactPersonsByID(ctx, ids))(found, func(c *wvsoft.ContactPerson) uuid.UUID { return c.UUID })
	case wvsoft.KindUser:
		return collect(r.authorized.UsersByID(ctx, ids))(found, func(u *wvsoft.User) uuid.UUID { return u.UUID })
	case wvsoft.KindAPIKey:
		return collect(r.authorized.APIKeysByID(ctx, ids))(found, func(k *wvsoft.APIKey) uuid.UUID { return k.UUID })
	case wvsoft.KindPerson:
		return collect(r.authorized.PersonsByID(ctx, ids))(found, func(p *wvsoft.Person) uuid.UUID { return p.UUID })
	case wvsoft.KindSupportAccessGrant:
		return collect(r.authorized.AccessGrantsByID(ctx, ids))(found, func(g *wvsoft.SupportAccessGrant) uuid.UUID { return g.UUID })
	}
	return nil // an unknown kind finds nothing
}

// collect adds rows to found by their id; it returns the store's error, if any.
func collect[T wvsoft.Node](rows []T, err error) func(map[uuid.UUID]wvsoft.Node, func(T) uuid.UUID) error {
	return func(found map[uuid.UUID]wvsoft.Node, id func(T) uuid.UUID) error {
		if err != nil {
			return err
		}
		for _, row := range rows {
			found[id(row)] = row
		}
		return nil
	}
}

func kindOf(n wvsoft.Node) string {
	switch n.(type) {
	case *wvsoft.Customer:
		return wvsoft.KindCustomer
	case *wvsoft.ContactPerson:
		return wvsoft.KindContactPerson
	case *wvsoft.User:
		return wvsoft.KindUser
	case *wvsoft.APIKey:
		return wvsoft.KindAPIKey
	case *wvsoft.Person:
		return wvsoft.KindPerson
	case *wvsoft.SupportAccessGrant:
		return wvsoft.KindSupportAccessGrant
	}
	return ""
}

// noteRecords tells the decision log which records a list returns.
func noteRecords[T any](ctx context.Context, kind string, rows []T, id func(T) uuid.UUID) {
	ids := make([]uuid.UUID, len(rows))
	for i, row := range rows {
		ids[i] = id(row)
	}
	authz.NoteRecords(ctx, kind, ids...)
	foresee(ctx, kind, rows)
}
