package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/logging"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// HandlerConfig is what the GraphQL handler needs besides the resolvers.
type HandlerConfig struct {
	Logger *slog.Logger
	// DecisionLog receives every operation's distinct decisions as OPA decision-log events
	// (DECISION_LOG); nil keeps none.
	DecisionLog *authz.DecisionLog
	// TrustedDocuments, when set, resolves persisted-query hashes to the documents the server
	// trusts, and with Required runs nothing else (GRAPHQL_TRUSTED_DOCUMENTS).
	TrustedDocuments *TrustedDocuments
	Introspection    bool
	// FieldSuggestions lets validation errors suggest names ("Did you mean ...?") and name the
	// schema's types, which tells a caller the schema that turning introspection off hides; off
	// in production (schemaHiding).
	FieldSuggestions bool
	// Limits bound depth, cost, aliases, size and page size of a request; zero fields take the
	// defaults.
	Limits Limits
	// Metrics, when set, observe every operation and the decisions it applied.
	Metrics Metrics
	// Tracer, when set, gets a span per resolver that reaches the database and one for the
	// policy decisions of each operation.
	Tracer trace.Tracer
	// Subscriptions, when set, serve the Subscription type over WebSocket at the same path;
	// without them a WebSocket upgrade is refused.
	Subscriptions *Subscriptions
	// fieldHook replaces the authorization hook; only benchmarks in this module set it (see
	// export_test.go), so production cannot turn authorization off.
	fieldHook graphql.FieldMiddleware
	// scalars replaces scalarDecision's decision of scalar struct fields; only tests and
	// benchmarks set it (export_test.go), so production cannot skip it.
	scalars scalarChecks
}

// Metrics is what the handler reports to.
type Metrics interface {
	ObserveRequest(operation, outcome string, d time.Duration)
	CountDecisions(byEffect map[string]int64)
}

