package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The access log and the grants of a former customer go once its fiscal hold has
// ended by the database's own date; a dry run counts them at the date it is given; the log
// stays append-only for the application.
func TestAccessLogRetention(t *testing.T) {
	db, app, _ := openSigned(t)
	ctx := context.Background()
	g := approvedGrant(t, app, time.Now(), 60)
	if err := logAccess(app, g, 1); err != nil {
		t.Fatal(err)
	}
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	count := func(table string) int {
		var n int
		if err := owner.QueryRow(`SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, g.TenantID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	entries := count("access_log")
	if entries < 3 {
		t.Fatalf("%d entries", entries)
	}
	// While the customer is current nothing goes, whatever date the application names.
	if run, err := app.Purge(ctx, wvsoft.DefaultRetention(), time.Now().AddDate(30, 0, 0), false); err != nil || run.Counts["evidence.access-log"] != 0 {
		t.Fatalf("a current customer's log was purged: %+v %v", run, err)
	}
	// The customer's relationship ended in 2015: the hold ended on 31 December 2022.
	if _, err := owner.Exec(`UPDATE customers SET relationship_start = '2010-01-01', relationship_end = '2015-06-30' WHERE tenant_id = $1`, g.TenantID); err != nil {
		t.Fatal(err)
	}
	dry, err := app.Purge(ctx, wvsoft.DefaultRetention(), time.Now(), true)
	if err != nil || dry.Counts["evidence.access-log"] != entries || dry.Counts["evidence.access-grants"] != 1 || count("access_log") != entries {
		t.Fatalf("dry run: %+v %v (%d left)", dry, err, count("access_log"))
	}
	run, err := app.Purge(ctx, wvsoft.DefaultRetention(), time.Now(), false)
	if err != nil || run.Counts["evidence.access-log"] != entries || run.Counts["evidence.access-grants"] != 1 {
		t.Fatalf("purge: %+v %v", run, err)
	}
	for _, table := range []string{"access_log", "access_log_tree", "access_log_checkpoints", "access_grants", "consent_events", "change_history"} {
		if n := count(table); n != 0 {
			t.Errorf("%s: %d rows left after the fiscal hold", table, n)
		}
	}
	// The lookups of what went go too (migration 00009).
	for table, column := range map[string]string{"grant_index": "tenant", "consent_state": "tenant"} {
		var n int
		if err := owner.QueryRow(`SELECT count(*) FROM `+table+` WHERE `+column+` = $1`, g.TenantID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d lookup rows left after the fiscal hold", table, n)
		}
	}
	// Still append-only for the application.
	if _, err := app.SQL().Exec(`SELECT set_config('app.retention_purge', 'on', false); DELETE FROM access_log`); err == nil {
		t.Fatal("the application deleted from the access log")
	}
}

// Every table that holds personal data or evidence falls under a retention rule;
// a new table must be named here, with its rule or the reason it needs none.
func TestEveryTableHasARetentionRule(t *testing.T) {
	db, _, _ := openSigned(t)
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	rules := map[string]string{}
	for _, r := range wvsoft.RetentionRules(wvsoft.DefaultRetention()) {
		rules[r.Name] = r.Name
	}
	covered := map[string]string{
		"customers": "billing-data", "contact_persons": "support-data", "users": "data-space", "api_keys": "data-space",
		"persons": "data-space", "inquiries": "website-inquiries", "outbox": "delivered-mail",
		"consent_events": "evidence", "change_history": "evidence", "data_subject_requests": "request-records",
		"breach_customers": "evidence", "breach_calls": "evidence", "access_log": "evidence", "access_log_tree": "evidence",
		"access_log_checkpoints": "evidence", "access_log_adopted": "evidence", "access_grants": "evidence",
		// The lookup tables (migration 00009) go with the rows they index.
		"customer_slugs": "billing-data", "login_index": "data-space", "api_key_hashes": "data-space",
		"consent_state": "evidence", "grant_index": "evidence",
	}
	// Tables without personal data of customers or data subjects, or WvSoft's own registers
	// that the protocol keeps while WvSoft exists.
	exempt := map[string]string{
		"goose_db_version": "migrations", "purge_runs": "counts only", "inquiry_counts": "counts only",
		"processors": "companies, not persons", "support_notices": "a notice's text and its author's id",
		"rate_limits":   "a hash of an address, forgotten once the burst is available again",
		"staff_members": "WvSoft's staff register (P10): kept while employed; not yet purged",
		"breaches":      "WvSoft's breach register (article 33(5) asks to document every breach); not yet purged",
	}
	var tables []string
	rows, err := owner.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	for _, table := range tables {
		rule, ok := covered[table]
		switch {
		case ok && rules[rule] == "":
			t.Errorf("%s names the unknown rule %s", table, rule)
		case !ok && exempt[table] == "":
			t.Errorf("the table %s has no retention rule: add a purge step and name it here, or say why it needs none", table)
		}
	}
	if len(tables) < len(covered) {
		t.Fatalf("tables: %v", tables)
	}
}

// Consent events, the change history, data-subject requests and breach notifications are
// evidence: the application role deletes none of them, even reaching every customer; only the
// retention schedule's own function removes them, and a current customer's none.
func TestEvidenceIsDeletedOnlyByTheRetentionRule(t *testing.T) {
	db, app := openApp(t)
	ctx := context.Background()
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	tables := []string{"consent_events", "change_history", "data_subject_requests", "breach_customers", "breach_calls"}
	for _, table := range tables {
		tx, err := app.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SET LOCAL app.all_tenants = 'on'`); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(`DELETE FROM ` + table)
		tx.Rollback()
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("the application deleted from %s: %v", table, err)
		}
	}
	var tenant string
	var events int
	if err := owner.QueryRow(`SELECT tenant_id, count(*) FROM consent_events GROUP BY tenant_id ORDER BY count(*) DESC LIMIT 1`).Scan(&tenant, &events); err != nil {
		t.Fatal(err)
	}
	// The application names a date far ahead: a real run decides by the database's own date.
	if _, err := owner.Exec(`UPDATE customers SET relationship_end = current_date WHERE tenant_id = $1`, tenant); err != nil {
		t.Fatal(err)
	}
	run, err := app.Purge(ctx, wvsoft.DefaultRetention(), time.Now().AddDate(30, 0, 0), false)
	if err != nil || run.Counts["evidence.consent-events"] != 0 {
		t.Fatalf("evidence purged before the fiscal hold ended: %+v %v", run, err)
	}
	if _, err := owner.Exec(`UPDATE customers SET relationship_start = '2010-01-01', relationship_end = '2015-06-30' WHERE tenant_id = $1`, tenant); err != nil {
		t.Fatal(err)
	}
	run, err = app.Purge(ctx, wvsoft.DefaultRetention(), time.Now(), false)
	if err != nil || run.Counts["evidence.consent-events"] != events {
		t.Fatalf("purge after the hold: %+v %v (want %d consent events)", run, err, events)
	}
	var left int
	if err := owner.QueryRow(`SELECT count(*) FROM consent_events WHERE tenant_id = $1`, tenant).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d consent events left: %v", left, err)
	}
}
