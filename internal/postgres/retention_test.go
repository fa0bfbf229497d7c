package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Issue 16: the access log and the grants of a former customer go once its fiscal hold has
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
	// Still append-only for the application.
	if _, err := app.SQL().Exec(`SELECT set_config('app.retention_purge', 'on', false); DELETE FROM access_log`); err == nil {
		t.Fatal("the application deleted from the access log")
	}
}