// NewHandler returns the GraphQL handler: POST and GET over HTTP within the limits, every field
// through fieldHook, one set of dataloaders per operation, and errors shown only as
// their code and safe message. Its resolvers are a copy of r with the page size limit of cfg.
func NewHandler(resolvers *Resolver, cfg HandlerConfig) http.Handler {
	limits := cfg.Limits.withDefaults()
	copied := *resolvers
	r := &copied
	r.maxPageSize = limits.MaxPageSize
	r.scalars = cfg.scalars
	es := NewExecutableSchema(Config{Resolvers: r})
	srv := handler.New(es)
	if cfg.Subscriptions != nil {
		if cfg.Logger != nil {
			// What goes wrong on a connection is logged like a request's (never a credential).
			cfg.Subscriptions.logger = cfg.Logger
		}
		srv.AddTransport(cfg.Subscriptions.transport(limits))
	}
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postTransport{})
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionOff{})
	}
	srv.SetDisableSuggestion(!cfg.FieldSuggestions)
	var hiding *schemaHiding
	if !cfg.FieldSuggestions {
		hiding = newSchemaHiding(es.Schema())
		srv.SetValidationRulesFn(hiding.rules)
	}
	srv.SetParserTokenLimit(limits.MaxTokens)
	srv.SetQueryCache(newQueryCache())
	if cfg.TrustedDocuments != nil {
		// First: a hash becomes its document before the limits measure it.
		srv.Use(trustedDocumentsExtension{docs: cfg.TrustedDocuments})
	}
	srv.Use(limitsExtension{limits: limits})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if cfg.Subscriptions != nil {
			var err *gqlerror.Error
			if ctx, err = cfg.Subscriptions.aroundOperation(ctx); err != nil {
				return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
			}
		}
		ctx = withRefusals(withLoaders(ctx, r.authorized))
		if req := authz.FromContext(ctx); req != nil {
			if cfg.fieldHook == nil {
				// Written early only where authz's hook decides: a list's fields are foreseen
				// with its decisions (a replaced hook, in tests and benchmarks, decides otherwise
				// or not at all, and the entry waits for the answer).
				ctx = withGrantReads(ctx, req, func(ctx context.Context, accesses []wvsoft.Access) error {
					return r.authorized.LogAccess(ctx, req.Subject(), accesses, r.Now())
				})
			}
			// Again, nearer: every value's decision looks it up, through every context layer
			// added since the HTTP middleware put it there.
			ctx = authz.WithRequest(ctx, req)
		}
		return next(ctx)
	})
	if cfg.Subscriptions != nil {
		// First, so that everything after it (the decision log, the access log) sees each
		// event's own authorization: a subscription's responses are its events.
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			sub := subscriptionFrom(ctx)
			if sub == nil || sub.deliver == nil {
				return next(ctx)
			}
			evCtx, ok := cfg.Subscriptions.nextEvent(ctx, sub, r)
			if !ok {
				return nil
			}
			return next(evCtx)
		})
	}
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if req := authz.FromContext(ctx); req != nil {
			// Nearer still: every scalar value of the field's records looks it up.
			ctx = authz.WithRequest(ctx, req)
		}
		m := next(ctx)
		if g := grantReadsFrom(ctx); g != nil {
			g.rootResolved(ctx)
		}
		return m
	})
	hook := cfg.fieldHook
	if hook == nil {
		hook = fieldHook(es.Schema())
	}
	srv.AroundFields(hook)
	if cfg.Tracer != nil {
		srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
			fc := graphql.GetFieldContext(ctx)
			if !fc.IsResolver {
				return next(ctx)
			}
			ctx, span := cfg.Tracer.Start(ctx, "resolve "+fc.Object+"."+fc.Field.Name)
			defer span.End()
			res, err := next(ctx)
			if err != nil {
				span.SetStatus(codes.Error, wvsoft.ErrorCode(err))
			}
			return res, err
		})
	}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if rs := refusalsFrom(ctx); rs != nil && resp != nil {
			resp.Errors = rs.appendTo(resp.Errors)
		}
		req := authz.FromContext(ctx)
		if req == nil || !graphql.HasOperationContext(ctx) {
			return resp
		}
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
			// Before the answer leaves: the caller's next request reads its subject anew.
			r.authorized.SubjectsChanged(ctx)
		}
		name := oc.OperationName
		if oc.Operation != nil && oc.Operation.Name != "" {
			name = oc.Operation.Name
		}
		if cfg.DecisionLog != nil {
			cfg.DecisionLog.Enqueue(req.DecisionEvents(logging.RequestID(ctx), name, cfg.DecisionLog.Labels(), time.Now()))
		}
		explain(ctx, req, resp)
		if cfg.Tracer != nil {
			effects := req.Effects()
			_, span := cfg.Tracer.Start(ctx, "authz.decisions", trace.WithTimestamp(oc.Stats.OperationStart))
			span.SetAttributes(attribute.Int64("allow", effects[authz.Allow]), attribute.Int64("deny", effects[authz.Deny]),
				attribute.Int64("mask", effects[authz.Mask]), attribute.Int("distinct", req.DistinctDecisions()))
			span.End()
		}
		if cfg.Metrics != nil {
			defer func() {
				cfg.Metrics.ObserveRequest(metricsOperation(cfg.TrustedDocuments, oc, name), outcome(resp), time.Since(oc.Stats.OperationStart))
				cfg.Metrics.CountDecisions(req.Effects())
			}()
		}
		// What was read under a support-access grant is in the customer's log before the
		// answer leaves; if the log cannot be written, the answer does not leave.
		// (grantReads starts it as soon as the query's last root field is resolved.)
		logged, err := grantReadsFrom(ctx).wait()
		if err == nil && (!logged || req.ReadAfterTaken()) {
			if accesses := req.Accesses(); len(accesses) > 0 {
				err = r.authorized.LogAccess(ctx, req.Subject(), accesses, r.Now())
			}
		}
		if err != nil {
			cfg.Logger.ErrorContext(ctx, "access log write failed; answer withheld", "error", err.Error())
			return &graphql.Response{Errors: gqlerror.List{{Message: "the access could not be logged; try again",
				Extensions: map[string]any{"code": wvsoft.EUNAVAILABLE}}}}
		}
		return resp
	})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		out := presentError(ctx, cfg.Logger, err)
		var gqlErr *gqlerror.Error
		if hiding != nil && errors.As(err, &gqlErr) && gqlErr.Err == nil {
			hiding.redact(out) // a refused document's message, made by gqlparser
		}
		return out
	})
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		cfg.Logger.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()))
		return errors.New("internal error")
	})
	return limitRequests(limits, cfg.Subscriptions, srv)
}

// ExplainHeader asks for the decisions of a request in the response's extensions, as does the
// operation's extension {"explain": true}.
const ExplainHeader = "X-WvSoft-Explain"

