package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

var _ wvsoft.Notifications = (*DB)(nil)

const (
	outboxColumns       = `id, tenant_id, recipient, recipient_source, subject, body, purpose, related_id, status, attempts, next_attempt_at, last_error, created_at, sent_at`
	breachColumns       = `id, description, discovered_at, categories, approx_persons, approx_records, consequences, measures, recorded_by, recorded_at`
	notificationColumns = `tenant_id, breach_id, emailed_at, phoned_at, reported_to_ap_at, ap_report_number`
)

type breachRow struct {
	wvsoft.Breach
	Cats pq.StringArray `db:"categories"`
}

func breachList(rows []breachRow, viewedAs uuid.UUID) []*wvsoft.Breach {
	out := make([]*wvsoft.Breach, len(rows))
	for i := range rows {
		b := rows[i].Breach
		b.Categories, b.ViewedAs = rows[i].Cats, viewedAs
		out[i] = &b
	}
	return out
}

// mailRecipient is one address and the record field it comes from (Type.field), which the
// outbox keeps so that the policy decides the address by that field's rule.
type mailRecipient struct {
	Email  string `db:"email"`
	Source string `db:"source"`
	// Salutation and Name greet the recipient (wvsoft.Greeting); either may be unknown.
	Salutation *string `db:"salutation"`
	Name       *string `db:"name"`
}

// enqueue writes one outbox row per recipient inside tx.
func enqueue(ctx context.Context, tx *sqlx.Tx, tenant *uuid.UUID, recipients []mailRecipient, l wvsoft.Letter, purpose string, related *uuid.UUID, now time.Time) error {
	for _, r := range recipients {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, tenant_id, recipient, recipient_source, subject, body, purpose, related_id,
			next_attempt_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)`,
			id, tenant, r.Email, r.Source, l.Subject, wvsoft.Greeting(r.Salutation, r.Name)+"\n\n"+l.Body, purpose, related, now); err != nil {
			return err
		}
	}
	return nil
}

// RecordBreach registers a breach and, in the same transaction, e-mails the admins and contact
// persons of every affected customer through the outbox (P4).
func (d *DB) RecordBreach(ctx context.Context, f wvsoft.TenantFilter, b *wvsoft.Breach, tenants []uuid.UUID) error {
	// Reading the customers' admins needs their tenants in the transaction, besides the
	// register flag the staff member brings.
	tf := wvsoft.TenantFilter{All: f.All, Tenants: append(append([]uuid.UUID{}, f.Tenants...), tenants...)}
	return d.inTx(ctx, tf, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO breaches (`+breachColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			b.UUID, b.Description, b.DiscoveredAt, pq.StringArray(b.Categories), b.ApproxPersons, b.ApproxRecords,
			b.Consequences, b.Measures, b.RecordedBy, b.RecordedAt); err != nil {
			return err
		}
		for _, t := range tenants {
			var name *string
			if err := tx.GetContext(ctx, &name, `SELECT name FROM customers WHERE tenant_id = $1`, t); err != nil {
				return err // an unknown customer: not found, and nothing is written
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO breach_customers (tenant_id, breach_id) VALUES ($1, $2)`, t, b.UUID); err != nil {
				return err
			}
			if err := raise(ctx, tx, wvsoft.EventBreachNotified, t, b.UUID); err != nil {
				return err
			}
			// An address that is both a contact person's and an admin's login is the contact
			// person's: the mail is addressed to the customer's contact.
			var recipients []mailRecipient
			if err := tx.SelectContext(ctx, &recipients, `SELECT DISTINCT ON (lower(email)) lower(email) AS email, source, salutation, name FROM (
				SELECT email, 'User.email' AS source, NULL AS salutation, name, 1 AS rank FROM users WHERE tenant_id = $1 AND role = 'ADMIN'
				UNION ALL SELECT email, 'ContactPerson.email', salutation, name, 0 FROM contact_persons WHERE tenant_id = $1 AND email IS NOT NULL) r
				ORDER BY lower(email), rank`, t); err != nil {
				return err
			}
			customer := ""
			if name != nil {
				customer = *name
			}
			tenant := t
			if err := enqueue(ctx, tx, &tenant, recipients, wvsoft.BreachLetter(b, customer, b.RecordedAt), wvsoft.PurposeBreach, &b.UUID, b.RecordedAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// Breaches lists the register, newest first.
func (d *DB) Breaches(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.Breach, error) {
	rows := []breachRow{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT `+breachColumns+` FROM breaches ORDER BY discovered_at DESC LIMIT 500`)
	})
	return breachList(rows, uuid.Nil), err
}

