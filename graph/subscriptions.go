package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Subscriptions serve the Subscription type over WebSocket (the graphql-transport-ws protocol)
// at /graphql. A connection authenticates once, with the bearer credential in connection_init's
// payload, and keeps that credential to check it again: at every operation it starts, at every
// event it may deliver, when any server raises a change of credentials or reach, and at least
// every Recheck. A credential that no longer authenticates closes the connection (4403,
// UNAUTHENTICATED); a subscription the policy no longer allows ends with a FORBIDDEN error.
type Subscriptions struct {
	authenticate func(ctx context.Context, authorization string) (*wvsoft.Subject, error)
	newRequest   func(*wvsoft.Subject) *authz.Request
	events       wvsoft.Events
	logger       *slog.Logger
	origins      []string
	recheck      time.Duration
	maxPerConn   int

	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	closing  bool
	handlers sync.WaitGroup
}

// SubscriptionOption configures Subscriptions.
type SubscriptionOption func(*Subscriptions)

// WithOrigins lets browser pages of these origins (CORS_ALLOWED_ORIGINS) open a WebSocket, besides
// the server's own origin (the playground).
func WithOrigins(origins []string) SubscriptionOption {
	return func(s *Subscriptions) { s.origins = origins }
}

// WithRecheck sets how often a quiet connection checks its credential; zero keeps DefaultRecheck.
func WithRecheck(d time.Duration) SubscriptionOption {
	return func(s *Subscriptions) {
		if d > 0 {
			s.recheck = d
		}
	}
}

// Defaults of Subscriptions. Events, not the recheck, end access within a second: a revoked key
// or grant, a removed user and a withdrawn consent raise one on every server; the recheck only
// bounds what no event announces, such as a token that expires.
const (
	DefaultRecheck = time.Minute
	// MaxSubscriptionsPerConnection bounds what one connection keeps running.
	MaxSubscriptionsPerConnection = 20
	// initTimeout is how long a new connection may take to send connection_init.
	initTimeout = 10 * time.Second
	// pingInterval is how often the server pings; a client that does not answer within two is
	// gone, and its connection closes.
	pingInterval = 25 * time.Second
)

// Close codes of the graphql-transport-ws protocol and WebSocket that the server uses.
const (
	closeForbidden    = 4403 // the credential does not (or no longer) authenticate
	closeGoingAway    = 1001 // the server shuts down
	closeTryLater     = 1013 // the database did not answer
	closeInternal     = 4500
	maxCloseReasonLen = 123 // RFC 6455: a close frame's reason has at most 123 bytes
)

// NewSubscriptions serves subscriptions for the subjects authenticate finds, deciding with the
// authorization state newRequest starts, on the events of every server.
func NewSubscriptions(authenticate func(context.Context, string) (*wvsoft.Subject, error),
	newRequest func(*wvsoft.Subject) *authz.Request, events wvsoft.Events, opts ...SubscriptionOption) *Subscriptions {
	s := &Subscriptions{authenticate: authenticate, newRequest: newRequest, events: events,
		logger: slog.New(slog.DiscardHandler), recheck: DefaultRecheck, maxPerConn: MaxSubscriptionsPerConnection,
		conns: map[*wsConn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// transport is gqlgen's WebSocket transport, graphql-transport-ws only, bounded like HTTP.
func (s *Subscriptions) transport(limits Limits) transport.Websocket {
	readLimit := limits.MaxBodyBytes
	return transport.Websocket{
		Implementation: trackedWebsockets{inner: transport.CoderWebsocketImplementation{
			// A second wall behind checkUpgrade: coder/websocket refuses other origins itself.
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: s.origins},
		}},
		InitFunc:         s.init,
		InitTimeout:      initTimeout,
		PingPongInterval: pingInterval,
		PayloadReadLimit: &readLimit,
		ErrorFunc: func(ctx context.Context, err error) {
			if !errors.Is(err, context.Canceled) {
				s.logger.DebugContext(ctx, "websocket", "error", err.Error())
			}
		},
	}
}

// Shutdown closes every connection (going away) and waits, within ctx, until their handlers
// have returned; a closed Subscriptions refuses new connections.
func (s *Subscriptions) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(closeGoingAway, "the server is shutting down; reconnect")
	}
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open is how many WebSocket connections are open.
func (s *Subscriptions) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// serveUpgrade checks a WebSocket handshake before gqlgen and coder/websocket see it, so that
// every refusal is a coded GraphQL error, then serves the connection until it closes.
func (s *Subscriptions) serveUpgrade(w http.ResponseWriter, r *http.Request, next http.Handler) {
	switch {
	case r.Method != http.MethodGet || !headerHas(r.Header, "Connection", "upgrade") ||
		r.Header.Get("Sec-WebSocket-Version") != "13" || len(r.Header.Values("Sec-WebSocket-Key")) != 1:
		writeError(w, http.StatusBadRequest, CodeBadRequest, "not a WebSocket handshake (RFC 6455, version 13, by GET)")
		return
	case !headerHas(r.Header, "Sec-WebSocket-Protocol", "graphql-transport-ws"):
		writeError(w, http.StatusBadRequest, CodeBadRequest, "offer the graphql-transport-ws subprotocol (Sec-WebSocket-Protocol)")
		return
	case !s.originAllowed(r):
		writeError(w, http.StatusForbidden, wvsoft.EFORBIDDEN, "this origin may not open a WebSocket here (CORS_ALLOWED_ORIGINS)")
		return
	}
	c := &wsConn{s: s}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, wvsoft.EUNAVAILABLE, "the server is shutting down")
		return
	}
	s.conns[c] = struct{}{}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.handlers.Done()
	}()
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsConnKey{}, c)))
}

