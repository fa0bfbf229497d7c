package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/logging"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// requestID gives every request an id, echoed in X-Request-Id and on every log line of it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
	})
}

// accessLog writes one line per request: method, path (never the query string, which may hold
// a GraphQL document with values), status and duration.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "http request", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
		})
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets a WebSocket upgrade reach the connection (http.ResponseController, Hijack).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// securityHeaders forbids other hosts, framing and sniffing. The playground's scripts, styles
// and fonts all come from this server.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers that predate it
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// withTimeout ends a request's context after d: its database queries are cancelled and it
// answers UNAVAILABLE instead of holding a connection of the pool. A WebSocket lives as long as
// its connection; each of its operations and events is bounded by the statement timeout.
func withTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") != "" {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// recoverPanics turns a panic outside gqlgen into a logged 500 without details, coded INTERNAL
// like every other error.
func recoverPanics(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					logger.ErrorContext(r.Context(), "panic", "panic", p)
					writeGraphQLError(w, http.StatusInternalServerError, wvsoft.EINTERNAL, "internal error")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// authenticate verifies the credentials of a GraphQL request and starts its authorization
// state. A request without credentials is an anonymous visitor, whom the policy lets submit a
// website inquiry and nothing else; invalid credentials get UNAUTHENTICATED and never reach a
// resolver.
func authenticate(logger *slog.Logger, authn Authenticator, policy Policy, proxies []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			header := r.Header.Get("Authorization")
			var subject *wvsoft.Subject
			if header == "" {
				subject = &wvsoft.Subject{Kind: wvsoft.SubjectAnonymous, Role: wvsoft.RoleVisitor, ClientAddr: clientAddr(r, proxies)}
			} else {
				var err error
				subject, err = authn.Authenticate(r.Context(), header)
				if err != nil {
					code := wvsoft.ErrorCode(err)
					status := http.StatusUnauthorized
					if code == wvsoft.EUNAVAILABLE {
						status = http.StatusServiceUnavailable
					} else if code != wvsoft.EUNAUTHENTICATED {
						logger.ErrorContext(r.Context(), "authentication failed", "error", err.Error())
						code, status = wvsoft.EINTERNAL, http.StatusInternalServerError
					}
					writeGraphQLError(w, status, code, wvsoft.ErrorMessage(err))
					return
				}
			}
			ctx := authz.WithRequest(wvsoft.WithActor(r.Context(), subject), policy.NewRequest(subject))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// writeGraphQLError answers with a GraphQL response that has one error and no data.
func writeGraphQLError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// readyTimeout bounds the database check of /readyz.
const readyTimeout = 2 * time.Second

// handleReadyz is ready when the database answers and a policy serves; it also shows whether
// the last policy change was rejected.
func handleReadyz(db Pinger, policy Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := policy.Status()
		// A load balancer asks often: a database that does not answer at once is not ready.
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		dbErr := db.Ping(ctx)
		body := map[string]any{
			"database": dbErr == nil,
			"policy": map[string]any{"revision": st.Revision, "loaded_at": st.LoadedAt,
				"last_change_rejected": st.Rejected, "rejection": st.Reason},
		}
		ready := dbErr == nil && st.Revision != ""
		body["ready"] = ready
		w.Header().Set("Content-Type", "application/json")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(body)
	})
}