// explain puts the request's decisions into the response's extensions when the caller asked
// and may see them (authz.Request.MayExplain: a configured policy author, or anyone in
// development). Others who ask are told it is not available, and see nothing of the decisions.
func explain(ctx context.Context, req *authz.Request, resp *graphql.Response) {
	oc := graphql.GetOperationContext(ctx)
	asked := false
	if v, _ := oc.Extensions["explain"].(bool); v {
		asked = true
	}
	if h := oc.Headers.Get(ExplainHeader); h != "" && h != "0" && h != "false" {
		asked = true
	}
	if !asked || resp == nil {
		return
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	if !req.MayExplain() {
		resp.Extensions["explain"] = map[string]any{"available": false,
			"reason": "explanations are for policy authors (POLICY_AUTHORS) and development servers"}
		return
	}
	revision, decisions := req.Explain()
	resp.Extensions["explain"] = map[string]any{"available": true, "policyRevision": revision, "decisions": decisions}
}

// OtherOperation is the metrics' operation label of every document that is not trusted.
const OtherOperation = "other"

// metricsOperation is the operation label of the metrics: the name only of a trusted document
// (GRAPHQL_TRUSTED_DOCUMENTS), whose names the operator chose; any other document is
// OtherOperation. A name a client makes up is no new series: the label values are bounded by
// the trusted documents.
func metricsOperation(trusted *TrustedDocuments, oc *graphql.OperationContext, name string) string {
	if trusted == nil || !trusted.Has(oc.RawQuery) {
		return OtherOperation
	}
	return name
}

// outcome classifies a response for the metrics.
func outcome(resp *graphql.Response) string {
	switch {
	case resp == nil || len(resp.Errors) == 0:
		return "ok"
	case len(resp.Data) > 0 && string(resp.Data) != "null":
		return "partial"
	}
	return "error"
}

// presentError shows a domain error's code, message and field; any other error is logged and
// shown as INTERNAL without its text (it may hold SQL or personal values).
func presentError(ctx context.Context, logger *slog.Logger, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		// Parse and validation errors of gqlparser: their text describes the query, not data.
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		if _, ok := gqlErr.Extensions["code"]; !ok {
			gqlErr.Extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
		}
		return gqlErr
	}
	// gqlgen hands field errors over wrapped with their path and location; reuse that wrapper.
	out := gqlErr
	if out == nil {
		out = &gqlerror.Error{Path: graphql.GetPath(ctx), Err: err}
	}
	var we *wvsoft.Error
	if arg := argumentPath(ctx, out.Path); arg != "" {
		// A value of an argument that its scalar refused (a Time that is no RFC 3339, an Int
		// that overflows): the client's input, not the server's fault. The scalar's own words
		// are Go's; only a domain error's message is shown.
		out.Message = "not a valid value for " + arg
		if errors.As(err, &we) {
			out.Message = we.Message
		}
		out.Extensions = map[string]any{"code": wvsoft.EINVALID, "field": arg}
		return out
	}
	if errors.As(err, &we) {
		out.Message = we.Message
		if code, _ := we.Extensions["code"].(string); code == we.Code && we.Field == "" {
			// Complete extensions made with the error, shared read-only by every value it
			// refuses (a denied field's error is made once per decision).
			out.Extensions = we.Extensions
			return out
		}
		out.Extensions = map[string]any{"code": we.Code}
		for k, v := range we.Extensions {
			if k != "code" && k != "field" {
				out.Extensions[k] = v
			}
		}
		if we.Field != "" {
			out.Extensions["field"] = we.Field
		}
		return out
	}
	logger.ErrorContext(ctx, "internal error", "error", err.Error())
	out.Message = "internal error"
	out.Extensions = map[string]any{"code": wvsoft.EINTERNAL}
	return out
}

// argumentPath returns the argument ("from", "input.birthDate") an error's path points into
// below the field being resolved, or "" when the error is the field's own.
func argumentPath(ctx context.Context, path ast.Path) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Field.Arguments) == 0 {
		return ""
	}
	own := fc.Path()
	if len(path) <= len(own) {
		return ""
	}
	for i := range own {
		if path[i] != own[i] {
			return ""
		}
	}
	var parts []string
	for _, el := range path[len(own):] {
		switch e := el.(type) {
		case ast.PathName:
			parts = append(parts, string(e))
		case ast.PathIndex:
			parts = append(parts, strconv.Itoa(int(e)))
		}
	}
	if len(parts) == 0 || fc.Field.Arguments.ForName(parts[0]) == nil {
		return ""
	}
	return strings.Join(parts, ".")
}
