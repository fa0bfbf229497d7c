package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/mail"
	"github.com/wvsoft/privacy/internal/metrics"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/ratelimit"
	"github.com/wvsoft/privacy/internal/service"
	"github.com/wvsoft/privacy/internal/tracing"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// newDecisionLog opens the decision log's own sink (DECISION_LOG): off, stderr, stdout, a file
// (appended to, mode 0600), or an http(s) URL that takes OPA's decision-log uploads. Its events
// are OPA's decision-log events, one per distinct decision of a request; LOG_LEVEL does not hide
// them. close flushes the log and releases the file, if any.
func newDecisionLog(cfg config, stdout, stderr io.Writer, logger *slog.Logger) (log *authz.DecisionLog, closeFn func(), err error) {
	labels := map[string]string{"id": uuid.NewString(), "app": "wvsoft"}
	opts := []authz.DecisionLogOption{authz.WithLabels(labels), authz.WithDecisionLogLogger(logger)}
	var sink authz.DecisionSink
	closeFile := func() error { return nil }
	switch {
	case cfg.DecisionLog == "off":
		return nil, func() {}, nil
	case cfg.DecisionLog == "stderr":
		sink = authz.JSONLines{W: stderr}
	case cfg.DecisionLog == "stdout":
		sink = authz.JSONLines{W: stdout}
	case strings.HasPrefix(cfg.DecisionLog, "http://") || strings.HasPrefix(cfg.DecisionLog, "https://"):
		sink = authz.HTTPUpload{URL: cfg.DecisionLog}
	default:
		if err := os.MkdirAll(filepath.Dir(cfg.DecisionLog), 0o700); err != nil {
			return nil, nil, fmt.Errorf("DECISION_LOG %s: %w", cfg.DecisionLog, err)
		}
		// 0600: the events hold record and customer ids, which only operators should read.
		f, err := os.OpenFile(cfg.DecisionLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("DECISION_LOG %s: %w", cfg.DecisionLog, err)
		}
		sink, closeFile = authz.JSONLines{W: f}, f.Close
	}
	log = authz.NewDecisionLog(sink, opts...)
	return log, func() { log.Close(); closeFile() }, nil
}

// browsableURL is the address to print for a listener: bound to every address (0.0.0.0, ::),
// the server is reached on this machine at 127.0.0.1, which a browser can open; [::]:8080 is
// not an address one can visit.
func browsableURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// loadLogKeys reads the access log's signing key: ACCESS_LOG_SIGNING_KEY, which production must
// set, or in development a key kept in ACCESS_LOG_SIGNING_KEY_FILE, created on first use when
// create is set (like the data encryption key). The database never holds it.
func loadLogKeys(cfg config, create bool) (*accesslog.Keys, error) {
	skey := cfg.LogSigningKey
	if skey == "" {
		if cfg.Production {
			return nil, errors.New("ACCESS_LOG_SIGNING_KEY is required in production (`wvsoft audit keygen` makes one; see README, The verifiable access log)")
		}
		if !create {
			if _, err := os.Stat(cfg.LogSigningKeyFile); err != nil {
				return nil, nil
			}
		}
		var err error
		if skey, err = accesslog.LoadOrCreateKeyFile(cfg.LogSigningKeyFile); err != nil {
			return nil, fmt.Errorf("development access-log key %s: %w", cfg.LogSigningKeyFile, err)
		}
	}
	keys, err := accesslog.NewKeys(skey, cfg.LogVerifierKeys...)
	if err != nil {
		return nil, fmt.Errorf("ACCESS_LOG_SIGNING_KEY, ACCESS_LOG_VERIFIER_KEYS: %w", err)
	}
	return keys, nil
}

func openApp(ctx context.Context, cfg config, opts ...postgres.Option) (*postgres.DB, error) {
	appURL, err := appDatabaseURL(cfg)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, appURL, time.Now, opts...)
}

// appDatabaseURL is where the server connects as the application role.
func appDatabaseURL(cfg config) (string, error) {
	if cfg.AppDatabaseURL != "" {
		return cfg.AppDatabaseURL, nil
	}
	return postgres.AppURL(cfg.DatabaseURL, cfg.AppDatabasePassword)
}

