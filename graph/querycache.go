package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// Parsed and validated documents are kept for the queries a front end sends again and again,
// so that a request of a known query neither parses nor validates it (a third of a
// node lookup's work). Only valid documents are kept (gqlgen adds them after validation), never
// variables; a document is the query text and its syntax tree, so the cache is small and takes
// only short queries, to bound its memory.
const (
	cachedQueries      = 256
	maxCachedQueryText = 8 << 10
)

// queryCache is gqlgen's LRU of documents, for queries of at most maxCachedQueryText bytes.
type queryCache struct{ lru *lru.LRU[*ast.QueryDocument] }

func newQueryCache() queryCache { return queryCache{lru: lru.New[*ast.QueryDocument](cachedQueries)} }

func (c queryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	return c.lru.Get(ctx, query)
}

func (c queryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) <= maxCachedQueryText {
		c.lru.Add(ctx, query, doc)
	}
}
