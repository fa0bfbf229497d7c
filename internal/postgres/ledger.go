package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

var _ wvsoft.Ledger = (*DB)(nil)

// withdrawnConsents lists the customers whose latest consent event is a withdrawal.
func (d *DB) withdrawnConsents(ctx context.Context) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	err := d.db.SelectContext(ctx, &ids, `SELECT * FROM auth_withdrawn_consents()`)
	return ids, mapError(err)
}

// RecordConsent appends a consent event (given or withdrawn).
func (d *DB) RecordConsent(ctx context.Context, f wvsoft.TenantFilter, e *wvsoft.ConsentEvent) error {
	if !f.Allows(e.TenantID) {
		return wvsoft.NotFound("customer")
	}
	return d.inTx(ctx, d.withTenant(f, e.TenantID), func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consent_events (tenant_id, id, event, basis, evidence, at, actor_kind, actor_id)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, e.TenantID, e.UUID, e.Event, e.Basis, e.Evidence, e.At, e.ActorKind, e.ActorID); err != nil {
			return err
		}
		// The latest event is the state staff are told on every request (migration 00009).
		if _, err := tx.ExecContext(ctx, `INSERT INTO consent_state AS s (tenant, event, at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant) DO UPDATE SET event = excluded.event, at = excluded.at WHERE excluded.at >= s.at`, e.TenantID, e.Event, e.At); err != nil {
			return err
		}
		// Staff's live connections read the consent state again (what they may see changed).
		return raise(ctx, tx, wvsoft.EventAccessChanged, e.TenantID, e.UUID)
	})
}

// ConsentOf returns a customer's consent history, latest first.
func (d *DB) ConsentOf(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) (*wvsoft.Consent, error) {
	rows := []*wvsoft.ConsentEvent{}
	err := selectRows(ctx, d, f, &rows, `SELECT tenant_id, id, event, basis, evidence, at, actor_kind, actor_id
		FROM consent_events WHERE %s AND tenant_id = $2 ORDER BY at DESC, id DESC`, tenant)
	return &wvsoft.Consent{TenantID: tenant, History: rows}, err
}

const requestColumns = `tenant_id, id, kind, subject_type, subject_id, received_at, deadline, status, completed_at, outcome, handled_by`

type requestRow struct {
	wvsoft.DataSubjectRequest
	RawOutcome []byte `db:"outcome"`
}

func requestList(rows []requestRow) ([]*wvsoft.DataSubjectRequest, error) {
	out := make([]*wvsoft.DataSubjectRequest, len(rows))
	for i := range rows {
		r := rows[i].DataSubjectRequest
		if err := json.Unmarshal(rows[i].RawOutcome, &r.Outcome); err != nil {
			return nil, err
		}
		out[i] = &r
	}
	return out, nil
}

// RegisterRequest registers a data-subject request for a person or contact person of a
// customer; the subject must exist within the filter.
func (d *DB) RegisterRequest(ctx context.Context, f wvsoft.TenantFilter, r *wvsoft.DataSubjectRequest) error {
	table := map[string]string{wvsoft.KindPerson: "persons", wvsoft.KindContactPerson: "contact_persons"}[r.SubjectType]
	if table == "" {
		return wvsoft.Invalid("input.subjectId", "requests are for persons and contact persons")
	}
	clause, arg := tenantClause(f)
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r.TenantID, `SELECT tenant_id FROM `+table+` WHERE `+clause+` AND id = $2`, arg, r.SubjectID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO data_subject_requests (tenant_id, id, kind, subject_type, subject_id, received_at, deadline)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, r.TenantID, r.UUID, r.Kind, r.SubjectType, r.SubjectID, r.ReceivedAt, r.Deadline)
		return err
	})
}