// originAllowed lets a browser page open a WebSocket only from the server's own origin or one of
// CORS_ALLOWED_ORIGINS: the browser sends no credential by itself (no cookies), but a page must
// not use another's connection. Clients that are no browser send no Origin.
func (s *Subscriptions) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	o := strings.ToLower(origin)
	if slices.Contains(s.origins, o) {
		return true
	}
	_, host, ok := strings.Cut(o, "://")
	return ok && strings.EqualFold(host, r.Host)
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// init authenticates connection_init's credential; a refusal closes the connection with 4403 and
// the reason "CODE: message".
func (s *Subscriptions) init(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	c := connFrom(ctx)
	credential := p.Authorization()
	var subject *wvsoft.Subject
	var err error = wvsoft.Errorf(wvsoft.EUNAUTHENTICATED, `send {"authorization": "Bearer <token or API key>"} as connection_init's payload`)
	if c != nil && credential != "" {
		subject, err = s.authenticate(ctx, credential)
	}
	if err != nil {
		code, reason := closeFor(err)
		if code == closeInternal {
			s.logger.ErrorContext(ctx, "websocket authentication failed", "error", err.Error())
		}
		ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason)
		return ctx, nil, errors.New(reason)
	}
	c.start(ctx, credential, subject)
	return s.authorize(ctx, subject), nil, nil
}

// closeFor is the close code and reason of a failed authentication.
func closeFor(err error) (int, string) {
	code, status := wvsoft.ErrorCode(err), closeForbidden
	msg := wvsoft.ErrorMessage(err)
	switch code {
	case wvsoft.EUNAUTHENTICATED:
	case wvsoft.EUNAVAILABLE:
		status = closeTryLater
	default:
		code, status, msg = wvsoft.EINTERNAL, closeInternal, "internal error"
	}
	reason := code + ": " + msg
	if len(reason) > maxCloseReasonLen {
		reason = reason[:maxCloseReasonLen]
	}
	return status, reason
}

// authorize starts the authorization state of one operation or event for subject.
func (s *Subscriptions) authorize(ctx context.Context, subject *wvsoft.Subject) context.Context {
	return authz.WithRequest(wvsoft.WithActor(ctx, subject), s.newRequest(subject))
}

type wsConnKey struct{}

func connFrom(ctx context.Context) *wsConn {
	c, _ := ctx.Value(wsConnKey{}).(*wsConn)
	return c
}

// wsConn is one WebSocket connection: its credential, kept to be checked again, and the socket,
// to close it.
type wsConn struct {
	s *Subscriptions

	mu         sync.Mutex
	ws         transport.WebsocketConn
	credential string
	closed     bool
	running    int // subscriptions
}

// start keeps the credential and watches it until the connection ends.
func (c *wsConn) start(ctx context.Context, credential string, subject *wvsoft.Subject) {
	c.mu.Lock()
	c.credential = credential
	c.mu.Unlock()
	go c.watch(ctx, subject)
}

