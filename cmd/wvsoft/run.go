package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/wvsoft/privacy/internal/logging"
	"github.com/wvsoft/privacy/internal/postgres"
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