func serve(ctx context.Context, cfg config, getenv func(string) string, logger *slog.Logger, stdout, stderr io.Writer) error {
	if err := checkSignIn(cfg); err != nil {
		return err
	}
	// Listen first: a port in use is the first and only error, before any worker starts (and
	// then logs its own cancellation as if something else had failed).
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	defer ln.Close() // srv.Serve closes it too; this covers the returns before it
	decisionLog, closeDecisions, err := newDecisionLog(cfg, stdout, stderr, logger)
	if err != nil {
		return err
	}
	defer closeDecisions()
	tp, tracingOn, stopTracing, err := tracing.Setup(ctx, getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer stopTracing(context.WithoutCancel(ctx))
	var tracer trace.Tracer
	dbOpts := []postgres.Option{postgres.WithStatementTimeout(cfg.StatementTimeout), postgres.WithSubjectCache(logger)}
	if tracingOn {
		tracer = tp.Tracer("wvsoft")
		dbOpts = append(dbOpts, postgres.WithTracer(tracer))
		logger.Info("tracing on")
	}
	if err := postgres.Migrate(ctx, cfg.DatabaseURL, logger); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cfg.AppDatabasePassword != "" && cfg.AppDatabaseURL == "" {
		if err := postgres.SetAppPassword(ctx, cfg.DatabaseURL, cfg.AppDatabasePassword); err != nil {
			return fmt.Errorf("set the application role's password: %w", err)
		}
	}
	keys, err := loadKeyring(cfg)
	if err != nil {
		return err
	}
	dbOpts = append(dbOpts, postgres.WithKeyring(keys))
	logKeys, err := loadLogKeys(cfg, true)
	if err != nil {
		return err
	}
	dbOpts = append(dbOpts, postgres.WithLogKeys(logKeys))
	db, err := openApp(ctx, cfg, dbOpts...)
	if err != nil {
		return err
	}
	defer db.Close()

	m := metrics.New()
	m.WatchPool(db.Stats)
	m.WatchStates("wvsoft_support_access_grants", "Support-access requests and grants by stored state.",
		[]string{wvsoft.GrantPending, wvsoft.GrantApproved, wvsoft.GrantDenied, wvsoft.GrantExpired, wvsoft.GrantRevoked}, db.GrantCounts)

	if decisionLog != nil {
		m.WatchDecisionLog(decisionLog.Dropped, decisionLog.Failed)
	}
	opts := []authz.Option{authz.WithLogger(logger), authz.WithReloadHook(m.CountReload),
		authz.WithPolicyAuthors(!cfg.Production, cfg.PolicyAuthors...)}
	if cfg.PolicyDir != "" {
		opts = append(opts, authz.WithDir(cfg.PolicyDir))
	}
	engine, err := authz.New(ctx, opts...)
	if err != nil {
		if cfg.PolicyDir != "" {
			return fmt.Errorf("policy (POLICY_DIR %s): %w", cfg.PolicyDir, err)
		}
		return fmt.Errorf("policy: %w", err)
	}
	if err := engine.Watch(ctx); err != nil {
		return fmt.Errorf("watch %s: %w", cfg.PolicyDir, err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				engine.Reload(ctx)
			}
		}
	}()

	var authn *auth.Authenticator
	if cfg.OIDCJWKSURL != "" {
		authn, err = auth.NewOIDC(ctx, db, time.Now, cfg.OIDCIssuer, cfg.OIDCAudience, cfg.OIDCJWKSURL,
			auth.WithMaxLifetime(cfg.TokenMaxLifetime), auth.WithClaims(cfg.OIDCEmailClaim, cfg.OIDCEmailVerifiedClaim),
			auth.WithCustomerClaim(cfg.OIDCCustomerClaim))
	} else {
		if cfg.Production {
			logger.Warn("production accepts development tokens (ALLOW_DEVELOPMENT_TOKENS): whoever reads TOKEN_KEY_FILE signs in as anyone; configure OIDC_ISSUER and OIDC_JWKS_URL",
				"setting", "ALLOW_DEVELOPMENT_TOKENS")
		}
		authn, err = auth.NewDevelopment(db, time.Now, cfg.TokenKeyFile, auth.WithMaxLifetime(cfg.TokenMaxLifetime))
	}
	if err != nil {
		return err
	}

	// The background workers end with ctx; the pool closes only after they have (defers run
	// last first).
	var workers sync.WaitGroup
	defer workers.Wait()
	// The workers also stop when serve returns early (a port in use): they must not outlive it.
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork() // runs before workers.Wait
	workers.Go(func() { expireGrants(workCtx, db, logger, realClock()) })
	// Change events of every server (LISTEN/NOTIFY), for the live connections of this one.
	appURL, err := appDatabaseURL(cfg)
	if err != nil {
		return err
	}
	events := postgres.NewListener(appURL, logger, postgres.ForgettingSubjects(db))
	workers.Go(func() {
		if err := events.Run(workCtx); err != nil {
			logger.Error("event listener stopped", "error", err.Error())
		}
	})
	m.WatchStates("wvsoft_outbox_messages", "E-mail in the outbox by state (PENDING is the backlog).",
		[]string{wvsoft.OutboxPending, wvsoft.OutboxSent, wvsoft.OutboxFailed}, db.OutboxBacklog)
	if cfg.SMTPURL != "" {
		sender, err := mail.NewSender(db, cfg.SMTPURL, mail.WithLogger(logger), mail.WithPoll(cfg.OutboxPoll))
		if err != nil {
			return err
		}
		workers.Go(func() { sender.Run(workCtx) })
	} else {
		logger.Info("no SMTP_URL: e-mail stays in the outbox (query outbox as staff)")
	}

	var trusted *graph.TrustedDocuments
	if cfg.TrustedDocuments != "off" {
		if trusted, err = graph.LoadTrustedDocuments(os.DirFS(cfg.TrustedDocumentsDir), cfg.TrustedDocuments == "required"); err != nil {
			return fmt.Errorf("GRAPHQL_TRUSTED_DOCUMENTS_DIR %s: %w", cfg.TrustedDocumentsDir, err)
		}
		logger.Info("trusted documents", "documents", trusted.Len(), "required", trusted.Required)
	}
	// The composition root of the API: the persistence behind the policy, and the service over
	// it, each built once; the resolvers and the background jobs get the same ones.
	authorized := authz.NewStore(db)
	svc := service.New(authorized, service.WithClock(time.Now),
		service.WithInquiryLimit(ratelimit.New(db, "inquiry", keys.Secret("rate limit"), cfg.InquiryBurst, cfg.InquiryInterval, time.Now)),
		service.WithSubjectReader(graph.NewSubjectReader(authorized)))
	workers.Go(func() { purgeEveryHour(workCtx, svc, db, logger, realClock()) })
	resolver := graph.NewResolver(authorized, svc)
	subs := graph.NewSubscriptions(authn.Authenticate, engine.NewRequest, events,
		graph.WithOrigins(cfg.CORSOrigins), graph.WithRecheck(cfg.SubscriptionRecheck))
	gql := graph.NewHandler(resolver,
		graph.HandlerConfig{Logger: logger, DecisionLog: decisionLog, TrustedDocuments: trusted, Introspection: cfg.Introspection, FieldSuggestions: cfg.Introspection,
			Limits: cfg.Limits, Metrics: m, Tracer: tracer, Subscriptions: subs})
	serverOpts := []httpserver.Option{httpserver.WithCORSOrigins(cfg.CORSOrigins), httpserver.WithRequestTimeout(cfg.RequestTimeout),
		httpserver.WithTrustedProxies(cfg.TrustedProxies)}
	// A development server answers the names it is reached by on this machine (and those
	// configured), never a foreign name rebound to its address; production those configured.
	if !cfg.Production || len(cfg.AllowedHosts) > 0 {
		hosts := cfg.AllowedHosts
		if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
			if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
				hosts = append(hosts, host)
			}
		}
		serverOpts = append(serverOpts, httpserver.WithAllowedHosts(hosts...))
	} else {
		logger.Warn("ALLOWED_HOSTS is not set: every Host header is answered; set the names the server is reached by",
			"setting", "ALLOWED_HOSTS")
	}
	if !cfg.Production && cfg.OIDCJWKSURL == "" {
		// The development playground switches between the demo identities (policy authors try
		// a change as each role); a server that verifies OIDC tokens issues none.
		serverOpts = append(serverOpts, httpserver.WithDemoIdentities(func(context.Context) ([]httpserver.DemoIdentity, error) {
			var out []httpserver.DemoIdentity
			for _, l := range postgres.DemoLogins() {
				tok, err := authn.IssueToken(l[0], min(time.Hour, cfg.TokenMaxLifetime))
				if err != nil {
					return nil, err
				}
				out = append(out, httpserver.DemoIdentity{Email: l[0], Role: l[1], Token: tok})
			}
			return out, nil
		}))
	}
	// The metrics are on a listener of their own (METRICS_ADDR), not the API's: they tell the
	// state of grants and the outbox, for operators only.
	stopMetrics, err := serveMetrics(cfg, m.Handler(), logger, stdout)
	if err != nil {
		return err
	}
	defer stopMetrics()
	handler := httpserver.NewServer(logger, authn, engine, db, gql, nil, serverOpts...)
	if tracingOn {
		handler = otelhttp.NewHandler(handler, "http", otelhttp.WithTracerProvider(tp))
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	url := browsableURL(ln.Addr())
	logger.Info("serving", "addr", ln.Addr().String())
	fmt.Fprintf(stdout, "Access-log public key: %s\n", logKeys.VerifierKey)
	fmt.Fprintf(stdout, "GraphQL:    %s/graphql\nPlayground: %s/playground/\n", url, url)

	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, logger)
		if err != nil {
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		defer stopPprof()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let the requests in flight finish within the bound, then the
	// deferred calls close the database pool and flush the traces.
	logger.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	// http.Server.Shutdown does not know the WebSocket connections (they are hijacked): they are
	// closed as going away, and waited for, beside it.
	wsClosed := make(chan error, 1)
	go func() { wsClosed <- subs.Shutdown(shutdownCtx) }()
	err = srv.Shutdown(shutdownCtx)
	if wsErr := <-wsClosed; err == nil {
		err = wsErr
	}
	if err != nil {
		srv.Close() // cut what did not finish in time
		return fmt.Errorf("shutdown: requests still running after %s were cut off", cfg.ShutdownTimeout)
	}
	logger.Info("stopped: every request finished")
	return nil
}