// watch checks the credential again whenever a server raises a change of credentials or reach,
// and every recheck, and closes the connection when it no longer authenticates: no subscription
// is needed for that, and none has to have an event first.
func (c *wsConn) watch(ctx context.Context, subject *wvsoft.Subject) {
	events := c.s.events.Subscribe(ctx)
	timer := time.NewTimer(c.s.recheck)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Kind == wvsoft.EventBreachNotified || !concerns(subject, ev) {
				continue // says nothing about this connection's credentials
			}
		case <-timer.C:
			timer.Reset(c.s.recheck)
		}
		if _, err := c.check(ctx); err != nil {
			return
		}
	}
}

// check authenticates the connection's credential again; when it no longer does, it closes the
// connection and returns the error.
func (c *wsConn) check(ctx context.Context) (*wvsoft.Subject, error) {
	c.mu.Lock()
	credential := c.credential
	c.mu.Unlock()
	subject, err := c.s.authenticate(ctx, credential)
	if err != nil && ctx.Err() == nil {
		code, reason := closeFor(err)
		if code == closeInternal {
			c.s.logger.ErrorContext(ctx, "websocket authentication failed", "error", err.Error())
		}
		c.close(code, reason)
	}
	return subject, err
}

// reauthorize checks the credential again and starts a fresh authorization state (the subject as
// it now is, the policy that serves now) for one operation or event.
func (c *wsConn) reauthorize(ctx context.Context) (context.Context, *wvsoft.Subject, error) {
	subject, err := c.check(ctx)
	if err != nil {
		return ctx, nil, err
	}
	return c.s.authorize(ctx, subject), subject, nil
}

func (c *wsConn) close(code int, reason string) {
	c.mu.Lock()
	ws, already := c.ws, c.closed
	c.closed = true
	c.mu.Unlock()
	if ws == nil || already {
		return
	}
	ws.WriteClose(code, reason)
	// Without a closing handshake within a second the socket is cut: a client that does not
	// answer keeps nothing open.
	time.AfterFunc(time.Second, func() { ws.Close() })
}

// enter counts a subscription that starts; false when the connection runs its maximum.
func (c *wsConn) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running >= c.s.maxPerConn {
		return false
	}
	c.running++
	return true
}

func (c *wsConn) leave() {
	c.mu.Lock()
	c.running--
	c.mu.Unlock()
}

// trackedWebsockets hands the accepted socket to its connection, which closes it when the
// credential fails or the server shuts down.
type trackedWebsockets struct {
	inner transport.WebsocketImplementation
}

func (t trackedWebsockets) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	ws, err := t.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	if c := connFrom(r.Context()); c != nil {
		c.mu.Lock()
		c.ws = ws
		c.mu.Unlock()
	}
	return ws, nil
}

// aroundOperation checks the credential again for every operation over a WebSocket, and gives a
// subscription the state its resolver fills in.
func (s *Subscriptions) aroundOperation(ctx context.Context) (context.Context, *gqlerror.Error) {
	c := connFrom(ctx)
	if c == nil {
		return ctx, nil
	}
	ctx, subject, err := c.reauthorize(ctx)
	if err != nil {
		return ctx, coded(wvsoft.ErrorCode(err), wvsoft.ErrorMessage(err))
	}
	if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
		if !c.enter() {
			return ctx, coded(CodeTooManySubscriptions, "this connection runs its maximum of subscriptions; complete one first")
		}
		context.AfterFunc(ctx, c.leave)
		// Listening starts now: what changes from here on is delivered.
		sub := &subscription{conn: c, events: s.events.Subscribe(ctx), subject: subject}
		ctx = context.WithValue(ctx, subscriptionKey{}, sub)
	}
	return ctx, nil
}

// CodeTooManySubscriptions refuses a subscription beyond MaxSubscriptionsPerConnection.
const CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"

type subscriptionKey struct{}

// subscription is one running subscription: its connection, and what its resolver left to read
// and hand over each event.
type subscription struct {
	conn *wsConn
	// deliver reads the record an event names under ctx's authorization and, when the
	// subscriber may see it, hands it to gqlgen and returns the context its fields resolve in.
	deliver func(ctx context.Context, ev wvsoft.Event) (context.Context, bool, error)
	// kind is the event kind it delivers; root is its root field.
	kind string
	root *graphql.FieldContext
	// events are every server's events since the subscription started; subject is the
	// subscriber as last authenticated.
	events  <-chan wvsoft.Event
	subject *wvsoft.Subject
}