// requestKinds is the filter's record-state condition on requests (TenantFilter.DataOf) as the
// kinds of subject they may be about, or nil for no condition.
func requestKinds(f wvsoft.TenantFilter) pq.StringArray {
	if len(f.DataOf) == 0 {
		return nil
	}
	kinds := pq.StringArray{}
	for _, k := range []string{wvsoft.KindContactPerson, wvsoft.KindPerson} {
		if f.Shows(k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// historyTables is the filter's record-state condition on change history as the tables whose
// objects' history it shows, or nil for no condition.
func historyTables(f wvsoft.TenantFilter) pq.StringArray {
	if len(f.DataOf) == 0 {
		return nil
	}
	tables := pq.StringArray{}
	for _, t := range historyOf {
		if f.Shows(t.kind) {
			tables = append(tables, t.name)
		}
	}
	return tables
}

// historyOf are the tables whose changes change_history records (object_type), by name.
var historyOf = map[string]table{customersTable.name: customersTable, contactPersonsTable.name: contactPersonsTable,
	usersTable.name: usersTable, apiKeysTable.name: apiKeysTable, personsTable.name: personsTable}

// Requests lists a customer's requests, newest first.
func (d *DB) Requests(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID) ([]*wvsoft.DataSubjectRequest, error) {
	rows := []requestRow{}
	// The policy's condition by record state (staff: requests about the register only).
	err := selectRows(ctx, d, f, &rows, `SELECT `+requestColumns+` FROM data_subject_requests WHERE %s AND tenant_id = $2
		AND ($3::text[] IS NULL OR subject_type = ANY ($3)) ORDER BY received_at DESC`, tenant, requestKinds(f))
	if err != nil {
		return nil, err
	}
	return requestList(rows)
}

// RequestByID returns one request within the filter.
func (d *DB) RequestByID(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID) (*wvsoft.DataSubjectRequest, error) {
	rows := []requestRow{}
	if err := selectRows(ctx, d, f, &rows, `SELECT `+requestColumns+` FROM data_subject_requests WHERE %s AND id = $2
		AND ($3::text[] IS NULL OR subject_type = ANY ($3))`, id, requestKinds(f)); err != nil {
		return nil, err
	}
	list, err := requestList(rows)
	if err != nil || len(list) == 0 {
		return nil, firstErr(err, wvsoft.NotFound("data-subject request"))
	}
	return list[0], nil
}

// CompleteRequest marks a request done with its outcome.
func (d *DB) CompleteRequest(ctx context.Context, f wvsoft.TenantFilter, r *wvsoft.DataSubjectRequest) error {
	clause, arg := requestClause(f, r)
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error { return completeIn(ctx, tx, clause, arg, r) })
}

// requestClause is tenantClause for the statements about a request and its subject: a request
// read across all customers (staff) names its customer, and the subject is one of that
// customer's, so the statements name it (one shard on Citus, where a write by id alone would
// lock every shard and commit over all of them).
func requestClause(f wvsoft.TenantFilter, r *wvsoft.DataSubjectRequest) (string, any) {
	if f.All && r.TenantID != uuid.Nil {
		return "tenant_id = ANY($1)", pq.Array([]uuid.UUID{r.TenantID})
	}
	return tenantClause(f)
}

// completeIn marks a request done inside tx; a request done already is a conflict.
func completeIn(ctx context.Context, tx *sqlx.Tx, clause string, arg any, r *wvsoft.DataSubjectRequest) error {
	outcome, err := json.Marshal(r.Outcome)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE data_subject_requests SET status = 'DONE', completed_at = $3, outcome = $4, handled_by = $5
		WHERE `+clause+` AND id = $2 AND status = 'OPEN'`, arg, r.UUID, r.CompletedAt, string(outcome), r.HandledBy)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &wvsoft.Error{Code: wvsoft.ECONFLICT, Message: "the request is done already", Field: "id"}
	}
	return nil
}

// EraseSubject erases a data subject within the filter and says, field by field, what it erased
// and what it kept and why. A person of a data space is deleted. A contact person loses its
// support-only data at once; what billing needs stays, restricted, while the customer's billing
// data is under the fiscal hold, and goes with the purge after it.
func (d *DB) EraseSubject(ctx context.Context, f wvsoft.TenantFilter, r *wvsoft.DataSubjectRequest, rules wvsoft.RetentionPolicy, now time.Time) ([]wvsoft.FieldOutcome, error) {
	clause, arg := requestClause(f, r)
	var out []wvsoft.FieldOutcome
	// The request is completed in the same transaction: an erasure never happens without its
	// outcome on record, and of two executions at once only one erases.
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		var err error
		if out, err = erase(ctx, tx, clause, arg, f, r, rules, now); err != nil {
			return err
		}
		r.Outcome = out
		return completeIn(ctx, tx, clause, arg, r)
	})
	return out, err
}

// eraseFromOutbox takes an erased contact person's address and name out of the mail written to
// it. The greeting names the person and goes (a neutral one takes its place); the letter itself,
// what was sent and when, stays. Where nobody else of the customer has the address (another
// contact person, a user's login), the address goes too and mail not yet sent is not sent
// (FAILED, with why). Where someone does, the mail stays addressed to that record (a breach notice
// to an admin whose login it is must still go out, P4). The outbox is WvSoft's own table, which
// only the register flag opens, and a customer's users only its tenant: both are raised for these
// statements, the erasure's own consequence, and the transaction's settings restored after.
func eraseFromOutbox(ctx context.Context, tx *sqlx.Tx, f wvsoft.TenantFilter, tenant, person uuid.UUID, email string) error {
	if _, err := tx.ExecContext(ctx, setTenants(append(append([]uuid.UUID{}, f.Tenants...), tenant), true)); err != nil {
		return err
	}
	var owner struct {
		User    bool `db:"user"`
		Contact bool `db:"contact"`
	}
	if err := tx.GetContext(ctx, &owner, `SELECT
			EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND lower(email) = lower($2)) AS user,
			EXISTS (SELECT 1 FROM contact_persons WHERE tenant_id = $1 AND lower(email) = lower($2) AND id <> $3) AS contact`,
		tenant, email, person); err != nil {
		return err
	}
	// The body is the greeting, a blank line and the letter (enqueue); a body without the blank
	// line (written before greetings) names nobody and stays.
	const ungreeted = `CASE WHEN position(E'\n\n' IN body) > 0
		THEN $3 || substr(body, position(E'\n\n' IN body)) ELSE body END`
	var err error
	switch {
	case owner.Contact:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET body = `+ungreeted+`
			WHERE tenant_id = $1 AND recipient_source = 'ContactPerson.email' AND lower(recipient) = lower($2)`,
			tenant, email, wvsoft.Greeting(nil, nil))
	case owner.User:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET body = `+ungreeted+`, recipient_source = 'User.email'
			WHERE tenant_id = $1 AND recipient_source = 'ContactPerson.email' AND lower(recipient) = lower($2)`,
			tenant, email, wvsoft.Greeting(nil, nil))
	default:
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET recipient = '', body = `+ungreeted+`,
				status = CASE WHEN status = 'PENDING' THEN 'FAILED' ELSE status END,
				last_error = CASE WHEN status = 'PENDING' THEN 'not sent: the recipient was erased' ELSE last_error END
			WHERE tenant_id = $1 AND recipient_source = 'ContactPerson.email' AND lower(recipient) = lower($2)`,
			tenant, email, wvsoft.Greeting(nil, nil))
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, setTenants(f.Tenants, f.All))
	return err
}

