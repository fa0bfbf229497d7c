package graph

import (
	"context"
	"strings"
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
// A 1,000-record page as the director: the entry takes 5-15 ms, ~4 ms of it the database's CPU.
type grantReads struct {
	req       *authz.Request
	single    bool // the query has one root field
	log       func(context.Context, []wvsoft.Access) error
	remaining atomic.Int32 // root fields not yet resolved
	started   atomic.Bool
	done      chan struct{}
	skipped   bool  // no entry was written: read after done
	err       error // read after done
}

type grantReadsKey struct{}

// withGrantReads prepares the early log entry of a query; other operations, and a query with a
// deferred root field (resolved after the answer's first part), log when their answer is complete.
func withGrantReads(ctx context.Context, req *authz.Request, log func(context.Context, []wvsoft.Access) error) context.Context {
	if req == nil || len(req.Subject().Grants) == 0 || !graphql.HasOperationContext(ctx) {
		return ctx // nothing is read under a grant without one
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
	g := &grantReads{req: req, log: log, single: roots == 1, done: make(chan struct{})}
	g.remaining.Add(roots)
	return context.WithValue(ctx, grantReadsKey{}, g)
}

func grantReadsFrom(ctx context.Context) *grantReads {
	g, _ := ctx.Value(grantReadsKey{}).(*grantReads)
	return g
}

// rootResolved starts the log entry when the last root field is resolved.
func (g *grantReads) rootResolved(ctx context.Context) {
	if g.remaining.Add(-1) == 0 {
		g.start(ctx, nil)
	}
}

// start writes what the request has read under grants, on a goroutine of its own, unless an
// entry is under way: first, if foresee is given, it notes what the answer's list will show, so
// that the answer goes on being built meanwhile. An entry with nothing to write is skipped: the
// answer's end then writes what was read.
func (g *grantReads) start(ctx context.Context, foresee func()) {
	if !g.started.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer close(g.done)
		if foresee != nil {
			foresee()
		}
		accesses := g.req.TakeAccesses()
		if len(accesses) == 0 {
			g.skipped = true
			return
		}
		g.err = g.log(ctx, accesses)
	}()
}

// foresee starts the entry earlier still, when the list of a query's only root field is read
// under a grant: on the entry's goroutine, authz.ForeseeAccesses decides the leaf fields the
// query selects of the list's records (the same decisions the answer finds made, or makes
// first: the request shares them), and the entry is written, while the answer is built, which
// takes longer. Neither is on the answer's way (foreseeing and taking a 1,000-record
// page's accesses took ~1.3 ms of its ~39 before the answer could go on).
// What the answer reads beyond the foreseen fields (a nested record, a @derived value) makes
// authz.ReadAfterTaken true, and the answer's end writes a second entry with everything.
func foresee[T any](ctx context.Context, kind string, rows []T) {
	g := grantReadsFrom(ctx)
	if g == nil || !g.single || g.started.Load() || len(rows) == 0 {
		return
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || pathLen(fc.Parent) != 0 || fc.Field.Definition == nil || !graphql.HasOperationContext(ctx) {
		return // only a root field's own list: its records are all the answer holds
	}
	path, fields, ok := pathToRecords(graphql.GetOperationContext(ctx), fc.Field, kind)
	if !ok {
		return
	}
	var defs []*ast.FieldDefinition
	for _, f := range fields {
		if f.Definition != nil && len(f.Selections) == 0 && !strings.HasPrefix(f.Name, "__") &&
			f.Definition.Directives.ForName("derived") == nil {
			defs = append(defs, f.Definition)
		}
	}
	records := make([]any, len(rows))
	for i, row := range rows {
		records[i] = row
	}
	// The first record here, to know that the list is read under a grant at all (a director's
	// own register is not; then the last root field starts the entry); the rest beside the answer.
	if !g.req.ForeseeAccesses(ctx, path, kind, defs, records[:1]) {
		return
	}
	rest := records[1:]
	g.start(ctx, func() { g.req.ForeseeAccesses(ctx, path, kind, defs, rest) })
}

// pathToRecords finds the fields the query selects of the records of type kind that field
// returns: a list of them, or a connection whose edges' node is one. path are the connection's
// edges and node; ok is false for any other shape (an alias twice, say), which foresee leaves
// to the answer.
func pathToRecords(oc *graphql.OperationContext, field graphql.CollectedField, kind string) (path []authz.PathField, fields []graphql.CollectedField, ok bool) {
	typ := field.Definition.Type.Name()
	if typ == kind {
		return nil, graphql.CollectFields(oc, field.Selections, []string{kind}), true
	}
	edges, ok := onlyField(oc, field.Selections, typ, "edges")
	if !ok {
		return nil, nil, false
	}
	edgeType := edges.Definition.Type.Name()
	node, ok := onlyField(oc, edges.Selections, edgeType, "node")
	if !ok || node.Definition.Type.Name() != kind {
		return nil, nil, false
	}
	path = []authz.PathField{{Object: typ, Def: edges.Definition}, {Object: edgeType, Def: node.Definition}}
	return path, graphql.CollectFields(oc, node.Selections, []string{kind}), true
}

// onlyField is the one field called name that sel selects of type typ.
func onlyField(oc *graphql.OperationContext, sel ast.SelectionSet, typ, name string) (graphql.CollectedField, bool) {
	var found graphql.CollectedField
	n := 0
	for _, f := range graphql.CollectFields(oc, sel, []string{typ}) {
		if f.Name == name {
			found = f
			n++
		}
	}
	return found, n == 1 && found.Definition != nil
}

// wait returns the early entry's outcome; started is false when there was none, and the caller
// logs what the request read.
func (g *grantReads) wait() (started bool, err error) {
	if g == nil || !g.started.Load() {
		return false, nil
	}
	<-g.done
	return !g.skipped, g.err
}
