package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/service"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// jobClock is the time of the background jobs: the time now, and a channel that fires after a
// wait. The server runs them on the real clock (realClock); a test moves time itself.
type jobClock struct {
	now   wvsoft.Clock
	after func(time.Duration) <-chan time.Time
}

func realClock() jobClock { return jobClock{now: time.Now, after: time.After} }

// expireGrants writes down expired support-access requests and grants at their end, and at
// least once a minute. Access already stops at expiry without it (the policy and the grant query
// compare times); this puts the EXPIRED step into the customers' access logs and tells the live
// subscribers (the director, the customer's admins).
func expireGrants(ctx context.Context, db *postgres.DB, logger *slog.Logger, clock jobClock) {
	for {
		if n, err := db.ExpireGrants(ctx, clock.now()); err != nil && ctx.Err() == nil {
			logger.Error("expiring support-access grants", "error", err.Error())
		} else if n > 0 {
			logger.Info("support-access grants expired", "count", n)
		}
		wait := time.Minute
		if next, err := db.NextGrantDeadline(ctx); err == nil && next != nil {
			wait = min(wait, next.Sub(clock.now())+10*time.Millisecond)
			if wait <= 10*time.Millisecond {
				// A deadline that passed already is being written down by another server, or
				// failed just now: look again in a second rather than at once.
				wait = time.Second
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-clock.after(wait):
		}
	}
}

// operatorService is the service for what the server and its operator do themselves, as the
// database owner: the same rules as the API's (the retention schedule in force, the clock), with
// no caller to authorize, like migrate and rotate-keys. The API's runPurge is decided by the
// policy (Mutation.runPurge) before it reaches the same service call.
func operatorService(db *postgres.DB, now wvsoft.Clock) *service.Service {
	return service.New(authz.NewStore(db), service.WithClock(now))
}

// purgeEveryHour applies the retention schedule every hour (P2), and looks at the access logs'
// checkpoints; both are idempotent, so every server may run them.
func purgeEveryHour(ctx context.Context, purger *service.Service, db *postgres.DB, logger *slog.Logger, clock jobClock) {
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
		case <-clock.after(time.Hour):
		}
	}
}

// checkpointLogs signs adopted access logs and reports logs with unsigned entries;
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