// BreachNotifications lists the affected customers of a breach, or the breaches of a customer.
func (d *DB) BreachNotifications(ctx context.Context, f wvsoft.TenantFilter, breach *uuid.UUID, tenant *uuid.UUID) ([]*wvsoft.BreachNotification, error) {
	rows := []*wvsoft.BreachNotification{}
	err := selectRows(ctx, d, f, &rows, `SELECT `+notificationColumns+` FROM breach_customers WHERE %s
		AND ($2::uuid IS NULL OR breach_id = $2) AND ($3::uuid IS NULL OR tenant_id = $3) ORDER BY breach_id DESC, tenant_id`,
		nullUUID(breach), nullUUID(tenant))
	return rows, err
}

// CustomerBreach reads a breach as the affected customer sees it; staff read it whole.
func (d *DB) CustomerBreach(ctx context.Context, f wvsoft.TenantFilter, tenant, breach uuid.UUID) (*wvsoft.Breach, error) {
	rows := []breachRow{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if f.All {
			return tx.SelectContext(ctx, &rows, `SELECT `+breachColumns+` FROM breaches WHERE id = $1`, breach)
		}
		if !f.Allows(tenant) {
			return wvsoft.NotFound("breach")
		}
		return tx.SelectContext(ctx, &rows, `SELECT `+breachColumns+` FROM customer_breaches($1) WHERE id = $2`,
			pq.Array([]uuid.UUID{tenant}), breach)
	})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	viewedAs := tenant
	if f.All {
		viewedAs = uuid.Nil
	}
	return breachList(rows, viewedAs)[0], nil
}

// BreachCalls lists the calls logged to a customer about a breach.
func (d *DB) BreachCalls(ctx context.Context, f wvsoft.TenantFilter, tenant, breach uuid.UUID) ([]*wvsoft.BreachCall, error) {
	rows := []*wvsoft.BreachCall{}
	// The contact person is read with the call, in the same tenant: its name is shown, decided
	// as that person's name (wvsoft.BreachCall.DerivedFrom).
	err := selectRows(ctx, d, f, &rows, `SELECT c.*, cp.name AS contact_name, cp.role AS contact_role, cp.restricted_at AS contact_restricted_at
		FROM (SELECT tenant_id, id, breach_id, called_by, contact_person_id, called_at, reached, outcome
		        FROM breach_calls WHERE %s AND tenant_id = $2 AND breach_id = $3) c
		LEFT JOIN contact_persons cp ON cp.tenant_id = $2 AND cp.tenant_id = c.tenant_id AND cp.id = c.contact_person_id
		ORDER BY c.called_at`, tenant, breach)
	return rows, err
}

// CallsTo lists the breach calls to a contact person, oldest first.
func (d *DB) CallsTo(ctx context.Context, f wvsoft.TenantFilter, tenant, contactPerson uuid.UUID) ([]*wvsoft.BreachCall, error) {
	rows := []*wvsoft.BreachCall{}
	err := selectRows(ctx, d, f, &rows, `SELECT c.*, cp.name AS contact_name, cp.role AS contact_role, cp.restricted_at AS contact_restricted_at
		FROM (SELECT tenant_id, id, breach_id, called_by, contact_person_id, called_at, reached, outcome
		        FROM breach_calls WHERE %s AND tenant_id = $2 AND contact_person_id = $3) c
		JOIN contact_persons cp ON cp.tenant_id = $2 AND cp.tenant_id = c.tenant_id AND cp.id = c.contact_person_id
		ORDER BY c.called_at`, tenant, contactPerson)
	return rows, err
}

