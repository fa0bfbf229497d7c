// Package postgres keeps the domain in PostgreSQL through sqlx and lib/pq. Every query runs in a
// transaction that carries the request's tenant filter twice: in the WHERE clause and in the
// settings that the row-level-security policies read.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// AppRole is the PostgreSQL role the server connects as. The first migration creates it.
const AppRole = "wvsoft_app"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the embedded migrations to the database at ownerURL, as its owner.
func Migrate(ctx context.Context, ownerURL string, logger *slog.Logger) error {
	db, err := sql.Open("postgres", ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// Servers and tests may migrate the same database at once; one migrates, the others wait.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7461001)`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7461001)`)

	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, dir,
		goose.WithSlog(logger), goose.WithVerbose(false))
	if err != nil {
		return err
	}
	results, err := provider.Up(ctx)
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return err
}

// SetAppPassword gives the application role a password, for servers that do not trust local
// connections (Docker, production). It runs as the owner.
func SetAppPassword(ctx context.Context, ownerURL, password string) error {
	db, err := sql.Open("postgres", ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// ALTER ROLE takes no parameters; quote_literal does the quoting on the server.
	var stmt string
	if err := db.QueryRowContext(ctx, `SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)`, AppRole, password).Scan(&stmt); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// AppURL returns ownerURL with its user replaced by the application role, keeping the password
// only when appPassword is set. It is how a development set-up finds the role the server uses.
func AppURL(ownerURL, appPassword string) (string, error) {
	u, err := url.Parse(ownerURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("DATABASE_URL must be a postgres:// URL")
	}
	if appPassword != "" {
		u.User = url.UserPassword(AppRole, appPassword)
	} else {
		u.User = url.User(AppRole)
	}
	return u.String(), nil
}

// DB is the store the server uses, connected as the application role.
type DB struct {
	db     *sqlx.DB
	now    wvsoft.Clock
	tracer trace.Tracer
	keys   *Keyring
}

// Option configures a DB.
type Option func(*DB)

// WithTracer gives every transaction a span.
func WithTracer(t trace.Tracer) Option { return func(d *DB) { d.tracer = t } }

// WithKeyring encrypts and decrypts the columns kept encrypted (BSN, medical notes). Without
// it, reading or writing them fails.
func WithKeyring(k *Keyring) Option { return func(d *DB) { d.keys = k } }

// Open connects to appURL and checks that the role is not able to bypass row-level security.
func Open(ctx context.Context, appURL string, now wvsoft.Clock, opts ...Option) (*DB, error) {
	db, err := sqlx.Open("postgres", appURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	var super, bypass bool
	err = db.QueryRowContext(ctx,
		`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&super, &bypass)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect as application role: %w", err)
	}
	if super || bypass {
		db.Close()
		return nil, errors.New("the application role may bypass row-level security; connect as a plain role")
	}
	d := &DB{db: db, now: now, tracer: noop.NewTracerProvider().Tracer("")}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// Close closes the pool.
func (d *DB) Close() error { return d.db.Close() }

// Ping reports whether the database answers; /readyz uses it.
func (d *DB) Ping(ctx context.Context) error {
	return mapError(d.db.PingContext(ctx))
}

// Stats reports the pool's use, for the metrics.
func (d *DB) Stats() sql.DBStats { return d.db.Stats() }

// SQL returns the pool, for tests and benchmarks that need to look below the store.
func (d *DB) SQL() *sqlx.DB { return d.db }

// inTx runs fn in a transaction whose row-level-security settings come from f. A transaction
// with no tenant and not All sees no rows at all.
func (d *DB) inTx(ctx context.Context, f wvsoft.TenantFilter, fn func(tx *sqlx.Tx) error) error {
	ctx, span := d.tracer.Start(ctx, "postgres.tx")
	defer span.End()
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return mapError(err)
	}
	defer tx.Rollback()
	all := "off"
	if f.All {
		all = "on"
	}
	if _, err := tx.ExecContext(ctx,
		`SELECT set_config('app.tenants', $1, true), set_config('app.all_tenants', $2, true)`,
		tenantArray(f.Tenants), all); err != nil {
		return mapError(err)
	}
	if err := fn(tx); err != nil {
		return mapError(err)
	}
	return mapError(tx.Commit())
}

// tenantArray formats tenant ids as a PostgreSQL uuid[] literal.
func tenantArray(ids []uuid.UUID) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id.String())
	}
	b.WriteByte('}')
	return b.String()
}

// mapError turns driver errors into domain errors whose messages are safe to show; anything
// unknown stays internal.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var we *wvsoft.Error
	if errors.As(err, &we) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return wvsoft.NotFound("object")
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the database is unavailable; try again"}
		}
		switch pqErr.Code.Name() {
		case "unique_violation":
			return &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "an object with this value exists already"}
		case "check_violation", "not_null_violation", "foreign_key_violation":
			return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "the input violates a rule of the register"}
		case "insufficient_privilege":
			return &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed"}
		}
		return fmt.Errorf("postgres: %w", err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the database is unavailable; try again"}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the request was cancelled or timed out"}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the database is unavailable; try again"}
	}
	return err
}
