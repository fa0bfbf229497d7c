package httpserver

import (
	"context"
	"encoding/json"
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
	if o.demoIdentities != nil { // development only (WithDemoIdentities)
		mux.Handle("GET "+playground.Prefix+"identities.json", handleDemoIdentities(logger, o.demoIdentities))
	}
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(db, policy))
	mux.Handle("GET /{$}", http.RedirectHandler(playground.Prefix, http.StatusFound))
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
}

// handleDemoIdentities lists the demo identities with fresh development tokens. The answer is
// never stored: a token is a credential.
func handleDemoIdentities(logger *slog.Logger, list func(ctx context.Context) ([]DemoIdentity, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids, err := list(r.Context())
		if err != nil {
			logger.ErrorContext(r.Context(), "demo identities", "error", err.Error())
			http.Error(w, "no demo identities", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(ids)
	})
}
