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
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wvsoft/privacy/internal/accesslog"
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
	// logKeys signs the access log's checkpoints.
	logKeys *accesslog.Keys
	// statementTimeout bounds a statement and, with ioGrace, a silent connection.
	statementTimeout time.Duration
	// subjects keeps recent subjects (WithSubjectCache); listener empties it on notifications.
	subjects       *subjectCache
	subjectsLogger *slog.Logger
	listener       *pq.Listener
	stopNotify     chan struct{}
	// citus: the database distributes the tables by tenant (lookupClause keeps the tenant test
	// an index condition there, which is how Citus finds a lookup's one shard).
	citus bool
	// notices receives the server's notices (WithNotices).
	notices func(*pq.Error)
}

// Option configures a DB.
type Option func(*DB)

// WithNotices passes every notice the server sends on the pool's connections to fn (on Citus,
// with citus.log_remote_commands, the statements each request sends to the workers: the
// routing test reads them).
func WithNotices(fn func(*pq.Error)) Option { return func(d *DB) { d.notices = fn } }

// WithTracer gives every transaction a span.
func WithTracer(t trace.Tracer) Option { return func(d *DB) { d.tracer = t } }

// WithKeyring encrypts and decrypts the columns kept encrypted (BSN, medical notes). Without
// it, reading or writing them fails.
func WithKeyring(k *Keyring) Option { return func(d *DB) { d.keys = k } }

// Timeouts of the server's connections, unless the URL sets its own connect_timeout or
// statement_timeout: a database that does not answer fails a request in seconds instead of
// holding it, and a connection of the pool, for minutes.
const (
	ConnectTimeoutSeconds   = 5
	DefaultStatementTimeout = 30 * time.Second
	// ioGrace is how much longer than the statement timeout a read may wait: the server ends a
	// slow statement itself; only a server that answers nothing at all meets this deadline.
	ioGrace = 5 * time.Second
)

// WithStatementTimeout sets the longest a statement may run (statement_timeout) and, with
// ioGrace, the longest the server may stay silent on a connection (DATABASE_STATEMENT_TIMEOUT).
func WithStatementTimeout(d time.Duration) Option {
	return func(db *DB) {
		if d > 0 {
			db.statementTimeout = d
		}
	}
}

