package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/logging"
	"github.com/wvsoft/privacy/internal/mail"
	"github.com/wvsoft/privacy/internal/metrics"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/ratelimit"
	"github.com/wvsoft/privacy/internal/tracing"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

const usage = `wvsoft: the WvSoft privacy backend

Usage:
  wvsoft serve         migrate the database, then serve GraphQL on LISTEN_ADDR
  wvsoft migrate       apply the database migrations
  wvsoft seed          write the demo data (idempotent)
  wvsoft token EMAIL   print a development bearer token for a user or staff member
  wvsoft audit verify  check every customer's access-log hash chain
  wvsoft purge         apply the retention schedule now (--dry-run only counts)
  wvsoft rotate-keys   re-encrypt BSNs and medical notes with DATA_ENCRYPTION_KEY

Each command takes --help. Configuration is read from the environment; see README.md.
`

// run is the whole program; main only calls it, so tests can too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return withFlags(cmd, "migrate the database and serve GraphQL on LISTEN_ADDR", rest, stdout, func() error {
			return serve(ctx, cfg, getenv, logger, stdout, stderr)
		})
	case "migrate":
		return withFlags(cmd, "apply the embedded database migrations as the owner (DATABASE_URL)", rest, stdout, func() error {
			return postgres.Migrate(ctx, cfg.DatabaseURL, logger)
		})
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		fs.SetOutput(stdout)
		reset := fs.Bool("reset", false, "first drop the database of DATABASE_URL and create it empty (development only; `make reset-demo`)")
		fs.Usage = func() {
			fmt.Fprintln(stdout, "Usage: wvsoft seed [--reset]\n\nMigrates, then writes the demo customers, users, staff and persons (idempotent: what exists stays as it is).")
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		return seed(ctx, cfg, logger, stdout, *reset)
	case "token":
		fs := flag.NewFlagSet("token", flag.ContinueOnError)
		fs.SetOutput(stdout)
		ttl := fs.Duration("ttl", cfg.TokenMaxLifetime, "how long the token is valid, at most TOKEN_MAX_LIFETIME")
		customer := fs.String("customer", "", "the customer (slug) to sign in to, for an address that is a user of several")
		fs.Usage = func() {
			fmt.Fprintln(stdout, "Usage: wvsoft token [--ttl 12h] [--customer SLUG] EMAIL\n\nPrints a development bearer token for the user or staff member with this e-mail address.")
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if fs.NArg() != 1 {
			fs.Usage()
			return errors.New("token needs one EMAIL")
		}
		return printToken(ctx, cfg, fs.Arg(0), *customer, *ttl, stdout)
	case "audit":
		if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help") {
			// Asking how to use a command is not an error (exit 0), whatever its subcommands.
			fmt.Fprintln(stdout, "Usage: wvsoft audit verify\n\nChecks the hash chain of every customer's access log; exits non-zero when one is broken.")
			return nil
		}
		if len(rest) == 0 || rest[0] != "verify" {
			fmt.Fprintln(stderr, "Usage: wvsoft audit verify")
			return errors.New("audit needs the subcommand verify")
		}
		return withFlags("audit verify", "check the hash chain of every customer's access log and report the first broken link of each; exits non-zero when one is broken", rest[1:], stdout, func() error {
			return auditVerify(ctx, cfg, stdout)
		})
	case "purge":
		fs := flag.NewFlagSet("purge", flag.ContinueOnError)
		fs.SetOutput(stdout)
		dry := fs.Bool("dry-run", false, "count what would go, remove nothing")
		fs.Usage = func() {
			fmt.Fprintln(stdout, "Usage: wvsoft purge [--dry-run]\n\nApplies the retention schedule (README, Retention) and prints the counts per rule; never values.")
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		db, err := openApp(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		run, err := db.Purge(ctx, wvsoft.DefaultRetention(), time.Now(), *dry)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(run.Counts))
		for k := range run.Counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(stdout, "%-42s %d\n", k, run.Counts[k])
		}
		if *dry {
			fmt.Fprintln(stdout, "(dry run: nothing removed)")
		}
		return nil
	case "rotate-keys":
		return withFlags(cmd, "re-encrypt every BSN and medical note that is not sealed with DATA_ENCRYPTION_KEY (sealed with a key of DATA_ENCRYPTION_OLD_KEYS, or written before encryption), as the owner (DATABASE_URL); servers may keep running", rest, stdout, func() error {
			keys, err := loadKeyring(cfg)
			if err != nil {
				return err
			}
			res, err := postgres.RotateKeys(ctx, cfg.DatabaseURL, keys, 1000)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%d persons read, %d values re-encrypted; every BSN and medical note is sealed with key %s\n",
				res.Persons, res.Resealed, res.KeyID)
			return nil
		})
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// seed migrates and writes the demo data; with reset it first drops the database and creates it
// empty, so that everything the demo changed goes.
func seed(ctx context.Context, cfg config, logger *slog.Logger, stdout io.Writer, reset bool) error {
	if reset {
		// Everything the demo changed (consent withdrawn, users added, erasures) goes with
		// the database; production data must never be one flag away from that.
		if cfg.Production {
			return errors.New("seed --reset drops the database; it is refused with WVSOFT_ENV=production")
		}
		if err := postgres.RecreateDatabase(ctx, cfg.DatabaseURL); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		fmt.Fprintln(stdout, "database dropped and created empty")
	}
	if err := postgres.Migrate(ctx, cfg.DatabaseURL, logger); err != nil {
		return err
	}
	keys, err := loadKeyring(cfg)
	if err != nil {
		return err
	}
	if err := postgres.Seed(ctx, cfg.DatabaseURL, time.Now(), keys); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "demo data seeded")
	return nil
}

