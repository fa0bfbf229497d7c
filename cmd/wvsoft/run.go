package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
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
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/mod/sumdb/note"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/logging"
	"github.com/wvsoft/privacy/internal/mail"
	"github.com/wvsoft/privacy/internal/metrics"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/ratelimit"
	"github.com/wvsoft/privacy/internal/service"
	"github.com/wvsoft/privacy/internal/tracing"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

const usage = `wvsoft: the WvSoft privacy backend

Usage:
  wvsoft serve         migrate the database, then serve GraphQL on LISTEN_ADDR
  wvsoft migrate       apply the database migrations
  wvsoft seed          write the demo data (idempotent)
  wvsoft token EMAIL   print a development bearer token for a user or staff member
  wvsoft audit verify  check every customer's access log against its signed checkpoints
                       (--checkpoint FILE --key PUBLIC_KEY: against a checkpoint you kept)
  wvsoft audit keygen  make an access-log signing key and its public key
  wvsoft policy impact replay recorded decisions against a candidate policy (--candidate DIR)
  wvsoft purge         apply the retention schedule now (--dry-run only counts; --dry-run --at DATE previews a date)
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
			fmt.Fprintln(stdout, "Usage: wvsoft audit verify [--checkpoint FILE --key PUBLIC_KEY | --api URL --token TOKEN --key PUBLIC_KEY] | wvsoft audit keygen [--name NAME]\n\nverify checks every customer's access log against its signed checkpoints (or one checkpoint a customer kept); keygen makes a signing key.")
			return nil
		}
		if len(rest) > 0 && rest[0] == "keygen" {
			return auditKeygen(rest[1:], stdout)
		}
		if len(rest) == 0 || rest[0] != "verify" {
			fmt.Fprintln(stderr, "Usage: wvsoft audit verify [--checkpoint FILE --key PUBLIC_KEY] | wvsoft audit keygen [--name NAME]")
			return errors.New("audit needs the subcommand verify or keygen")
		}
		return auditVerify(ctx, cfg, rest[1:], stdout)
	case "policy":
		if len(rest) == 0 || rest[0] != "impact" {
			fmt.Fprintln(stderr, "Usage: wvsoft policy impact --candidate DIR [--log FILE | --since DURATION] [--json] [--fail-on-change]")
			if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help") {
				return nil
			}
			return errors.New("policy needs the subcommand impact")
		}
		return policyImpact(ctx, cfg, rest[1:], stdout)
	case "purge":
		fs := flag.NewFlagSet("purge", flag.ContinueOnError)
		fs.SetOutput(stdout)
		dry := fs.Bool("dry-run", false, "count what would go, remove nothing")
		atFlag := fs.String("at", "", "with --dry-run: preview the purge as it would run on this date (YYYY-MM-DD, UTC midnight)")
		fs.Usage = func() {
			fmt.Fprintln(stdout, "Usage: wvsoft purge [--dry-run [--at YYYY-MM-DD]]\n\nApplies the retention schedule (README, Retention) and prints the counts per rule; never values.")
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		at := time.Now()
		if *atFlag != "" {
			if !*dry {
				return errors.New("--at previews only: use it with --dry-run")
			}
			d, err := time.Parse("2006-01-02", *atFlag)
			if err != nil {
				return errors.New("--at must be a date, YYYY-MM-DD")
			}
			at = d
		}
		db, err := openApp(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		run, err := operatorService(db, func() time.Time { return at }).RunPurge(ctx, *dry)
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
			fmt.Fprintln(stdout, "(dry run at "+at.UTC().Format("2006-01-02")+": nothing removed)")
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

// checkSignIn refuses development sign-in in production unless ALLOW_DEVELOPMENT_TOKENS asks
// for it: a production server without OIDC would otherwise accept the tokens anyone with the
// key file mints, for any identity.
func checkSignIn(cfg config) error {
	if cfg.Production && cfg.OIDCJWKSURL == "" && !cfg.DevelopmentTokens {
		return errors.New("production signs in with OIDC: set OIDC_ISSUER and OIDC_JWKS_URL (README, Sign-in); " +
			"ALLOW_DEVELOPMENT_TOKENS=true accepts development tokens instead, which whoever reads TOKEN_KEY_FILE can mint for anyone")
	}
	return nil
}

func printToken(ctx context.Context, cfg config, email, customer string, ttl time.Duration, stdout io.Writer) error {
	if err := checkSignIn(cfg); err != nil {
		return err
	}
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

// auditVerify checks customers' access logs: every customer's against its stored signed
// checkpoints, or, with --checkpoint, the one customer the kept checkpoint names against it too.
// The public key comes from --key (repeatable, for checkpoints of earlier keys), else from the
// configured signing key.
func auditVerify(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	checkpoint := fs.String("checkpoint", "", "a signed checkpoint you kept (from the e-mail or Customer.accessLogCheckpoint); checks its customer's log against it")
	var keys []string
	fs.Func("key", "a public (verifier) key of WvSoft's access log, as WvSoft published it; repeat it for earlier keys", func(v string) error {
		keys = append(keys, v)
		return nil
	})
	api := fs.String("api", "", "read the log through this GraphQL endpoint (https://…/graphql) as a customer's admin, instead of the database; needs --checkpoint")
	token := fs.String("token", "", "the admin's bearer token for --api (default: the environment's WVSOFT_TOKEN)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: wvsoft audit verify [--checkpoint FILE --key PUBLIC_KEY [--api URL --token TOKEN]]\n\n"+
			"Rebuilds each customer's Merkle tree from its records and checks it against every signed checkpoint,\n"+
			"and, with --checkpoint, against the one you kept: an altered, inserted or deleted entry or a cut tail\n"+
			"is reported. Exits non-zero when a log is broken. Configuration comes from the environment (README.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if len(keys) == 0 {
		if k, err := loadLogKeys(cfg, false); err == nil && k != nil {
			keys = append(keys, k.VerifierKey)
			keys = append(keys, cfg.LogVerifierKeys...)
		}
	}
	var known note.Verifiers
	if len(keys) > 0 {
		var err error
		if known, err = accesslog.Verifiers(keys...); err != nil {
			return err
		}
	} else if *checkpoint != "" {
		return errors.New("a kept checkpoint is checked with WvSoft's public key: give --key PUBLIC_KEY")
	} else {
		fmt.Fprintln(stdout, "no public key (--key or ACCESS_LOG_SIGNING_KEY): signatures are NOT checked, only the trees")
	}
	var kept []byte
	var only *uuid.UUID
	if *checkpoint != "" {
		var err error
		if kept, err = os.ReadFile(*checkpoint); err != nil {
			return err
		}
		// Saved from a mail program, a note may have CRLF line ends or lose its last newline;
		// the signature is over the text with LF.
		kept = []byte(strings.TrimRight(strings.ReplaceAll(string(kept), "\r\n", "\n"), "\n") + "\n")
		cp, err := accesslog.Open(kept, known)
		if err != nil {
			return fmt.Errorf("%s: %w", *checkpoint, err)
		}
		tenant, err := accesslog.TenantOf(cp.Origin)
		if err != nil {
			return fmt.Errorf("%s: %w", *checkpoint, err)
		}
		only = &tenant
		fmt.Fprintf(stdout, "your checkpoint: %d entries of %s, signed by a given key\n", cp.Size, cp.Origin)
	}
	if *api != "" {
		if only == nil {
			return errors.New("--api checks one customer's log against a checkpoint it kept: give --checkpoint FILE")
		}
		if *token == "" {
			*token = cfg.Token
		}
		l, err := fetchLog(ctx, *api, *token, *only)
		if err != nil {
			return err
		}
		rep := accesslog.Verify(l, known, kept)
		return report(stdout, only.String(), rep)
	}
	db, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	broken := 0
	check := func(tenant uuid.UUID, name string) error {
		l, err := db.ReadLog(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, tenant)
		if err != nil {
			return err
		}
		var mine []byte
		if only != nil {
			mine = kept
		}
		if report(stdout, name, accesslog.Verify(l, known, mine)) != nil {
			broken++
		}
		return nil
	}
	if only != nil {
		if err := check(*only, only.String()); err != nil {
			return err
		}
	} else {
		page := wvsoft.Page{First: wvsoft.DefaultMaxPageSize}
		for {
			customers, w, err := db.Customers(ctx, wvsoft.TenantFilter{All: true}, page)
			if err != nil {
				return err
			}
			for _, c := range customers {
				if err := check(c.TenantID, c.Slug); err != nil {
					return err
				}
			}
			if !w.HasNext {
				break
			}
			page.After = customers[len(customers)-1].TenantID
		}
	}
	if broken > 0 {
		return fmt.Errorf("%d access log(s) broken", broken)
	}
	return nil
}

// report prints a verification's outcome; an error when the log is broken.
func report(stdout io.Writer, name string, rep *accesslog.Report) error {
	if rep.Intact() {
		fmt.Fprintf(stdout, "%s: intact (%d entries, signed up to %d)\n", name, rep.Entries, rep.Covered)
		return nil
	}
	p := rep.First()
	fmt.Fprintf(stdout, "%s: BROKEN at entry %d: %s\n", name, p.Seq, p.What)
	for _, q := range rep.Problems[1:] {
		fmt.Fprintf(stdout, "  also at entry %d: %s\n", q.Seq, q.What)
	}
	return errors.New("the access log is broken")
}

// fetchLog reads a customer's whole log through the API, as its admin: every entry's record
// and the newest signed checkpoint. Nothing the server says is trusted: the records are hashed
// here, the checkpoints checked with the public key the customer holds.
func fetchLog(ctx context.Context, endpoint, token string, tenant uuid.UUID) (accesslog.Log, error) {
	// Every entry comes with its own checkpoint, as in the database: an entry the server did not
	// sign is reported, not only a change to what the newest checkpoint covers.
	l := accesslog.Log{Tenant: tenant}
	if token == "" {
		return l, errors.New("--api needs the admin's bearer token: --token or WVSOFT_TOKEN")
	}
	const q = `query($after: String) { me { customer { id accessLogCheckpoint { note } accessLogSignedFrom
		accessLog(first: 500, after: $after) { edges { node { seq record checkpoint { note } } } pageInfo { hasNextPage endCursor } } } } }`
	var after *string
	for {
		body, err := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"after": after}})
		if err != nil {
			return l, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return l, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return l, err
		}
		var out struct {
			Data struct {
				Me struct {
					Customer *struct {
						ID         string `json:"id"`
						Checkpoint *struct {
							Note string `json:"note"`
						} `json:"accessLogCheckpoint"`
						SignedFrom *int64 `json:"accessLogSignedFrom"`
						Log        struct {
							Edges []struct {
								Node struct {
									Seq        int64  `json:"seq"`
									Record     string `json:"record"`
									Checkpoint *struct {
										Note string `json:"note"`
									} `json:"checkpoint"`
								} `json:"node"`
							} `json:"edges"`
							PageInfo struct {
								HasNextPage bool    `json:"hasNextPage"`
								EndCursor   *string `json:"endCursor"`
							} `json:"pageInfo"`
						} `json:"accessLog"`
					} `json:"customer"`
				} `json:"me"`
			} `json:"data"`
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&out)
		resp.Body.Close()
		if err != nil {
			return l, fmt.Errorf("%s answered HTTP %d without a GraphQL answer: %w", endpoint, resp.StatusCode, err)
		}
		if len(out.Errors) > 0 || out.Data.Me.Customer == nil {
			msg := "no customer"
			if len(out.Errors) > 0 {
				msg = out.Errors[0].Message
			}
			return l, fmt.Errorf("%s: %s (is the token a customer admin's?)", endpoint, msg)
		}
		c := out.Data.Me.Customer
		if id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindCustomer, c.ID); err != nil || id != tenant {
			return l, errors.New("the token's customer is not the one the checkpoint is of")
		}
		if after == nil {
			if c.SignedFrom == nil {
				return l, fmt.Errorf("%s does not say from which entry its log is signed (accessLogSignedFrom)", endpoint)
			}
			l.Adopted = *c.SignedFrom - 1
			if c.Checkpoint != nil {
				l.Checkpoints = append(l.Checkpoints, c.Checkpoint.Note)
			}
		}
		for _, e := range c.Log.Edges {
			l.Entries = append(l.Entries, accesslog.Entry{Seq: e.Node.Seq, Record: []byte(e.Node.Record)})
			if e.Node.Checkpoint != nil {
				l.Checkpoints = append(l.Checkpoints, e.Node.Checkpoint.Note)
			}
		}
		if !c.Log.PageInfo.HasNextPage || c.Log.PageInfo.EndCursor == nil {
			return l, nil
		}
		after = c.Log.PageInfo.EndCursor
	}
}

// auditKeygen prints a new signing key and its public key, for ACCESS_LOG_SIGNING_KEY and for
// customers (README, rotation).
func auditKeygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit keygen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("name", "wvsoft-access-log", "the key's name, shown in every signature (no spaces or '+'); a date in it helps rotation")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	skey, vkey, err := accesslog.GenerateKey(*name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ACCESS_LOG_SIGNING_KEY=%s\npublic key (give to customers): %s\n", skey, vkey)
	return nil
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
	workers.Go(func() { expireGrants(workCtx, db, logger) })
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

	var trusted *graph.TrustedDocuments
	if cfg.TrustedDocuments != "off" {
		if trusted, err = graph.LoadTrustedDocuments(os.DirFS(cfg.TrustedDocumentsDir), cfg.TrustedDocuments == "required"); err != nil {
			return fmt.Errorf("GRAPHQL_TRUSTED_DOCUMENTS_DIR %s: %w", cfg.TrustedDocumentsDir, err)
		}
		logger.Info("trusted documents", "documents", trusted.Len(), "required", trusted.Required)
	}
	resolver := &graph.Resolver{Store: db, Now: time.Now,
		InquiryLimit: ratelimit.New(db, "inquiry", keys.Secret("rate limit"), cfg.InquiryBurst, cfg.InquiryInterval, time.Now)}
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

// DefaultMetricsAddr is where the metrics are served unless METRICS_ADDR says otherwise: this
// machine only.
const DefaultMetricsAddr = "127.0.0.1:9464"

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

// expireGrants writes down expired support-access requests and grants at their end, and at
// least once a minute. Access already stops at expiry without it (the policy and the grant query
// compare times); this puts the EXPIRED step into the customers' access logs and tells the live
// subscribers (the director, the customer's admins).
func expireGrants(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if n, err := db.ExpireGrants(ctx, time.Now()); err != nil && ctx.Err() == nil {
			logger.Error("expiring support-access grants", "error", err.Error())
		} else if n > 0 {
			logger.Info("support-access grants expired", "count", n)
		}
		wait := time.Minute
		if next, err := db.NextGrantDeadline(ctx); err == nil && next != nil {
			wait = min(wait, time.Until(*next)+10*time.Millisecond)
			if wait <= 10*time.Millisecond {
				// A deadline that passed already is being written down by another server, or
				// failed just now: look again in a second rather than at once.
				wait = time.Second
			}
		}
		timer.Reset(wait)
	}
}

// operatorService is the service for what the server and its operator do themselves, as the
// database owner: the same rules as the API's (the retention schedule in force, the clock), with
// no caller to authorize, like migrate and rotate-keys. The API's runPurge is decided by the
// policy (Mutation.runPurge) before it reaches the same service call.
func operatorService(db *postgres.DB, now wvsoft.Clock) *service.Service {
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	return service.New(authz.NewStore(db, schema), service.WithClock(now))
}

// purgeEveryHour applies the retention schedule every hour (P2), and looks at the access logs'
// checkpoints (issue 14); both are idempotent, so every server may run them.
func purgeEveryHour(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	purger := operatorService(db, time.Now)
	for {
		if run, err := purger.RunPurge(ctx, false); err != nil {
			if ctx.Err() == nil { // stopping cancels the purge; that is no failure to report
				logger.Error("purge", "error", err.Error())
			}
		} else {
			logger.Info("purge", "counts", run.Counts)
		}
		checkpointLogs(ctx, db, logger)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// checkpointLogs signs adopted access logs and reports logs with unsigned entries (issue 14);
// it runs with the hourly purge, on every server (idempotent, under the append lock).
func checkpointLogs(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	signed, unsigned, err := db.CheckpointLogs(ctx)
	if err != nil {
		logger.Error("access-log checkpoints", "error", err.Error())
		return
	}
	if signed > 0 {
		logger.Info("access-log checkpoints: adopted logs signed", "count", signed)
	}
	for _, tenant := range unsigned {
		logger.Error("access log has entries without a signed checkpoint: not appended by a server with the signing key; run wvsoft audit verify",
			"tenant_id", tenant.String())
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
	// AllowedHosts are the Host header names answered besides this machine's (ALLOWED_HOSTS).
	AllowedHosts      []string
	TrustedProxies    []netip.Prefix
	DataKey           string
	DataOldKeys       []string
	DataKeyFile       string
	LogSigningKey     string
	LogSigningKeyFile string
	LogVerifierKeys   []string
	// PolicyAuthors may ask for explanations of decisions in production (POLICY_AUTHORS).
	PolicyAuthors []string
	// TrustedDocuments is off, allowed or required; TrustedDocumentsDir holds the documents.
	TrustedDocuments    string
	TrustedDocumentsDir string
	// Token is a bearer token for `audit verify --api`.
	Token           string
	ShutdownTimeout time.Duration
	RequestTimeout  time.Duration
	// SubscriptionRecheck bounds how long a quiet WebSocket goes without its credential being
	// checked again (events end access at once; this catches what no event announces).
	SubscriptionRecheck time.Duration
	StatementTimeout    time.Duration
	// PprofAddr serves Go's profiles on a loopback address of its own (PPROF_ADDR); empty: off.
	PprofAddr string
	// MetricsAddr serves /metrics on a listener of its own (METRICS_ADDR; empty:
	// DefaultMetricsAddr, off: none); MetricsToken is the bearer token a scrape must send,
	// required for an address that is not loopback (METRICS_TOKEN).
	MetricsAddr, MetricsToken string
	// DevelopmentTokens lets a production server without OIDC accept the development tokens
	// that `wvsoft token` signs with TOKEN_KEY_FILE (ALLOW_DEVELOPMENT_TOKENS): whoever can
	// read that file is anyone, the director included, so production asks for it by name.
	DevelopmentTokens bool
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
		LogSigningKey:          strings.TrimSpace(getenv("ACCESS_LOG_SIGNING_KEY")),
		LogSigningKeyFile:      get("ACCESS_LOG_SIGNING_KEY_FILE", ".data/access-log-signing-key"),
		Token:                  getenv("WVSOFT_TOKEN"),
		PprofAddr:              getenv("PPROF_ADDR"),
		MetricsAddr:            getenv("METRICS_ADDR"),
		MetricsToken:           getenv("METRICS_TOKEN"),
	}
	// One rule for every setting: unset takes the default, a value that cannot be taken stops
	// the start and names the setting (a typo must not quietly become the default).
	var errs []error
	oneOf := func(name, def string, allowed ...string) string {
		v := get(name, def)
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		errs = append(errs, fmt.Errorf("%s must be %s, not %q", name, strings.Join(allowed, " or "), v))
		return def
	}
	c.Production = oneOf("WVSOFT_ENV", "development", "development", "production") == "production"
	c.SMTPURL = getenv("SMTP_URL")
	c.LogFormat = "text"
	if c.Production {
		c.LogFormat = "json"
	}
	c.LogFormat = oneOf("LOG_FORMAT", c.LogFormat, "json", "text")
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
	c.TrustedDocuments = oneOf("GRAPHQL_TRUSTED_DOCUMENTS", "off", "off", "allowed", "required")
	c.TrustedDocumentsDir = getenv("GRAPHQL_TRUSTED_DOCUMENTS_DIR")
	switch {
	case c.TrustedDocuments != "off" && c.TrustedDocumentsDir == "":
		errs = append(errs, errors.New("GRAPHQL_TRUSTED_DOCUMENTS needs GRAPHQL_TRUSTED_DOCUMENTS_DIR, the directory of the trusted .graphql documents"))
	}
	for _, m := range strings.Split(getenv("POLICY_AUTHORS"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.PolicyAuthors = append(c.PolicyAuthors, m)
		}
	}
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
	if c.MetricsAddr != "" && c.MetricsAddr != "off" {
		host, _, err := net.SplitHostPort(c.MetricsAddr)
		ip, perr := netip.ParseAddr(host)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("METRICS_ADDR must be host:port (127.0.0.1:9464) or off, not %q", c.MetricsAddr))
		case (perr != nil || !ip.IsLoopback()) && host != "localhost" && c.MetricsToken == "":
			errs = append(errs, fmt.Errorf("METRICS_ADDR %s is not a loopback address: set METRICS_TOKEN, the bearer token Prometheus sends", c.MetricsAddr))
		}
	}
	hosts, err := httpserver.ParseAllowedHosts(getenv("ALLOWED_HOSTS"))
	errs = append(errs, err)
	c.AllowedHosts = hosts
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
	boolean := func(name string, def bool) bool {
		switch v := strings.ToLower(getenv(name)); v {
		case "":
			return def
		case "true", "1", "on":
			return true
		case "false", "0", "off":
			return false
		}
		errs = append(errs, fmt.Errorf("%s must be true or false, not %q", name, getenv(name)))
		return def
	}
	c.InquiryBurst = 5
	positive("INQUIRY_BURST", &c.InquiryBurst)
	c.InquiryInterval = duration("INQUIRY_INTERVAL", 10*time.Minute)
	c.OutboxPoll = duration("OUTBOX_POLL_INTERVAL", 2*time.Second)
	c.Introspection = boolean("GRAPHQL_INTROSPECTION", !c.Production)
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", 15*time.Second)
	c.TokenMaxLifetime = duration("TOKEN_MAX_LIFETIME", auth.DefaultMaxLifetime)
	c.RequestTimeout = duration("REQUEST_TIMEOUT", httpserver.DefaultRequestTimeout)
	c.SubscriptionRecheck = duration("SUBSCRIPTION_RECHECK_INTERVAL", graph.DefaultRecheck)
	c.StatementTimeout = duration("DATABASE_STATEMENT_TIMEOUT", postgres.DefaultStatementTimeout)
	c.DevelopmentTokens = boolean("ALLOW_DEVELOPMENT_TOKENS", false)
	for _, k := range strings.Split(getenv("DATA_ENCRYPTION_OLD_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.DataOldKeys = append(c.DataOldKeys, k)
		}
	}
	for _, k := range strings.Split(getenv("ACCESS_LOG_VERIFIER_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.LogVerifierKeys = append(c.LogVerifierKeys, k)
		}
	}
	return c, errors.Join(errs...)
}