// erase does the erasure of EraseSubject inside tx.
func erase(ctx context.Context, tx *sqlx.Tx, clause string, arg any, f wvsoft.TenantFilter, r *wvsoft.DataSubjectRequest, rules wvsoft.RetentionPolicy, now time.Time) ([]wvsoft.FieldOutcome, error) {
	var out []wvsoft.FieldOutcome
	err := func() error {
		if r.SubjectType == wvsoft.KindPerson {
			res, err := tx.ExecContext(ctx, `DELETE FROM persons WHERE `+clause+` AND id = $2`, arg, r.SubjectID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return wvsoft.NotFound("person")
			}
			out = append(out, wvsoft.FieldOutcome{Field: "Person", Action: "ERASED", Reason: "the whole record; no legal hold applies"})
			return nil
		}
		var contact struct {
			Tenant uuid.UUID `db:"tenant_id"`
			Email  *string   `db:"email"`
		}
		if err := tx.GetContext(ctx, &contact, `SELECT tenant_id, email FROM contact_persons WHERE `+clause+` AND id = $2`, arg, r.SubjectID); err != nil {
			return err
		}
		tenant := contact.Tenant
		if contact.Email != nil {
			if err := eraseFromOutbox(ctx, tx, f, tenant, r.SubjectID, *contact.Email); err != nil {
				return err
			}
		}
		var end *time.Time
		if err := tx.GetContext(ctx, &end, `SELECT relationship_end FROM customers WHERE tenant_id = $1`, tenant); err != nil {
			return err
		}
		out = append(out,
			wvsoft.FieldOutcome{Field: "ContactPerson.phone", Action: "ERASED", Reason: "support-only data"},
			wvsoft.FieldOutcome{Field: "ContactPerson.email", Action: "ERASED", Reason: "support-only data"})
		// The breach calls to the person stay: they are the evidence that the customer was
		// informed. What was said is about the person, support data: it goes now. Whom a call
		// reached is the person's name, read from the record, so it follows the record below.
		var calls int
		if err := tx.GetContext(ctx, &calls, `WITH erased AS (UPDATE breach_calls SET outcome = NULL
			WHERE tenant_id = $1 AND contact_person_id = $2 RETURNING 1) SELECT count(*) FROM erased`, tenant, r.SubjectID); err != nil {
			return err
		}
		if calls > 0 {
			out = append(out, wvsoft.FieldOutcome{Field: "BreachCall.outcome", Action: "ERASED", Reason: "support-only data: what was said in a breach call to the person"})
		}
		callsGo := func(reason string) error {
			if calls == 0 {
				return nil
			}
			out = append(out, wvsoft.FieldOutcome{Field: "BreachCall.called", Action: "ERASED", Reason: reason + "; the calls stay as evidence that the customer was informed"})
			_, err := tx.ExecContext(ctx, `UPDATE breach_calls SET contact_person_id = NULL WHERE tenant_id = $1 AND contact_person_id = $2`, tenant, r.SubjectID)
			return err
		}
		if end == nil || end.After(now) {
			// A current customer: nothing is under a fiscal hold yet that needs the person.
			if err := callsGo("no legal hold applies"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM contact_persons WHERE `+clause+` AND id = $2`, arg, r.SubjectID)
			out = append(out, wvsoft.FieldOutcome{Field: "ContactPerson.name", Action: "ERASED", Reason: "no legal hold applies"},
				wvsoft.FieldOutcome{Field: "ContactPerson.salutation", Action: "ERASED", Reason: "no legal hold applies"},
				wvsoft.FieldOutcome{Field: "ContactPerson.role", Action: "ERASED", Reason: "no legal hold applies"})
			return err
		}
		hold := rules.FiscalHoldUntil(*end)
		if now.After(hold.AddDate(0, 0, 1)) { // the hold's last day has passed
			if err := callsGo("the fiscal retention period has ended"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM contact_persons WHERE `+clause+` AND id = $2`, arg, r.SubjectID)
			out = append(out, wvsoft.FieldOutcome{Field: "ContactPerson.name", Action: "ERASED", Reason: "the fiscal retention period has ended"},
				wvsoft.FieldOutcome{Field: "ContactPerson.salutation", Action: "ERASED", Reason: "the fiscal retention period has ended"},
				wvsoft.FieldOutcome{Field: "ContactPerson.role", Action: "ERASED", Reason: "the fiscal retention period has ended"})
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contact_persons SET phone = NULL, email = NULL, restricted_at = $3, hold_until = $4
			WHERE `+clause+` AND id = $2`, arg, r.SubjectID, now, hold); err != nil {
			return err
		}
		reason := "billing data of a former customer: kept, restricted to billing, for the fiscal retention period (7 years after the end of the year the relationship ended)"
		out = append(out, wvsoft.FieldOutcome{Field: "ContactPerson.name", Action: "KEPT", Reason: reason, KeptUntil: &hold},
			wvsoft.FieldOutcome{Field: "ContactPerson.salutation", Action: "KEPT", Reason: reason, KeptUntil: &hold},
			wvsoft.FieldOutcome{Field: "ContactPerson.role", Action: "KEPT", Reason: reason, KeptUntil: &hold})
		if calls > 0 {
			out = append(out, wvsoft.FieldOutcome{Field: "BreachCall.called", Action: "KEPT", KeptUntil: &hold,
				Reason: "shows the contact person's name, and is restricted with it: " + reason})
		}
		return nil
	}()
	return out, err
}

// recordHistory writes which fields of an object changed, by the request's actor.
func recordHistory(ctx context.Context, tx *sqlx.Tx, tenant uuid.UUID, objectType string, objectID uuid.UUID, fields []string, at time.Time) error {
	if len(fields) == 0 {
		return nil
	}
	kind, actor := "SYSTEM", (*uuid.UUID)(nil)
	if s := wvsoft.ActorFrom(ctx); s != nil {
		kind, actor = s.Kind, &s.ID
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO change_history (tenant_id, id, object_type, object_id, fields, at, actor_kind, actor_id)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, tenant, id, objectType, objectID, pq.StringArray(fields), at, kind, actor)
	return err
}

// History lists the changes of one object, oldest first.
func (d *DB) History(ctx context.Context, f wvsoft.TenantFilter, objectID uuid.UUID) ([]*wvsoft.HistoryEntry, error) {
	rows := []struct {
		wvsoft.HistoryEntry
		F pq.StringArray `db:"fields"`
	}{}
	// The policy's condition by record state (staff: the history of the register only). The
	// actor's name and role come from its own record, where row-level security lets the
	// request see it (a customer's users and keys only within their tenant).
	err := selectRows(ctx, d, f, &rows, `SELECT h.tenant_id, h.id, h.object_type, h.object_id, h.fields, h.at, h.actor_kind, h.actor_id,
		CASE h.actor_kind WHEN 'USER' THEN u.name WHEN 'STAFF' THEN s.name WHEN 'API_KEY' THEN k.name END AS actor_name,
		CASE h.actor_kind WHEN 'USER' THEN u.role WHEN 'STAFF' THEN s.role WHEN 'API_KEY' THEN 'INTEGRATOR' END AS actor_role
		FROM (SELECT * FROM change_history WHERE %s AND object_id = $2 AND ($3::text[] IS NULL OR object_type = ANY ($3))) h
		LEFT JOIN users u ON h.actor_kind = 'USER' AND u.tenant_id = h.tenant_id AND u.id = h.actor_id
		LEFT JOIN api_keys k ON h.actor_kind = 'API_KEY' AND k.tenant_id = h.tenant_id AND k.id = h.actor_id
		LEFT JOIN staff_members s ON h.actor_kind = 'STAFF' AND s.id = h.actor_id
		ORDER BY h.at, h.id`, objectID, historyTables(f))
	out := make([]*wvsoft.HistoryEntry, len(rows))
	for i := range rows {
		e := rows[i].HistoryEntry
		e.Fields = rows[i].F
		e.ObjectType = historyOf[e.ObjectType].kind // table names stay in this package
		out[i] = &e
	}
	return out, err
}

// StaffMembers lists the staff register.
func (d *DB) StaffMembers(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.StaffMember, error) {
	rows := []*wvsoft.StaffMember{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT id, email, name, role, declaration_signed_at, declaration_expires_at FROM staff_members ORDER BY email`)
	})
	return rows, err
}