// withFlags gives a command without options its --help.
func withFlags(name, help string, args []string, stdout io.Writer, fn func() error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: wvsoft %s\n\n%s.\nConfiguration comes from the environment (README.md).\n", name, help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	return fn()
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	return logging.New(w, cfg.LogFormat == "json", cfg.LogLevel)
}

// newDecisionLogger opens the decision log's own sink (DECISION_LOG): off, stderr, stdout or a
// file, appended to. Its lines are INFO records of their own, so LOG_LEVEL does not hide them:
// whoever asked for a decision log gets all of it. close releases the file, if any.
func newDecisionLogger(cfg config, stdout, stderr io.Writer) (logger *slog.Logger, closeFn func() error, err error) {
	noop := func() error { return nil }
	switch cfg.DecisionLog {
	case "off":
		return slog.New(slog.DiscardHandler), noop, nil
	case "stderr":
		return logging.New(stderr, cfg.LogFormat == "json", slog.LevelInfo), noop, nil
	case "stdout":
		return logging.New(stdout, cfg.LogFormat == "json", slog.LevelInfo), noop, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DecisionLog), 0o700); err != nil {
		return nil, nil, fmt.Errorf("DECISION_LOG %s: %w", cfg.DecisionLog, err)
	}
	// 0600: the lines hold subject and record ids, which only operators should read.
	f, err := os.OpenFile(cfg.DecisionLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("DECISION_LOG %s: %w", cfg.DecisionLog, err)
	}
	return logging.New(f, cfg.LogFormat == "json", slog.LevelInfo), f.Close, nil
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

