package postgres

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

const grantColumns = `tenant_id, id, requested_by, reason, scope_types, scope_special, scope_write, duration_seconds,
	status, requested_at, answer_by, decided_at, decided_by, starts_at, expires_at, revoked_at, revoked_by`

// grantRow adds the text[] column sqlx cannot put into a plain []string.
type grantRow struct {
	wvsoft.SupportAccessGrant
	Types pq.StringArray `db:"scope_types"`
}

func grants(rows []grantRow) []*wvsoft.SupportAccessGrant {
	out := make([]*wvsoft.SupportAccessGrant, len(rows))
	for i := range rows {
		g := rows[i].SupportAccessGrant
		g.ScopeTypes = rows[i].Types
		out[i] = &g
	}
	return out
}

// activeGrants reads the director's grants that are in force at now.
func (d *DB) activeGrants(ctx context.Context, staff uuid.UUID, now time.Time) ([]wvsoft.Grant, error) {
	var rows []struct {
		ID        uuid.UUID      `db:"id"`
		TenantID  uuid.UUID      `db:"tenant_id"`
		Types     pq.StringArray `db:"scope_types"`
		Special   bool           `db:"scope_special"`
		Write     bool           `db:"scope_write"`
		ExpiresAt time.Time      `db:"expires_at"`
	}
	if err := d.db.SelectContext(ctx, &rows, `SELECT * FROM auth_active_grants($1, $2)`, staff, now); err != nil {
		return nil, mapError(err)
	}
	out := make([]wvsoft.Grant, len(rows))
	for i, r := range rows {
		out[i] = wvsoft.Grant{ID: r.ID, TenantID: r.TenantID, Types: r.Types, Special: r.Special, Write: r.Write, ExpiresAt: r.ExpiresAt}
	}
	return out, nil
}

// RequestAccess files the director's request and logs it in the customer's access log.
func (d *DB) RequestAccess(ctx context.Context, f wvsoft.TenantFilter, g *wvsoft.SupportAccessGrant) error {
	if !f.Allows(g.TenantID) {
		return wvsoft.NotFound("customer")
	}
	return d.inTx(ctx, d.withTenant(f, g.TenantID), func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_grants (tenant_id, id, requested_by, reason, scope_types,
			scope_special, scope_write, duration_seconds, status, requested_at, answer_by)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'PENDING',$9,$10)`, g.TenantID, g.UUID, g.RequestedBy, g.Reason,
			pq.StringArray(g.ScopeTypes), g.ScopeSpecial, g.ScopeWrite, g.DurationSeconds, g.RequestedAt, g.AnswerBy); err != nil {
			return err
		}
		g.Status = wvsoft.GrantPending
		// The customer's admins are told by e-mail, in the same transaction (the outbox).
		var admins []mailRecipient
		if err := tx.SelectContext(ctx, &admins, `SELECT lower(email) AS email, 'User.email' AS source, name FROM users WHERE tenant_id = $1 AND role = 'ADMIN' ORDER BY 1`, g.TenantID); err != nil {
			return err
		}
		tenant := g.TenantID
		if err := enqueue(ctx, tx, &tenant, admins, wvsoft.AccessRequestLetter(g), wvsoft.PurposeSupportAccess, &g.UUID, g.RequestedAt); err != nil {
			return err
		}
		if err := raise(ctx, tx, wvsoft.EventGrantChanged, g.TenantID, g.UUID); err != nil {
			return err
		}
		return d.appendLog(ctx, tx, g.TenantID, wvsoft.EventRequested, wvsoft.SubjectStaff, &g.RequestedBy, &g.UUID,
			grantDetail(g), g.RequestedAt)
	})
}

// DecideAccess approves or denies a pending request. narrow may shorten or narrow it before
// approval; it runs on the stored request.
func (d *DB) DecideAccess(ctx context.Context, f wvsoft.TenantFilter, id, by uuid.UUID, approve bool, now time.Time, narrow func(*wvsoft.SupportAccessGrant) error) (*wvsoft.SupportAccessGrant, error) {
	var out *wvsoft.SupportAccessGrant
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		g, err := lockGrant(ctx, tx, f, id)
		if err != nil {
			return err
		}
		if st := g.StatusAt(now); st != wvsoft.GrantPending {
			return &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "the request is " + st + ", not pending", Field: "input.id"}
		}
		event := wvsoft.EventDenied
		g.Status, g.DecidedAt, g.DecidedBy = wvsoft.GrantDenied, &now, &by
		if approve {
			if narrow != nil {
				if err := narrow(g); err != nil {
					return err
				}
			}
			ends := now.Add(time.Duration(g.DurationSeconds) * time.Second)
			g.Status, g.StartsAt, g.ExpiresAt, event = wvsoft.GrantApproved, &now, &ends, wvsoft.EventApproved
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_grants SET status = $3, decided_at = $4, decided_by = $5,
			starts_at = $6, expires_at = $7, scope_types = $8, scope_special = $9, scope_write = $10, duration_seconds = $11
			WHERE tenant_id = $1 AND id = $2`, g.TenantID, g.UUID, g.Status, now, by, g.StartsAt, g.ExpiresAt,
			pq.StringArray(g.ScopeTypes), g.ScopeSpecial, g.ScopeWrite, g.DurationSeconds); err != nil {
			return err
		}
		if approve {
			// The director's requests find the grant through the index (one node), not by
			// searching every customer's shard.
			if _, err := tx.ExecContext(ctx, `INSERT INTO grant_index (grant_id, tenant, staff_id, expires_at) VALUES ($1,$2,$3,$4)`,
				g.UUID, g.TenantID, g.RequestedBy, g.ExpiresAt); err != nil {
				return err
			}
		}
		out = g
		if err := raise(ctx, tx, wvsoft.EventGrantChanged, g.TenantID, g.UUID); err != nil {
			return err
		}
		return d.appendLog(ctx, tx, g.TenantID, event, wvsoft.SubjectUser, &by, &g.UUID, grantDetail(g), now)
	})
	return out, err
}