// LogBreachCall records a phone call; a call that reached the customer informs it.
func (d *DB) LogBreachCall(ctx context.Context, f wvsoft.TenantFilter, c *wvsoft.BreachCall) (*wvsoft.BreachNotification, error) {
	var out wvsoft.BreachNotification
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		// The contact person called is one of the customer's. The tenant is the row's own: so Citus
		// runs the INSERT ... SELECT on the shard (with a parameter it would copy through the
		// coordinator, which row-level security refuses).
		res, err := tx.ExecContext(ctx, `INSERT INTO breach_calls (tenant_id, id, breach_id, called_by, contact_person_id, called_at, reached, outcome)
			SELECT cp.tenant_id,$2,$3,$4,cp.id,$6,$7,$8 FROM contact_persons cp WHERE cp.tenant_id = $1 AND cp.id = $5`,
			c.TenantID, c.UUID, c.BreachID, c.CalledBy, c.ContactPersonID, c.CalledAt, c.Reached, c.Outcome)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &wvsoft.Error{Code: wvsoft.EINVALID, Message: "no such contact person of this customer", Field: "input.contactPersonId"}
		}
		if err := tx.GetContext(ctx, &out, `UPDATE breach_customers SET phoned_at = CASE WHEN $3 THEN least(coalesce(phoned_at, $4), $4) ELSE phoned_at END
			WHERE tenant_id = $1 AND breach_id = $2 RETURNING `+notificationColumns, c.TenantID, c.BreachID, c.Reached, c.CalledAt); err != nil {
			return err
		}
		return raise(ctx, tx, wvsoft.EventBreachNotified, c.TenantID, c.BreachID)
	})
	return &out, err
}

// ReportBreach records the customer's report to the Autoriteit Persoonsgegevens.
func (d *DB) ReportBreach(ctx context.Context, f wvsoft.TenantFilter, tenant, breach uuid.UUID, at time.Time, number string) (*wvsoft.BreachNotification, error) {
	clause, arg := tenantClause(f)
	var out wvsoft.BreachNotification
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &out, `UPDATE breach_customers SET reported_to_ap_at = $4, ap_report_number = $5
			WHERE `+clause+` AND tenant_id = $2 AND breach_id = $3 RETURNING `+notificationColumns, arg, tenant, breach, at, number); err != nil {
			return err
		}
		return raise(ctx, tx, wvsoft.EventBreachNotified, tenant, breach)
	})
	return &out, err
}

// NotFullyInformed lists affected customers that were not yet informed by both e-mail and phone.
func (d *DB) NotFullyInformed(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.BreachNotification, error) {
	rows := []*wvsoft.BreachNotification{}
	err := selectRows(ctx, d, f, &rows, `SELECT `+notificationColumns+` FROM breach_customers WHERE %s
		AND (emailed_at IS NULL OR phoned_at IS NULL) ORDER BY breach_id, tenant_id`)
	return rows, err
}

// SubmitInquiry stores a website question through the one function a visitor may use.
func (d *DB) SubmitInquiry(ctx context.Context, i *wvsoft.Inquiry) error {
	_, err := d.db.ExecContext(ctx, `SELECT submit_inquiry($1, $2, $3, $4, $5)`, i.UUID, i.Name, i.Email, i.Question, i.ReceivedAt)
	return mapError(err)
}