// withTimeouts adds connect_timeout, statement_timeout and synchronous_commit (run-time
// parameters, which lib/pq sends at connection start) to a URL or key=value connection string
// that lacks them. synchronous_commit=on whatever the server's default: a write is acknowledged
// to the client only once its commit is on disk, so a crash loses no acknowledged write. TimeZone
// is UTC, so that dates the retention rules derive from times (::date) do not depend on the
// server's zone. binary_parameters (lib/pq's, not the server's) sends a query with parameters
// as Parse, Bind and Execute in one round trip instead of two: lib/pq then no longer
// asks the server for the parameters' types, so a []byte goes as binary and is only ever a bytea
// (JSON goes as a string).
func withTimeouts(dsn string, statement time.Duration) string {
	add := map[string]string{
		"connect_timeout":    fmt.Sprint(ConnectTimeoutSeconds),
		"statement_timeout":  fmt.Sprint(statement.Milliseconds()),
		"synchronous_commit": "on",
		"TimeZone":           "UTC",
		"binary_parameters":  "yes",
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		for k, v := range add {
			if !q.Has(k) {
				q.Set(k, v)
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, k := range []string{"connect_timeout", "statement_timeout", "synchronous_commit", "TimeZone", "binary_parameters"} {
		if !strings.Contains(dsn, k+"=") {
			dsn += " " + k + "=" + add[k]
		}
	}
	return dsn
}

// deadlineDialer gives every read and write on a connection a deadline. A server that stops
// answering without closing the connection (frozen, or behind a network that drops packets)
// would otherwise hold a query forever: lib/pq does not interrupt a blocked read when the
// query's context ends, and TCP notices only after minutes.
type deadlineDialer struct {
	d       net.Dialer
	timeout time.Duration
}

func (d deadlineDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d deadlineDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, timeout: d.timeout}, nil
}

// deadlineConn sets a deadline before every read and write, and keeps the earlier one that
// lib/pq sets itself while connecting (connect_timeout).
type deadlineConn struct {
	net.Conn
	timeout time.Duration
	mu      sync.Mutex
	fixed   time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.fixed = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *deadlineConn) next() time.Time {
	d := time.Now().Add(c.timeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() && c.fixed.Before(d) {
		return c.fixed
	}
	return d
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(c.next()); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.next()); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// Open connects to appURL and checks that the role is not able to bypass row-level security.
func Open(ctx context.Context, appURL string, now wvsoft.Clock, opts ...Option) (*DB, error) {
	d := &DB{now: now, tracer: noop.NewTracerProvider().Tracer(""), statementTimeout: DefaultStatementTimeout}
	for _, o := range opts {
		o(d)
	}
	connector, err := pq.NewConnector(withTimeouts(appURL, d.statementTimeout))
	if err != nil {
		return nil, err
	}
	connector.Dialer(deadlineDialer{timeout: d.statementTimeout + ioGrace})
	var conn driver.Connector = connector
	if d.notices != nil {
		conn = pq.ConnectorWithNoticeHandler(connector, d.notices)
	}
	db := sqlx.NewDb(sql.OpenDB(conn), "postgres")
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
	// On Citus the tenant reaches the shards only when SET LOCAL is passed on to the workers
	// (migration 00010 sets it for the role). Without it every query would fail closed; say why.
	var citus bool
	var propagate string
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus'),
		coalesce(current_setting('citus.propagate_set_commands', true), '')`).Scan(&citus, &propagate); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect as application role: %w", err)
	}
	if citus && propagate != "local" {
		db.Close()
		return nil, fmt.Errorf("on Citus the application role needs citus.propagate_set_commands = 'local' (it is %q): run `SELECT wvsoft_distribute()` as the owner, or ALTER ROLE %s SET citus.propagate_set_commands = 'local'", propagate, AppRole)
	}
	d.db, d.citus = db, citus
	if d.subjects != nil {
		d.listenSubjects(withTimeouts(appURL, d.statementTimeout))
	}
	return d, nil
}

// Close closes the pool and the notification listener.
func (d *DB) Close() error {
	if d.listener != nil {
		close(d.stopNotify)
		d.listener.Close()
	}
	return d.db.Close()
}

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
	if _, err := tx.ExecContext(ctx, setTenants(f.Tenants, f.All)); err != nil {
		return mapError(err)
	}
	if err := fn(tx); err != nil {
		return mapError(err)
	}
	return mapError(tx.Commit())
}

// reader is what the queries of a read-only transaction use (readTx).
type reader interface {
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readTx runs fn's queries in a read-only transaction whose row-level-security settings come
// from f, on a connection of the pool held for it. BEGIN and both settings travel as one
// simple-protocol statement, so that a read takes three round trips (the transaction with its
// settings, the query, COMMIT) where inTx takes four. database/sql does not know of this
// transaction: a connection that is not committed goes back to the pool only after a ROLLBACK
// that succeeded, and is closed otherwise, so that no connection is ever handed on inside a
// transaction or with a tenant still set.
func (d *DB) readTx(ctx context.Context, f wvsoft.TenantFilter, fn func(q reader) error) (err error) {
	ctx, span := d.tracer.Start(ctx, "postgres.tx")
	defer span.End()
	conn, err := d.db.Connx(ctx)
	if err != nil {
		return mapError(err)
	}
	open := true // from the first byte of BEGIN on, until COMMIT succeeded
	defer func() {
		if open {
			// The request's context may have ended: the rollback gets a bounded one of its own.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.statementTimeout)
			if _, rerr := conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn }) // closes it
			}
			cancel()
		}
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "BEGIN READ ONLY; "+setTenants(f.Tenants, f.All)); err != nil {
		return mapError(err)
	}
	if err := fn(conn); err != nil {
		return mapError(err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return mapError(err)
	}
	open = false
	return nil
}

// setTenants is the statement that gives a transaction its row-level-security settings:
// SET LOCAL, which Citus passes on to every worker connection of the transaction (with
// citus.propagate_set_commands = 'local', migration 00010), where set_config(..., true) would
// stay on the coordinator and leave the shards without a tenant. SET takes no parameters: the
// values are quoted literals, made of UUIDs and on/off only. Both settings travel in one
// round trip (the simple query protocol runs both statements).
func setTenants(tenants []uuid.UUID, all bool) string {
	flag := "off"
	if all {
		flag = "on"
	}
	return `SET LOCAL app.tenants = ` + pq.QuoteLiteral(tenantArray(tenants)) + `; SET LOCAL app.all_tenants = ` + pq.QuoteLiteral(flag)
}

// setAllTenants is the statement that raises or lowers only the register flag.
func setAllTenants(all bool) string {
	if all {
		return `SET LOCAL app.all_tenants = 'on'`
	}
	return `SET LOCAL app.all_tenants = 'off'`
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
// constraintOf names the constraint that an error violated. A Citus worker's error arrives at
// the coordinator without its constraint field (and names the shard, not the table): there the
// name is read from the message, which quotes it.
func constraintOf(e *pq.Error) string {
	if e.Constraint != "" {
		return e.Constraint
	}
	if m := quotedConstraint.FindStringSubmatch(e.Message); m != nil {
		return m[1]
	}
	return ""
}

var quotedConstraint = regexp.MustCompile(`constraint "([a-z0-9_]+)"`)

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
		case "22":
			// A data exception: a value the request brought that PostgreSQL cannot take (a NUL
			// in a text, a date that is none). The client's input, not the server's fault; its
			// text, which may quote the value, is neither shown nor logged.
			return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "a value of the request is not valid"}
		}
		switch pqErr.Code.Name() {
		case "unique_violation":
			return &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "an object with this value exists already"}
		case "check_violation":
			if constraintOf(pqErr) == "customers_check" {
				return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "the relationship cannot end before it started", Field: "input.relationshipEnd"}
			}
			return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "the input violates a rule of the register"}
		case "foreign_key_violation":
			// The input names an object that does not exist (or that went meanwhile).
			return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "the input refers to an object that does not exist"}
		case "not_null_violation":
			return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "the input violates a rule of the register"}
		case "insufficient_privilege":
			return &wvsoft.Error{Code: wvsoft.EFORBIDDEN, Message: "not allowed"}
		}
		return fmt.Errorf("postgres: %w", err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		// The server went away (stopped, restarted, unreachable): the pool reconnects by itself.
		return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the database is unavailable; try again"}
	}
	// database/sql rolls a transaction back when its context ends; the statements that follow
	// get ErrTxDone (inTx never uses a transaction after its commit): the request was cancelled.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrTxDone) {
		return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the request was cancelled or timed out"}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return &wvsoft.Error{Code: wvsoft.EUNAVAILABLE, Message: "the database is unavailable; try again"}
	}
	return err
}
