package graph

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// grantReads puts what a query read under support-access grants in the customer's access log
// while its answer is written: once its last root field is resolved every field of the answer
// is decided, and what is left is writing the answer as JSON. The answer still waits for the log
// (P9: if it cannot be logged, it does not leave); it no longer waits for it after being written.
// A 1,000-record page as the director: the entry takes ~6 ms of the database's time.
type grantReads struct {
	req       *authz.Request
	log       func(context.Context, []wvsoft.Access) error
	remaining atomic.Int32 // root fields not yet resolved
	started   atomic.Bool
	done      chan struct{}
	err       error // read after done
}

type grantReadsKey struct{}

// withGrantReads prepares the early log entry of a query; other operations, and a query with a
// deferred root field (resolved after the answer's first part), log when their answer is complete.
func withGrantReads(ctx context.Context, req *authz.Request, log func(context.Context, []wvsoft.Access) error) context.Context {
	if req == nil || !graphql.HasOperationContext(ctx) {
		return ctx
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return ctx
	}
	roots := int32(0)
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"}) {
		if f.IsDeferred() {
			return ctx
		}
		if f.Name != "__typename" { // answered without a resolver
			roots++
		}
	}
	if roots == 0 {
		return ctx
	}
	g := &grantReads{req: req, log: log, done: make(chan struct{})}
	g.remaining.Add(roots)
	return context.WithValue(ctx, grantReadsKey{}, g)
}

func grantReadsFrom(ctx context.Context) *grantReads {
	g, _ := ctx.Value(grantReadsKey{}).(*grantReads)
	return g
}

// rootResolved starts the log entry when the last root field is resolved.
func (g *grantReads) rootResolved(ctx context.Context) {
	if g.remaining.Add(-1) != 0 {
		return
	}
	accesses := g.req.TakeAccesses()
	if len(accesses) == 0 {
		return // nothing read under a grant: the answer's end finds started false and asks again
	}
	g.started.Swap(true)
	go func() {
		defer close(g.done)
		g.err = g.log(ctx, accesses)
	}()
}

// wait returns the early entry's outcome; started is false when there was none, and the caller
// logs what the request read.
func (g *grantReads) wait() (started bool, err error) {
	if g == nil || !g.started.Load() {
		return false, nil
	}
	<-g.done
	return true, g.err
}
