package httpserver

import (
	"log/slog"
	"net/http"

	"github.com/wvsoft/privacy/internal/playground"
)

// addRoutes is the one place that lists every route of the server.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, authn Authenticator, policy Policy, db Pinger, graphql, metrics http.Handler, o options) {
	mux.Handle("/graphql", withTimeout(o.requestTimeout)(authenticate(logger, authn, policy, o.trustedProxies)(graphql)))
	mux.Handle("OPTIONS /graphql", handlePreflight())
	// The page has one address, /playground/; the name without the slash, which people type, leads there.
	mux.Handle("GET /playground", http.RedirectHandler(playground.Prefix, http.StatusMovedPermanently))
	mux.Handle("GET "+playground.Prefix, playground.Handler())
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(db, policy))
	mux.Handle("GET /{$}", http.RedirectHandler(playground.Prefix, http.StatusFound))
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
}