// RevokeAccess ends an approved grant at once. Revoking one that is no longer in force is a
// conflict, so that the log shows only real revocations.
func (d *DB) RevokeAccess(ctx context.Context, f wvsoft.TenantFilter, id, by uuid.UUID, now time.Time) (*wvsoft.SupportAccessGrant, error) {
	var out *wvsoft.SupportAccessGrant
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		g, err := lockGrant(ctx, tx, f, id)
		if err != nil {
			return err
		}
		if st := g.StatusAt(now); st != wvsoft.GrantApproved {
			return &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "the grant is " + st + ", not in force", Field: "id"}
		}
		g.Status, g.RevokedAt, g.RevokedBy = wvsoft.GrantRevoked, &now, &by
		if _, err := tx.ExecContext(ctx, `UPDATE access_grants SET status = 'REVOKED', revoked_at = $3, revoked_by = $4
			WHERE tenant_id = $1 AND id = $2`, g.TenantID, g.UUID, now, by); err != nil {
			return err
		}
		if err := forgetGrant(ctx, tx, g.TenantID, g.UUID); err != nil {
			return err
		}
		// Every server's live connections of the director learn of it at commit (LISTEN).
		if err := raise(ctx, tx, wvsoft.EventGrantChanged, g.TenantID, g.UUID); err != nil {
			return err
		}
		out = g
		cp, err := d.appendEntry(ctx, tx, g.TenantID, wvsoft.EventRevoked, wvsoft.SubjectUser, &by, &g.UUID, map[string]any{}, now)
		if err != nil {
			return err
		}
		return d.sendCheckpoint(ctx, tx, f.All, g, wvsoft.EventRevoked, cp, now)
	})
	return out, err
}