func printToken(ctx context.Context, cfg config, email, customer string, ttl time.Duration, stdout io.Writer) error {
	db, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if customer != "" {
		if _, err := db.SubjectByEmailIn(ctx, email, customer); err != nil {
			return fmt.Errorf("customer %s has no user with e-mail address %s", customer, email)
		}
	} else if _, err := db.SubjectByEmail(ctx, email); err != nil {
		return fmt.Errorf("no user or staff member with e-mail address %s (did you run `wvsoft seed`?)", email)
	}
	authn, err := auth.NewDevelopment(db, time.Now, cfg.TokenKeyFile, auth.WithMaxLifetime(cfg.TokenMaxLifetime))
	if err != nil {
		return err
	}
	tok, err := authn.IssueTokenIn(email, customer, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// auditVerify checks every customer's access log.
func auditVerify(ctx context.Context, cfg config, stdout io.Writer) error {
	db, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	broken := 0
	page := wvsoft.Page{First: wvsoft.DefaultMaxPageSize}
	for {
		customers, more, err := db.Customers(ctx, wvsoft.TenantFilter{All: true}, page)
		if err != nil {
			return err
		}
		for _, c := range customers {
			v, err := db.VerifyAccessLog(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{c.TenantID}}, c.TenantID)
			if err != nil {
				return err
			}
			if v.Intact {
				fmt.Fprintf(stdout, "%s: intact (%d entries)\n", c.Slug, v.Entries)
				continue
			}
			broken++
			fmt.Fprintf(stdout, "%s: BROKEN at entry %d: %s\n", c.Slug, *v.FirstBrokenSeq, *v.Problem)
		}
		if !more {
			break
		}
		page.After = customers[len(customers)-1].TenantID
	}
	if broken > 0 {
		return fmt.Errorf("%d access log(s) broken", broken)
	}
	return nil
}

func openApp(ctx context.Context, cfg config, opts ...postgres.Option) (*postgres.DB, error) {
	appURL := cfg.AppDatabaseURL
	if appURL == "" {
		var err error
		if appURL, err = postgres.AppURL(cfg.DatabaseURL, cfg.AppDatabasePassword); err != nil {
			return nil, err
		}
	}
	return postgres.Open(ctx, appURL, time.Now, opts...)
}

func serve(ctx context.Context, cfg config, getenv func(string) string, logger *slog.Logger, stdout, stderr io.Writer) error {
	// Listen first: a port in use is the first and only error, before any worker starts (and
	// then logs its own cancellation as if something else had failed).
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	defer ln.Close() // srv.Serve closes it too; this covers the returns before it
	decisionLogger, closeDecisions, err := newDecisionLogger(cfg, stdout, stderr)
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
	dbOpts := []postgres.Option{postgres.WithStatementTimeout(cfg.StatementTimeout)}
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
	db, err := openApp(ctx, cfg, dbOpts...)
	if err != nil {
		return err
	}
	defer db.Close()

	m := metrics.New()
	m.WatchPool(db.Stats)
	m.WatchStates("wvsoft_support_access_grants", "Support-access requests and grants by stored state.",
		[]string{wvsoft.GrantPending, wvsoft.GrantApproved, wvsoft.GrantDenied, wvsoft.GrantExpired, wvsoft.GrantRevoked}, db.GrantCounts)

	opts := []authz.Option{authz.WithLogger(logger), authz.WithReloadHook(m.CountReload)}
	if cfg.PolicyDir != "" {
		opts = append(opts, authz.WithDir(cfg.PolicyDir))
	}
	engine, err := authz.New(ctx, opts...)
	if err != nil {
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
	workers.Go(func() { expireGrants(workCtx, db, logger) })
	workers.Go(func() { purgeEveryHour(workCtx, db, logger) })
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

	resolver := &graph.Resolver{Store: db, Now: time.Now,
		InquiryLimit: ratelimit.New(db, "inquiry", cfg.InquiryBurst, cfg.InquiryInterval, time.Now)}
	gql := graph.NewHandler(resolver,
		graph.HandlerConfig{Logger: logger, DecisionLogger: decisionLogger, Introspection: cfg.Introspection, FieldSuggestions: cfg.Introspection,
			Limits: cfg.Limits, Metrics: m, Tracer: tracer})
	handler := httpserver.NewServer(logger, authn, engine, db, gql, m.Handler(), httpserver.WithCORSOrigins(cfg.CORSOrigins), httpserver.WithRequestTimeout(cfg.RequestTimeout),
		httpserver.WithTrustedProxies(cfg.TrustedProxies))
	if tracingOn {
		handler = otelhttp.NewHandler(handler, "http", otelhttp.WithTracerProvider(tp))
	}

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	url := browsableURL(ln.Addr())
	logger.Info("serving", "addr", ln.Addr().String())
	fmt.Fprintf(stdout, "GraphQL:    %s/graphql\nPlayground: %s/playground/\n", url, url)

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
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close() // cut what did not finish in time
		return fmt.Errorf("shutdown: requests still running after %s were cut off", cfg.ShutdownTimeout)
	}
	logger.Info("stopped: every request finished")
	return nil
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

// expireGrants writes down expired support-access requests and grants once a minute. Access
// already stops at expiry without it (the policy and the grant query compare times); this puts
// the EXPIRED step into the customers' access logs.
func expireGrants(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		if n, err := db.ExpireGrants(ctx, time.Now()); err != nil && ctx.Err() == nil {
			logger.Error("expiring support-access grants", "error", err.Error())
		} else if n > 0 {
			logger.Info("support-access grants expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// purgeEveryHour applies the retention schedule every hour (P2); it is idempotent, so every
// server may run it.
func purgeEveryHour(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if run, err := db.Purge(ctx, wvsoft.DefaultRetention(), time.Now(), false); err != nil {
			if ctx.Err() == nil { // stopping cancels the purge; that is no failure to report
				logger.Error("purge", "error", err.Error())
			}
		} else {
			logger.Info("purge", "counts", run.Counts)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// config is the environment, read once.
type config struct {
	DatabaseURL         string
	AppDatabaseURL      string
	AppDatabasePassword string
	ListenAddr          string
	PolicyDir           string
	TokenKeyFile        string
	OIDCIssuer          string
	OIDCAudience        string
	OIDCJWKSURL         string
	// OIDCEmailClaim and OIDCEmailVerifiedClaim map an OIDC token to a user (README, Sign-in).
	OIDCEmailClaim         string
	OIDCEmailVerifiedClaim string
	OIDCCustomerClaim      string
	TokenMaxLifetime       time.Duration
	Production             bool
	Introspection          bool
	LogFormat              string
	LogLevel               slog.Level
	DecisionLog            string
	SMTPURL                string
	InquiryBurst           int
	InquiryInterval        time.Duration
	OutboxPoll             time.Duration
	Limits                 graph.Limits
	CORSOrigins            []string
	TrustedProxies         []netip.Prefix
	DataKey                string
	DataOldKeys            []string
	DataKeyFile            string
	ShutdownTimeout        time.Duration
	RequestTimeout         time.Duration
	StatementTimeout       time.Duration
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		DatabaseURL:            get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wvsoft?sslmode=disable"),
		AppDatabaseURL:         getenv("APP_DATABASE_URL"),
		AppDatabasePassword:    getenv("APP_DATABASE_PASSWORD"),
		ListenAddr:             get("LISTEN_ADDR", "127.0.0.1:8080"),
		PolicyDir:              getenv("POLICY_DIR"),
		TokenKeyFile:           get("TOKEN_KEY_FILE", ".data/token-signing-key.pem"),
		OIDCIssuer:             getenv("OIDC_ISSUER"),
		OIDCAudience:           get("OIDC_AUDIENCE", auth.Audience),
		OIDCJWKSURL:            getenv("OIDC_JWKS_URL"),
		OIDCEmailClaim:         get("OIDC_EMAIL_CLAIM", auth.DefaultEmailClaim),
		OIDCEmailVerifiedClaim: get("OIDC_EMAIL_VERIFIED_CLAIM", auth.DefaultEmailVerifiedClaim),
		OIDCCustomerClaim:      get("OIDC_CUSTOMER_CLAIM", auth.DefaultCustomerClaim),
		DataKey:                getenv("DATA_ENCRYPTION_KEY"),
		DataKeyFile:            get("DATA_ENCRYPTION_KEY_FILE", ".data/data-encryption-key"),
		Production:             get("WVSOFT_ENV", "development") == "production",
	}
	c.SMTPURL = getenv("SMTP_URL")
	c.InquiryBurst, c.InquiryInterval = 5, 10*time.Minute
	if v, err := strconv.Atoi(getenv("INQUIRY_BURST")); err == nil && v > 0 {
		c.InquiryBurst = v
	}
	if v, err := time.ParseDuration(getenv("INQUIRY_INTERVAL")); err == nil && v > 0 {
		c.InquiryInterval = v
	}
	c.OutboxPoll = 2 * time.Second
	if v, err := time.ParseDuration(getenv("OUTBOX_POLL_INTERVAL")); err == nil && v > 0 {
		c.OutboxPoll = v
	}
	c.Introspection = !c.Production
	if v := strings.ToLower(getenv("GRAPHQL_INTROSPECTION")); v != "" {
		c.Introspection = v == "true" || v == "1" || v == "on"
	}
	c.LogFormat = "text"
	if c.Production {
		c.LogFormat = "json"
	}
	c.LogFormat = get("LOG_FORMAT", c.LogFormat)
	var errs []error
	c.LogLevel = slog.LevelInfo
	if v := getenv("LOG_LEVEL"); v != "" {
		switch strings.ToLower(v) {
		case "debug", "info", "warn", "error":
			c.LogLevel.UnmarshalText([]byte(v)) // cannot fail for these four
		default:
			errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", v))
		}
	}
	// Development keeps the decision log in a file, out of the console; production sends it
	// with the other lines to stderr, where the platform collects logs.
	c.DecisionLog = ".data/decision.log"
	if c.Production {
		c.DecisionLog = "stderr"
	}
	c.DecisionLog = get("DECISION_LOG", c.DecisionLog)
	positive := func(name string, dest *int) {
		v := getenv(name)
		if v == "" {
			return // the default of graph.Limits
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s must be a positive whole number, not %q", name, v))
			return
		}
		*dest = n
	}
	positive("GRAPHQL_MAX_DEPTH", &c.Limits.MaxDepth)
	positive("GRAPHQL_MAX_COMPLEXITY", &c.Limits.MaxComplexity)
	positive("GRAPHQL_MAX_ALIASES", &c.Limits.MaxAliases)
	positive("GRAPHQL_MAX_QUERY_BYTES", &c.Limits.MaxQueryBytes)
	positive("GRAPHQL_MAX_TOKENS", &c.Limits.MaxTokens)
	positive("GRAPHQL_MAX_PAGE_SIZE", &c.Limits.MaxPageSize)
	var body int
	positive("GRAPHQL_MAX_BODY_BYTES", &body)
	c.Limits.MaxBodyBytes = int64(body)
	origins, err := httpserver.ParseOrigins(getenv("CORS_ALLOWED_ORIGINS"))
	errs = append(errs, err)
	c.CORSOrigins = origins
	proxies, err := httpserver.ParseTrustedProxies(getenv("TRUSTED_PROXIES"))
	errs = append(errs, err)
	c.TrustedProxies = proxies
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a duration such as 15s, not %q", name, v))
		}
		return d
	}
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", 15*time.Second)
	c.TokenMaxLifetime = duration("TOKEN_MAX_LIFETIME", auth.DefaultMaxLifetime)
	c.RequestTimeout = duration("REQUEST_TIMEOUT", httpserver.DefaultRequestTimeout)
	c.StatementTimeout = duration("DATABASE_STATEMENT_TIMEOUT", postgres.DefaultStatementTimeout)
	for _, k := range strings.Split(getenv("DATA_ENCRYPTION_OLD_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.DataOldKeys = append(c.DataOldKeys, k)
		}
	}
	return c, errors.Join(errs...)
}