// RecordDeclaration records a signed confidentiality declaration.
func (d *DB) RecordDeclaration(ctx context.Context, f wvsoft.TenantFilter, staff uuid.UUID, signed, expires time.Time) (*wvsoft.StaffMember, error) {
	var out wvsoft.StaffMember
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &out, `UPDATE staff_members SET declaration_signed_at = $2, declaration_expires_at = $3 WHERE id = $1
			RETURNING id, email, name, role, declaration_signed_at, declaration_expires_at`, staff, signed, expires); err != nil {
			return err
		}
		return raise(ctx, tx, wvsoft.EventAccessChanged, uuid.Nil, staff)
	})
	return &out, err
}

// Processors lists the processor register.
func (d *DB) Processors(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.Processor, error) {
	rows := []*wvsoft.Processor{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT id, name, role, declaration_reference, declaration_date, created_at FROM processors ORDER BY name`)
	})
	return rows, err
}

// RegisterProcessor adds a processor.
func (d *DB) RegisterProcessor(ctx context.Context, f wvsoft.TenantFilter, p *wvsoft.Processor) error {
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO processors (id, name, role, declaration_reference, declaration_date, created_at)
			VALUES ($1,$2,$3,$4,$5,$6)`, p.UUID, p.Name, p.Role, p.DeclarationReference, p.DeclarationDate, p.CreatedAt)
		return err
	})
}