// forgetGrant removes an ended grant from the director's index. The grant's own status decides
// anyway; this keeps the index as small as the grants in force.
func forgetGrant(ctx context.Context, tx *sqlx.Tx, tenant, id uuid.UUID) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM grant_index WHERE tenant = $1 AND grant_id = $2`, tenant, id)
	return err
}

func lockGrant(ctx context.Context, tx *sqlx.Tx, f wvsoft.TenantFilter, id uuid.UUID) (*wvsoft.SupportAccessGrant, error) {
	clause, arg := tenantClause(f)
	rows := []grantRow{}
	if err := tx.SelectContext(ctx, &rows, `SELECT `+grantColumns+` FROM access_grants WHERE `+clause+` AND id = $2 FOR UPDATE`, arg, id); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, wvsoft.NotFound("support access request")
	}
	return grants(rows)[0], nil
}

// AccessGrants lists grants, newest first, of one customer or requested by one staff member.
func (d *DB) AccessGrants(ctx context.Context, f wvsoft.TenantFilter, tenant *uuid.UUID, requestedBy *uuid.UUID) ([]*wvsoft.SupportAccessGrant, error) {
	rows := []grantRow{}
	err := selectRows(ctx, d, f, &rows, `SELECT `+grantColumns+` FROM access_grants WHERE %s
		AND ($2::uuid IS NULL OR tenant_id = $2) AND ($3::uuid IS NULL OR requested_by = $3)
		ORDER BY requested_at DESC, id LIMIT 500`, nullUUID(tenant), nullUUID(requestedBy))
	return grants(rows), err
}

// AccessGrantsByID returns the grants among ids that the filter lets through.
func (d *DB) AccessGrantsByID(ctx context.Context, f wvsoft.TenantFilter, ids []uuid.UUID) ([]*wvsoft.SupportAccessGrant, error) {
	rows := []grantRow{}
	err := selectByID(ctx, d, f, &rows, `SELECT `+grantColumns+` FROM access_grants WHERE %s AND id = ANY($2)`, pq.Array(ids))
	return grants(rows), err
}

// LogAccess appends one ACCESS entry per grant that a request used. It is a system write: the
// tenant is the grant's, whatever the actor reaches.
func (d *DB) LogAccess(ctx context.Context, actor *wvsoft.Subject, accesses []wvsoft.Access, at time.Time) error {
	for _, a := range accesses {
		a := a
		err := d.inTx(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{a.TenantID}}, func(tx *sqlx.Tx) error {
			sort.Strings(a.Records)
			sort.Strings(a.Fields)
			return d.appendLog(ctx, tx, a.TenantID, wvsoft.EventAccess, actor.Kind, &actor.ID, &a.GrantID,
				map[string]any{"records": a.Records, "fields": a.Fields}, at)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ExpireGrants writes down the requests and grants whose time has run out, with an EXPIRED
// entry in each customer's log. It is idempotent; serve runs it every minute.
func (d *DB) ExpireGrants(ctx context.Context, now time.Time) (int, error) {
	var due []struct {
		TenantID uuid.UUID `db:"tenant_id"`
		ID       uuid.UUID `db:"id"`
		Approved bool      `db:"approved"`
	}
	// The sweeper acts for every customer: the register flag lets it see access_grants.
	err := d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &due, `SELECT tenant_id, id, status = 'APPROVED' AS approved FROM access_grants
			WHERE (status = 'PENDING' AND answer_by <= $1) OR (status = 'APPROVED' AND expires_at <= $1)`, now)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range due {
		err := d.inTx(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{g.TenantID}}, func(tx *sqlx.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE access_grants SET status = 'EXPIRED' WHERE tenant_id = $1 AND id = $2
				AND ((status = 'PENDING' AND answer_by <= $3) OR (status = 'APPROVED' AND expires_at <= $3))`, g.TenantID, g.ID, now)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil // another server got there first
			}
			n++
			if err := forgetGrant(ctx, tx, g.TenantID, g.ID); err != nil {
				return err
			}
			if err := raise(ctx, tx, wvsoft.EventGrantChanged, g.TenantID, g.ID); err != nil {
				return err
			}
			cp, err := d.appendEntry(ctx, tx, g.TenantID, wvsoft.EventExpired, "SYSTEM", nil, &g.ID, map[string]any{}, now)
			if err != nil || !g.Approved {
				return err // an unanswered request never was a grant: nothing ended
			}
			grant := &wvsoft.SupportAccessGrant{TenantID: g.TenantID, UUID: g.ID}
			return d.sendCheckpoint(ctx, tx, false, grant, wvsoft.EventExpired, cp, now)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// NextGrantDeadline is when the next pending request or approved grant runs out, or nil when
