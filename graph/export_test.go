package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/service"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// WithFieldHook replaces the authorization hook. It exists only in test binaries, so that the
// benchmarks can compare the shipped hook with none and with a naive one; production code
// cannot reach it. The hook sees every field, scalar struct fields too, unless the caller
// says otherwise.
func WithFieldHook(cfg HandlerConfig, hook graphql.FieldMiddleware) HandlerConfig {
	cfg.fieldHook = hook
	if cfg.scalars == nil {
		cfg.scalars = throughHook
	}
	return cfg
}

// WithoutAuthorization is the benchmarks' mode=off: no hook, and scalar struct fields shown as
// read, so that the mode differs from the shipped one by authorization alone.
func WithoutAuthorization(cfg HandlerConfig) HandlerConfig {
	cfg.fieldHook = func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }
	cfg.scalars = unchecked
	return cfg
}

// WithScalarsThroughHook sends every field through gqlgen's path and the hook, as before the
// generated fast path of scalar struct fields: the reference the fast path is compared with.
func WithScalarsThroughHook(cfg HandlerConfig) HandlerConfig {
	cfg.scalars = throughHook
	return cfg
}

// throughHook takes gqlgen's path, through the handler's hook, for every scalar struct field.
func throughHook(string, graphql.CollectedField) bool { return false }

// unchecked shows every scalar struct field as read: mode=off of the benchmarks only.
func unchecked(string, graphql.CollectedField) bool { return true }

// ResolverOver composes the resolvers over a persistence store as the server's composition
// root does (cmd/wvsoft/serve.go): the authorized store, the service over it with the clock.
func ResolverOver(store wvsoft.Store, now wvsoft.Clock) *Resolver {
	authorized := authz.NewStore(store)
	return NewResolver(authorized, service.New(authorized, service.WithClock(now), service.WithSubjectReader(NewSubjectReader(authorized))))
}

// QuotedString is the fast path's writer of a String value.
func QuotedString(s string) graphql.Marshaler { return (*quotedString)(&s) }