// Inquiries lists the unanswered inquiries, oldest first.
func (d *DB) Inquiries(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.Inquiry, error) {
	rows := []*wvsoft.Inquiry{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT id, name, email, question, received_at FROM inquiries ORDER BY received_at LIMIT 500`)
	})
	return rows, err
}

// AnswerInquiry mails the answer through the outbox and deletes the inquiry, in one
// transaction: once answered, only the count remains (P5). The outbox row itself goes once sent.
func (d *DB) AnswerInquiry(ctx context.Context, f wvsoft.TenantFilter, id uuid.UUID, answer wvsoft.Letter, now time.Time) error {
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		var to mailRecipient
		if err := tx.GetContext(ctx, &to, `DELETE FROM inquiries WHERE id = $1 RETURNING email, 'Inquiry.email' AS source, name`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inquiry_counts (day, answered) VALUES ($1::date, 1)
			ON CONFLICT (day) DO UPDATE SET answered = inquiry_counts.answered + 1`, now); err != nil {
			return err
		}
		return enqueue(ctx, tx, nil, []mailRecipient{to}, answer, wvsoft.PurposeInquiryAnswer, nil, now)
	})
}

// InquiryCounts returns the numbers per day, newest first.
func (d *DB) InquiryCounts(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.InquiryCount, error) {
	rows := []*wvsoft.InquiryCount{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT day, received, answered, expired FROM inquiry_counts ORDER BY day DESC LIMIT 366`)
	})
	return rows, err
}

// PublishNotice mails a support notice to the contact persons of current customers (P8) with an
// address, one message per address and customer, those mayMail lets through (the policy decides,
// in internal/authz: after a customer withdrew consent support no longer uses its contacts'
// addresses). Candidates, notice and mail are one transaction.
func (d *DB) PublishNotice(ctx context.Context, f wvsoft.TenantFilter, n *wvsoft.SupportNotice, mayMail func(*wvsoft.ContactPerson) bool) error {
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		var candidates []*wvsoft.ContactPerson
		if err := tx.SelectContext(ctx, &candidates, `SELECT DISTINCT ON (cp.tenant_id, lower(cp.email)) cp.tenant_id, cp.id,
			cp.salutation, cp.name, cp.role, lower(cp.email) AS email, cp.phone, cp.restricted_at, c.relationship_end
			FROM contact_persons cp JOIN customers c USING (tenant_id)
			WHERE cp.email IS NOT NULL AND (c.relationship_end IS NULL OR c.relationship_end >= $1::date)
			ORDER BY cp.tenant_id, lower(cp.email)`, n.PublishedAt); err != nil {
			return err
		}
		var recipients []*wvsoft.ContactPerson
		for _, c := range candidates {
			if mayMail(c) {
				recipients = append(recipients, c)
			}
		}
		n.Recipients = len(recipients)
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_notices (id, title, body, published_by, published_at, recipients)
			VALUES ($1,$2,$3,$4,$5,$6)`, n.UUID, n.Title, n.Body, n.PublishedBy, n.PublishedAt, n.Recipients); err != nil {
			return err
		}
		letter := wvsoft.Letter{Subject: n.Title, Body: n.Body + "\n\nMet vriendelijke groet,\nWvSoft support\n\n-- \nU ontvangt dit als contactpersoon van een klant van WvSoft; dit is geen nieuwsbrief.\n"}
		for _, c := range recipients {
			tenant := c.TenantID
			to := mailRecipient{Email: *c.Email, Source: wvsoft.KindContactPerson + ".email", Salutation: c.Salutation, Name: c.Name}
			if err := enqueue(ctx, tx, &tenant, []mailRecipient{to}, letter, wvsoft.PurposeSupportNotice, &n.UUID, n.PublishedAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// SupportNotices lists the published notices, newest first.
func (d *DB) SupportNotices(ctx context.Context, f wvsoft.TenantFilter) ([]*wvsoft.SupportNotice, error) {
	rows := []*wvsoft.SupportNotice{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT id, title, body, published_by, published_at, recipients FROM support_notices ORDER BY published_at DESC LIMIT 500`)
	})
	return rows, err
}

// Outbox lists messages, newest first, optionally by status.
func (d *DB) Outbox(ctx context.Context, f wvsoft.TenantFilter, status *string, limit int) ([]*wvsoft.OutboxMessage, error) {
	rows := []*wvsoft.OutboxMessage{}
	err := d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &rows, `SELECT `+outboxColumns+` FROM outbox WHERE ($1::text IS NULL OR status = $1)
			ORDER BY created_at DESC, id LIMIT $2`, status, limit)
	})
	return rows, err
}

// MailTo lists a customer's mail to an address from source, newest first.
func (d *DB) MailTo(ctx context.Context, f wvsoft.TenantFilter, tenant uuid.UUID, source, address string) ([]*wvsoft.OutboxMessage, error) {
	rows := []*wvsoft.OutboxMessage{}
	err := selectRows(ctx, d, f, &rows, `SELECT `+outboxColumns+` FROM outbox WHERE %s AND tenant_id = $2
		AND recipient_source = $3 AND lower(recipient) = lower($4) ORDER BY created_at DESC, id LIMIT 500`, tenant, source, address)
	return rows, err
}

// ClaimDue takes up to limit due messages for sending and leases them for lease: a server that
// dies mid-send leaves them to be retried after it.
func (d *DB) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*wvsoft.OutboxMessage, error) {
	rows := []*wvsoft.OutboxMessage{}
	err := d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		// The due ids are chosen once, in a materialized CTE, before the update: Citus runs such a
		// CTE as its own step and keeps its LIMIT, where a subquery in the UPDATE's WHERE was
		// pushed down without it and claimed every due row.
		return tx.SelectContext(ctx, &rows, `WITH due AS MATERIALIZED (
			  SELECT id FROM outbox WHERE status = 'PENDING' AND next_attempt_at <= $1
			  ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
			UPDATE outbox SET next_attempt_at = $2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM due)
			RETURNING `+outboxColumns, now, now.Add(lease), limit)
	})
	return rows, err
}

// MarkSent records a delivered message; a breach e-mail informs its customer at that moment.
func (d *DB) MarkSent(ctx context.Context, m *wvsoft.OutboxMessage, now time.Time) error {
	f := wvsoft.TenantFilter{All: true}
	return d.inTx(ctx, f, func(tx *sqlx.Tx) error {
		if m.Purpose == wvsoft.PurposeInquiryAnswer {
			// The visitor's address goes as soon as the answer is out (P5).
			_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE id = $1`, m.UUID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'SENT', sent_at = $2, last_error = NULL WHERE id = $1`, m.UUID, now); err != nil {
			return err
		}
		if m.Purpose == wvsoft.PurposeBreach && m.TenantID != nil && m.RelatedID != nil {
			res, err := tx.ExecContext(ctx, `UPDATE breach_customers SET emailed_at = $3
				WHERE tenant_id = $1 AND breach_id = $2 AND emailed_at IS NULL`, *m.TenantID, *m.RelatedID, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // informed before, by an earlier e-mail: nothing changed
			}
			return raise(ctx, tx, wvsoft.EventBreachNotified, *m.TenantID, *m.RelatedID)
		}
		return nil
	})
}

// MarkFailed records a failed attempt: retried at next, or given up when final.
func (d *DB) MarkFailed(ctx context.Context, m *wvsoft.OutboxMessage, reason string, next time.Time, final bool) error {
	status := wvsoft.OutboxPending
	if final {
		status = wvsoft.OutboxFailed
	}
	return d.inTx(ctx, wvsoft.TenantFilter{All: true}, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1`,
			m.UUID, status, next, reason)
		return err
	})
}

// OutboxBacklog counts messages by status, for the metrics.
func (d *DB) OutboxBacklog(ctx context.Context) (map[string]int, error) {
	return d.countByStatus(ctx, "outbox")
}