// PurgeRuns lists the purge runs, newest first.
func (d *DB) PurgeRuns(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.PurgeRun, error) {
	rows := []struct {
		wvsoft.PurgeRun
		Raw []byte `db:"counts"`
	}{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT id, at, dry_run, counts FROM purge_runs ORDER BY at DESC LIMIT 100`)
	})
	out := make([]*wvsoft.PurgeRun, len(rows))
	for i := range rows {
		r := rows[i].PurgeRun
		json.Unmarshal(rows[i].Raw, &r.Counts)
		out[i] = &r
	}
	return out, err
}

// Purge applies the retention schedule (wvsoft.RetentionRules) and records what it removed, by
// rule: counts, never values. It is idempotent. A dry run does the same work in a transaction
// that it rolls back, so its counts are exactly what a real run would remove.
func (d *DB) Purge(ctx context.Context, rules wvsoft.RetentionPolicy, now time.Time, dryRun bool) (*wvsoft.PurgeRun, error) {
	var ended []uuid.UUID
	err := d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &ended, `SELECT tenant_id FROM customers WHERE relationship_end IS NOT NULL AND relationship_end <= $1::date`, now)
	})
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	run := &wvsoft.PurgeRun{UUID: id, At: now, DryRun: dryRun, Counts: map[string]int{}}
	errRollback := &wvsoft.Error{Code: "DRY_RUN", Message: "dry run"}
	all := wvsoft.TenantFilter{All: true, Tenants: ended}
	// The purge is idempotent, and runs in short transactions in one order (on Citus they touch
	// every shard by design): the customers' own rows, as the application role; the evidence and
	// the access logs, as the owner's functions (one role per transaction: Citus refuses a
	// placement written by one role to another in the same transaction); WvSoft's own tables
	// (reference tables on Citus, locked on every node by a write: never in a transaction that
	// also holds shards); then the lookup rows of what went, which fail closed when left stale.
	// A dry run rolls each back, so its counts are exactly what a real run removes.
	tx := func(fn func(tx *sqlx.Tx) error) error {
		err := d.inTx(ctx, all, func(tx *sqlx.Tx) error {
			if err := fn(tx); err != nil {
				return err
			}
			if dryRun {
				return errRollback
			}
			return nil
		})
		if err == errRollback {
			return nil
		}
		return err
	}
	exec := func(tx *sqlx.Tx, name, q string, args ...any) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		run.Counts[name] += int(n)
		return nil
	}
	type step struct {
		name, q string
		args    []any
	}
	graceEnd := now.Add(-rules.SupportGrace)
	var purged []uuid.UUID
	err = tx(func(tx *sqlx.Tx) error {
		// The customers whose data space goes, listed first, so that the lookup rows of their
		// users and keys can follow them.
		if err := tx.SelectContext(ctx, &purged, `SELECT tenant_id FROM customers WHERE relationship_end IS NOT NULL
			AND relationship_end <= $1::date`, now.Add(-rules.ExportWindow)); err != nil {
			return err
		}
		for _, s := range []step{
			{"support-data.contact-persons", `UPDATE contact_persons cp SET phone = NULL, email = NULL FROM customers c
				WHERE c.tenant_id = cp.tenant_id AND c.relationship_end IS NOT NULL AND c.relationship_end <= $1::date
				AND (cp.phone IS NOT NULL OR cp.email IS NOT NULL)`, []any{graceEnd}},
			{"billing-data.contact-persons", `DELETE FROM contact_persons cp USING customers c
				WHERE c.tenant_id = cp.tenant_id AND c.relationship_end IS NOT NULL
				AND make_date(extract(year FROM c.relationship_end)::int + $2, 12, 31) < $1::date`, []any{now, rules.FiscalYears}},
			{"billing-data.restricted-contact-persons", `DELETE FROM contact_persons WHERE hold_until IS NOT NULL AND hold_until < $1::date`, []any{now}},
			{"billing-data.customers", `UPDATE customers SET name = NULL, email = NULL, phone = NULL, street = NULL, postal_code = NULL,
				city = NULL, kvk_number = NULL, iban = NULL
				WHERE relationship_end IS NOT NULL AND make_date(extract(year FROM relationship_end)::int + $2, 12, 31) < $1::date
				AND (name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL OR street IS NOT NULL OR iban IS NOT NULL OR kvk_number IS NOT NULL)`,
				[]any{now, rules.FiscalYears}},
			{"data-space.persons", `DELETE FROM persons p USING customers c WHERE c.tenant_id = p.tenant_id
				AND c.relationship_end IS NOT NULL AND c.relationship_end <= $1::date`, []any{now.Add(-rules.ExportWindow)}},
			{"data-space.users", `DELETE FROM users u USING customers c WHERE c.tenant_id = u.tenant_id
				AND c.relationship_end IS NOT NULL AND c.relationship_end <= $1::date`, []any{now.Add(-rules.ExportWindow)}},
			{"data-space.api-keys", `DELETE FROM api_keys k USING customers c WHERE c.tenant_id = k.tenant_id
				AND c.relationship_end IS NOT NULL AND c.relationship_end <= $1::date`, []any{now.Add(-rules.ExportWindow)}},
		} {
			if err := exec(tx, s.name, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return run, err
	}
	err = tx(func(tx *sqlx.Tx) error {
		// Evidence about a customer goes with its billing data once the fiscal hold ends, and a
		// completed request's record after its own years: the owner's function, which applies
		// the schedule itself, since the application may not delete evidence.
		var evidence []struct {
			Rule    string `db:"rule"`
			Removed int    `db:"removed"`
		}
		if err := tx.SelectContext(ctx, &evidence, `SELECT rule, removed FROM purge_evidence($1, $2, $3, $4)`,
			now, rules.FiscalYears, wvsoft.RequestRecordYears, dryRun); err != nil {
			return err
		}
		for _, e := range evidence {
			run.Counts[e.Rule] += e.Removed
		}
		// The access logs and grants of former customers past the fiscal hold: the owner's
		// function, which keeps the log append-only for everyone else.
		var logs struct {
			Entries int `db:"entries"`
			Grants  int `db:"grants"`
		}
		if err := tx.GetContext(ctx, &logs, `SELECT entries, grants FROM purge_access_logs($1::date, $2, $3)`, now, rules.FiscalYears, dryRun); err != nil {
			return err
		}
		run.Counts["evidence.access-log"] += logs.Entries
		run.Counts["evidence.access-grants"] += logs.Grants
		return nil
	})
	if err != nil {
		return run, err
	}
	err = tx(func(tx *sqlx.Tx) error {
		for _, s := range []step{
			{"website-inquiries", `DELETE FROM inquiries WHERE received_at < $1`, []any{now.Add(-rules.InquiryMaxAge)}},
			{"delivered-mail", `DELETE FROM outbox WHERE status <> 'PENDING' AND coalesce(sent_at, created_at) < $1`, []any{now.Add(-rules.SentMailAge)}},
		} {
			if err := exec(tx, s.name, s.q, s.args...); err != nil {
				return err
			}
		}
		if n := run.Counts["website-inquiries"]; n > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inquiry_counts (day, expired) VALUES ($1::date, $2)
				ON CONFLICT (day) DO UPDATE SET expired = inquiry_counts.expired + $2`, now, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || dryRun {
		return run, err
	}
	// The lookup rows whose records went (migration 00009): the logins and key hashes of the
	// users and keys that went, a customer's slug, its latest consent, a grant's index row. Not
	// counted: they index the rows counted above. What is gone is read from the tables first,
	// then deleted by value: Citus deletes from a reference table only by what reference tables
	// say.
	err = d.inTx(ctx, all, func(tx *sqlx.Tx) error {
		for _, q := range []string{`DELETE FROM login_index WHERE tenant = ANY($1)`, `DELETE FROM api_key_hashes WHERE tenant = ANY($1)`} {
			if _, err := tx.ExecContext(ctx, q, pq.Array(purged)); err != nil {
				return err
			}
		}
		for _, l := range []struct{ keys, exist, del string }{
			{`SELECT tenant FROM customer_slugs`, `SELECT tenant_id FROM customers WHERE tenant_id = ANY($1)`,
				`DELETE FROM customer_slugs WHERE tenant = ANY($1)`},
			{`SELECT tenant FROM consent_state`, `SELECT DISTINCT tenant_id FROM consent_events WHERE tenant_id = ANY($1)`,
				`DELETE FROM consent_state WHERE tenant = ANY($1)`},
			{`SELECT grant_id FROM grant_index`, `SELECT id FROM access_grants WHERE tenant_id IN (SELECT tenant FROM grant_index) AND id = ANY($1)`,
				`DELETE FROM grant_index WHERE grant_id = ANY($1)`},
		} {
			var keys, exist []uuid.UUID
			if err := tx.SelectContext(ctx, &keys, l.keys); err != nil {
				return err
			}
			if err := tx.SelectContext(ctx, &exist, l.exist, pq.Array(keys)); err != nil {
				return err
			}
			if gone := without(keys, exist); len(gone) > 0 {
				if _, err := tx.ExecContext(ctx, l.del, pq.Array(gone)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return run, err
	}
	err = d.inTx(ctx, all, func(tx *sqlx.Tx) error {
		counts, _ := json.Marshal(run.Counts)
		_, err := tx.ExecContext(ctx, `INSERT INTO purge_runs (id, at, dry_run, counts) VALUES ($1,$2,false,$3)`, run.UUID, now, string(counts))
		return err
	})
	return run, err
}

// without is keys less those in drop.
func without(keys, drop []uuid.UUID) []uuid.UUID {
	gone := make(map[uuid.UUID]bool, len(drop))
	for _, k := range drop {
		gone[k] = true
	}
	out := []uuid.UUID{}
	for _, k := range keys {
		if !gone[k] {
			out = append(out, k)
		}
	}
	return out
}