func subscriptionFrom(ctx context.Context) *subscription {
	s, _ := ctx.Value(subscriptionKey{}).(*subscription)
	return s
}

// stream is a subscription resolver: events of kind, each read by read under the authorization
// of its own moment. Nothing is read here; the handler's loop (nextEvent) drives it.
func stream[T any](ctx context.Context, kind string, read func(context.Context, wvsoft.Event) (*T, error)) (<-chan *T, error) {
	sub := subscriptionFrom(ctx)
	if sub == nil {
		return nil, wvsoft.Errorf(CodeBadRequest, "subscriptions run over a WebSocket at /graphql (graphql-transport-ws)")
	}
	root := graphql.GetFieldContext(ctx)
	ch := make(chan *T, 1)
	sub.kind, sub.root = kind, root
	sub.deliver = func(ctx context.Context, ev wvsoft.Event) (context.Context, bool, error) {
		v, err := read(ctx, ev)
		if err != nil || v == nil {
			return ctx, false, err
		}
		// The payload's fields resolve below the subscription's root field, whose result is this
		// event's record: the hook finds the object and the path as in a query.
		fc := *root
		fc.Result = &v
		ch <- v
		return graphql.WithFieldContext(ctx, &fc), true, nil
	}
	return ch, nil
}

// nextEvent waits for the next event the subscription delivers and returns the context to
// resolve it in: the credential checked again, a fresh authorization state, fresh loaders. It
// returns false when the subscription ends: the client completed it, the connection closed, the
// credential failed (the connection closes), or the policy no longer allows it (its error is
// sent).
func (s *Subscriptions) nextEvent(ctx context.Context, sub *subscription, r *Resolver) (context.Context, bool) {
	for {
		ev, ok := s.wait(ctx, sub)
		if !ok {
			return ctx, false
		}
		evCtx, subject, err := sub.conn.reauthorize(ctx)
		if err != nil {
			return ctx, false // the connection closes, with the reason
		}
		sub.subject = subject
		evCtx, delivered, err := sub.deliver(withLoaders(evCtx, r.authorized), ev)
		if err != nil {
			e := presentError(evCtx, s.logger, err)
			e.Path = ast.Path{ast.PathName(sub.root.Field.Alias)}
			transport.AddSubscriptionError(ctx, e)
			return ctx, false
		}
		if delivered {
			return evCtx, true
		}
	}
}

// concerns says whether ev can change what subject may do or see. A customer's user or API key
// reaches its own customer only, so another customer's events cannot concern it, and checking it
// again for each of them would only load the database (every connection on every server, at
// once); staff reach across customers and are concerned by every event. Resyncs and events of no
// customer concern everyone.
func concerns(subject *wvsoft.Subject, ev wvsoft.Event) bool {
	return ev.Kind == wvsoft.EventResync || subject == nil || subject.TenantID == uuid.Nil ||
		ev.Tenant == uuid.Nil || ev.Tenant == subject.TenantID
}

// wait returns the next event that may concern the subscription: one of its kind, or one that
// may change what its subscriber may do. When none comes before the recheck, or before a staff
// member's declaration lapses (which no event announces), it returns a resync.
func (s *Subscriptions) wait(ctx context.Context, sub *subscription) (wvsoft.Event, bool) {
	next := s.recheck
	if d := sub.subject.DeclarationExpiresAt; d != nil {
		// The policy sees time in whole seconds (authz.Request): the declaration has lapsed for
		// it from the first whole second at or after its end.
		lapse := d.Truncate(time.Second)
		if lapse.Before(*d) {
			lapse = lapse.Add(time.Second)
		}
		if left := time.Until(lapse); left >= 0 && left < next {
			next = left + 10*time.Millisecond
		}
	}
	timer := time.NewTimer(next)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return wvsoft.Event{}, false
		case ev, ok := <-sub.events:
			if !ok {
				return ev, false
			}
			if !concerns(sub.subject, ev) {
				continue
			}
			switch ev.Kind {
			case sub.kind, wvsoft.EventAccessChanged, wvsoft.EventGrantChanged, wvsoft.EventResync:
				return ev, true
			}
		case <-timer.C:
			return wvsoft.Event{Kind: wvsoft.EventResync}, true
		}
	}
}