// none is open: the sweeper wakes then, so that the EXPIRED step (and its event to live
// subscribers) follows the end within moments, not within the minute.
func (d *DB) NextGrantDeadline(ctx context.Context) (*time.Time, error) {
	var next *time.Time
	err := d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &next, `SELECT min(CASE WHEN status = 'PENDING' THEN answer_by ELSE expires_at END)
			FROM access_grants WHERE status IN ('PENDING', 'APPROVED')`)
	})
	return next, err
}

func nullUUID(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return *id
}

// grantDetail is what the log keeps of a request or decision: reason and scope.
func grantDetail(g *wvsoft.SupportAccessGrant) map[string]any {
	return map[string]any{"reason": g.Reason, "types": g.ScopeTypes, "special_categories": g.ScopeSpecial,
		"write": g.ScopeWrite, "duration_seconds": g.DurationSeconds}
}

// withTenant adds the grant's tenant to a filter that reaches it anyway (All), so that row-level
// security on the tenant-only access log lets the entry in.
func (d *DB) withTenant(f wvsoft.TenantFilter, tenant uuid.UUID) wvsoft.TenantFilter {
	return wvsoft.TenantFilter{All: f.All, Tenants: append(append([]uuid.UUID{}, f.Tenants...), tenant)}
}

// GrantCounts counts support-access requests and grants by stored status, for the metrics.
func (d *DB) GrantCounts(ctx context.Context) (map[string]int, error) {
	return d.countByStatus(ctx, "access_grants")
}

// countByStatus counts the rows of a table of WvSoft's by their status column, for the metrics.
// table is a constant of the caller's, never input.
func (d *DB) countByStatus(ctx context.Context, table string) (map[string]int, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	err := d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT status, count(*) AS n FROM `+table+` GROUP BY status`)
	})
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

// dataSpaceKinds are the data-space types whose writes by WvSoft staff (the director, under a
// grant) the customer's access log records.
func dataSpaceKind(kind string) bool {
	return kind == wvsoft.KindPerson || kind == wvsoft.KindUser || kind == wvsoft.KindAPIKey
}

// logStaffWrite records, in the same transaction, a write by WvSoft staff into a customer's data
// space: which record, which fields (Type.field, as reads are recorded), under which grant (P9).
// The grant is the one the policy's write decision rested on (wvsoft.WriteGrantFrom). Writes by
// the customer itself are not access by WvSoft and are not logged here.
func (d *DB) logStaffWrite(ctx context.Context, tx *sqlx.Tx, tenant uuid.UUID, kind string, id uuid.UUID, op string, fields []string, at time.Time) error {
	actor := wvsoft.ActorFrom(ctx)
	if actor == nil || actor.Kind != wvsoft.SubjectStaff || !dataSpaceKind(kind) {
		return nil
	}
	grant := wvsoft.WriteGrantFrom(ctx, tenant)
	qualified := make([]string, len(fields))
	for i, f := range fields {
		qualified[i] = kind + "." + f
	}
	sort.Strings(qualified) // as an access's fields are
	fields = qualified
	return d.appendLog(ctx, tx, tenant, wvsoft.EventAccess, actor.Kind, &actor.ID, grant,
		map[string]any{"write": op, "records": []string{wvsoft.GlobalID(kind, id)}, "fields": fields}, at)
}
