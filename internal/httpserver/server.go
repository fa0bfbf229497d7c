// Package httpserver is the HTTP face of the backend: routes, middleware, health. NewServer
// returns a plain http.Handler; cmd/wvsoft owns the listener and its lifetime.
package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Authenticator verifies the Authorization header.
type Authenticator interface {
	Authenticate(ctx context.Context, header string) (*wvsoft.Subject, error)
}

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Policy is what the server needs of the authorization engine.
type Policy interface {
	NewRequest(subject *wvsoft.Subject) *authz.Request
	Status() authz.Status
}

// Option configures the server.
type Option func(*options)

type options struct {
	corsOrigins    []string
	requestTimeout time.Duration
	trustedProxies []netip.Prefix
	checkHosts     bool
	allowedHosts   []string
	demoIdentities func(ctx context.Context) ([]DemoIdentity, error)
}

// DemoIdentity is a demo login with a fresh development token, for the playground's switch.
type DemoIdentity struct {
	Email string `json:"email"`
	Role  string `json:"role"`
	Token string `json:"token"`
}

// WithDemoIdentities serves the demo identities with fresh tokens at
// /playground/identities.json, for the playground's identity switch. Development only: the
// caller passes it only when the server issues development tokens.
func WithDemoIdentities(list func(ctx context.Context) ([]DemoIdentity, error)) Option {
	return func(o *options) { o.demoIdentities = list }
}

// WithRequestTimeout bounds each GraphQL request: its context ends after d, which cancels its
// database queries. Zero keeps DefaultRequestTimeout.
func WithRequestTimeout(d time.Duration) Option {
	return func(o *options) { o.requestTimeout = d }
}

// DefaultRequestTimeout is how long a GraphQL request may run.
const DefaultRequestTimeout = 30 * time.Second

// NewServer wires the routes and middleware around the GraphQL handler. metrics may be nil
// (no /metrics).
func NewServer(logger *slog.Logger, authn Authenticator, policy Policy, db Pinger, graphql, metrics http.Handler, opts ...Option) http.Handler {
	o := options{requestTimeout: DefaultRequestTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.requestTimeout <= 0 {
		o.requestTimeout = DefaultRequestTimeout
	}
	mux := http.NewServeMux()
	addRoutes(mux, logger, authn, policy, db, graphql, metrics, o)
	var h http.Handler = mux
	h = cors(o.corsOrigins)(h)
	h = allowHosts(o.checkHosts, o.allowedHosts)(h)
	h = securityHeaders(h)
	h = recoverPanics(logger)(h)
	h = accessLog(logger)(h)
	h = requestID(h)
	return h
}