// serveMetrics serves /metrics on METRICS_ADDR, a listener of its own: a loopback address, or
// another with METRICS_TOKEN, which every scrape must send as its bearer token. The default
// address taken (a second server on the machine) turns the metrics off with a warning; an
// address the operator chose that cannot be had stops the start.
func serveMetrics(cfg config, metrics http.Handler, logger *slog.Logger, stdout io.Writer) (func(), error) {
	if cfg.MetricsAddr == "off" {
		return func() {}, nil
	}
	addr := cfg.MetricsAddr
	if addr == "" {
		addr = DefaultMetricsAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if cfg.MetricsAddr == "" {
			logger.Warn("metrics off: their default address is taken; set METRICS_ADDR", "addr", addr, "setting", "METRICS_ADDR")
			return func() {}, nil
		}
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	h := metrics
	if cfg.MetricsToken != "" {
		want := []byte("Bearer " + cfg.MetricsToken)
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				http.Error(w, "the metrics need METRICS_TOKEN as bearer token", http.StatusUnauthorized)
				return
			}
			metrics.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "Metrics:    %s/metrics\n", browsableURL(ln.Addr()))
	return func() { srv.Close() }, nil
}

// servePprof serves Go's runtime profiles (net/http/pprof) on a listener of their own, never on
// the API's: they show the program's innards, not personal data, but are for operators only.
// Only a loopback address is taken.
func servePprof(addr string, logger *slog.Logger) (func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q is not a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("profiles served", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

// loadKeyring reads the data encryption keys: DATA_ENCRYPTION_KEY, which production must set,
// or in development a key kept in DATA_ENCRYPTION_KEY_FILE (created on first use, like the
// token signing key); and the old keys that still decrypt during a rotation.
func loadKeyring(cfg config) (*postgres.Keyring, error) {
	key := cfg.DataKey
	if key == "" {
		if cfg.Production {
			return nil, errors.New("DATA_ENCRYPTION_KEY is required in production (the base64 of 32 random bytes; see README, Secrets at rest)")
		}
		var err error
		if key, err = postgres.LoadOrCreateKeyFile(cfg.DataKeyFile); err != nil {
			return nil, fmt.Errorf("development data key %s: %w", cfg.DataKeyFile, err)
		}
	}
	return postgres.NewKeyring(key, cfg.DataOldKeys...)
}
