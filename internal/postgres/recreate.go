package postgres

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	"github.com/lib/pq"
)

// RecreateDatabase drops the database of ownerURL and creates it empty, owned by the same user,
// connecting to the server's "postgres" database to do it. It is how `wvsoft seed --reset`
// (`make reset-demo`) puts a development database back to the demo data; other connections to
// it are ended.
func RecreateDatabase(ctx context.Context, ownerURL string) error {
	u, err := url.Parse(ownerURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("DATABASE_URL must be a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" || strings.HasPrefix(name, "template") {
		return errors.New("DATABASE_URL names no database of its own to recreate")
	}
	u.Path = "/postgres"
	admin, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`); err != nil {
		return err
	}
	_, err = admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	return err
}
