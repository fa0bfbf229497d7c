package postgres

import (
	"context"
	"math"
	"time"
)

// TakeRate counts one event of key against a limit of burst events at once and one more per
// interval, shared by every server on this database (migration 00007). It returns 0 when the
// event is allowed and counted, else how long until one more is allowed.
func (d *DB) TakeRate(ctx context.Context, key []byte, burst int, interval time.Duration, now time.Time) (time.Duration, error) {
	var wait float64
	// The interval travels as microseconds, PostgreSQL's resolution, which no duration parses wrongly.
	err := d.db.GetContext(ctx, &wait, `SELECT rate_limit_take($1, $2, make_interval(secs => $3::double precision / 1e6), $4)`,
		key, burst, interval.Microseconds(), now)
	if err != nil {
		return 0, mapError(err)
	}
	return time.Duration(math.Ceil(wait * float64(time.Second))), nil
}
