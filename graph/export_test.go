package graph

import "github.com/99designs/gqlgen/graphql"

// WithFieldHook replaces the authorization hook. It exists only in test binaries, so that the
// benchmarks can compare the shipped hook with none and with a naive one; production code
// cannot reach it.
func WithFieldHook(cfg HandlerConfig, hook graphql.FieldMiddleware) HandlerConfig {
	cfg.fieldHook = hook
	return cfg
}
