package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/mailtest"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// End to end, as a customer's admin lives it: the director works under a grant, the
// admin revokes it and receives the log's checkpoint by e-mail (a real SMTP server), reads the
// latest checkpoint, proofs and the per-grant summary through the API, checks the proofs with
// tlog and the public key alone, and checks the whole log against the kept checkpoint with
// `wvsoft audit verify --checkpoint --key`.
func TestVerifiableAccessLogEndToEnd(t *testing.T) {
	smtpd := mailtest.Start(t)
	s := startServer(t, map[string]string{"SMTP_URL": smtpd.URL(), "OUTBOX_POLL_INTERVAL": "50ms"})
	director := s.token("director@wvsoft.example")
	admin := s.token("admin@bakkerij-de-vries.example")
	customerID := dig(s.query(admin, `{ me { customer { id } } }`, nil).Data, "me", "customer", "id").(string)
	vkeyRaw, err := os.ReadFile(filepath.Join(filepath.Dir(s.keyFile), "access-log-signing-key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	vkey := strings.TrimSpace(string(vkeyRaw))
	known, err := accesslog.Verifiers(vkey)
	if err != nil {
		t.Fatal(err)
	}

	r := s.query(director, `mutation($c: ID!) { requestSupportAccess(input: {customerId: $c, reason: "ticket #12",
		types: [Person], durationMinutes: 60}) { id } }`, map[string]any{"c": customerID})
	grantID := dig(r.Data, "requestSupportAccess", "id").(string)
	if r := s.query(admin, `mutation($id: ID!) { approveSupportAccess(input: {id: $id}) { status } }`, map[string]any{"id": grantID}); len(r.Errors) > 0 {
		t.Fatalf("approve: %+v", r)
	}
	read := `query($c: ID!) { node(id: $c) { ... on Customer { persons(first: 2) { edges { node { id name } } } } } }`
	var persons []string
	for range 3 { // polling: three requests for the same two persons
		r := s.query(director, read, map[string]any{"c": customerID})
		persons = nil
		for _, e := range dig(r.Data, "node", "persons", "edges").([]any) {
			persons = append(persons, dig(e, "node", "id").(string))
		}
	}
	checkpointQuery := `{ me { customer { accessLogCheckpoint { treeSize rootHash note signedAt } } } }`
	before := dig(s.query(admin, checkpointQuery, nil).Data, "me", "customer", "accessLogCheckpoint").(map[string]any)
	if before["treeSize"] != float64(5) {
		t.Fatalf("checkpoint after request, approval and three reads: %v", before)
	}
	if r := s.query(admin, `mutation($id: ID!) { revokeSupportAccess(id: $id) { status } }`, map[string]any{"id": grantID}); len(r.Errors) > 0 {
		t.Fatalf("revoke: %+v", r)
	}

	dir := t.TempDir()
	var kept string // the mailed checkpoint, as the admin saved it
	t.Run("the admins get the checkpoint by e-mail when the grant ends", func(t *testing.T) {
		waitFor(t, "the checkpoint e-mail", func() bool {
			for _, m := range smtpd.To("admin@bakkerij-de-vries.example") {
				if strings.Contains(m.Data, "checkpoint") {
					return true
				}
			}
			return false
		})
		var body string
		for _, m := range smtpd.To("admin@bakkerij-de-vries.example") {
			if strings.Contains(m.Data, "checkpoint") {
				_, raw, _ := strings.Cut(m.Data, "\r\n\r\n")
				b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(raw)))
				if err != nil {
					t.Fatal(err)
				}
				body = strings.ReplaceAll(string(b), "\r\n", "\n")
			}
		}
		start := strings.Index(body, accesslog.OriginPrefix)
		end := strings.Index(body, "\nPublieke sleutel")
		if start < 0 || end < start {
			t.Fatalf("no checkpoint in the e-mail:\n%s", body)
		}
		mailed := strings.TrimRight(body[start:end], "\n") + "\n"
		cp, err := accesslog.Open([]byte(mailed), known)
		if err != nil || cp.Size != 6 {
			t.Fatalf("the mailed checkpoint: %+v, %v\n%s", cp, err, body)
		}
		if !strings.Contains(body, vkey) {
			t.Fatalf("the e-mail does not name the public key:\n%s", body)
		}
		if len(smtpd.To("member@bakkerij-de-vries.example")) != 0 {
			t.Fatal("a member got the checkpoint")
		}

		// The admin keeps it and checks the log against it, with the public key alone.
		kept = filepath.Join(dir, "checkpoint.txt")
		if err := os.WriteFile(kept, []byte(strings.ReplaceAll(mailed, "\n", "\r\n")), 0o600); err != nil {
			t.Fatal(err) // saved from a mail program: CRLF line ends
		}
		var out strings.Builder
		env := map[string]string{"DATABASE_URL": s.db.OwnerURL}
		err = run(context.Background(), []string{"wvsoft", "audit", "verify", "--checkpoint", kept, "--key", vkey},
			func(k string) string { return env[k] }, &out, io.Discard)
		if err != nil || !strings.Contains(out.String(), "intact (6 entries, signed up to 6)") {
			t.Fatalf("audit verify: %v\n%s", err, out.String())
		}
	})

	t.Run("the latest checkpoint, an inclusion proof and a consistency proof check with tlog", func(t *testing.T) {
		latest := dig(s.query(admin, checkpointQuery, nil).Data, "me", "customer", "accessLogCheckpoint").(map[string]any)
		cp, err := accesslog.Open([]byte(latest["note"].(string)), known)
		if err != nil || cp.Size != 6 || latest["treeSize"] != float64(6) || base64.StdEncoding.EncodeToString(cp.Root[:]) != latest["rootHash"] {
			t.Fatalf("latest checkpoint %v: %v", latest, err)
		}
		r := s.query(admin, `{ me { customer { accessLogInclusionProof(seq: 3) { seq treeSize record leafHash hashes checkpoint { treeSize } } } } }`, nil)
		p := dig(r.Data, "me", "customer", "accessLogInclusionProof").(map[string]any)
		record := []byte(p["record"].(string))
		leaf := tlog.RecordHash(record)
		if base64.StdEncoding.EncodeToString(leaf[:]) != p["leafHash"] || p["treeSize"] != float64(6) {
			t.Fatalf("inclusion proof: %v", p)
		}
		rec, err := accesslog.ParseRecord(record)
		if err != nil || rec.Seq != 3 || rec.Event != "ACCESS" || !strings.Contains(string(rec.Detail), "Person.name") {
			t.Fatalf("record %s: %v", record, err)
		}
		if err := tlog.CheckRecord(hashesOf(t, p["hashes"]), 6, cp.Root, 2, leaf); err != nil {
			t.Fatalf("the inclusion proof does not check: %v", err)
		}
		old, err := accesslog.Open([]byte(before["note"].(string)), known)
		if err != nil {
			t.Fatal(err)
		}
		r = s.query(admin, `query($from: Int!) { me { customer { accessLogConsistencyProof(from: $from) { from to hashes
			fromCheckpoint { treeSize } toCheckpoint { treeSize } } } } }`, map[string]any{"from": old.Size})
		c := dig(r.Data, "me", "customer", "accessLogConsistencyProof").(map[string]any)
		if err := tlog.CheckTree(hashesOf(t, c["hashes"]), 6, cp.Root, old.Size, old.Root); err != nil {
			t.Fatalf("the consistency proof does not check: %v (%v)", err, c)
		}
		if dig(c, "fromCheckpoint", "treeSize") != float64(5) || dig(c, "toCheckpoint", "treeSize") != float64(6) {
			t.Fatalf("consistency proof checkpoints: %v", c)
		}
	})

	t.Run("bad sizes name the argument", func(t *testing.T) {
		for q, field := range map[string]string{
			`{ me { customer { accessLogInclusionProof(seq: 0) { seq } } } }`:               "seq",
			`{ me { customer { accessLogInclusionProof(seq: 2, treeSize: 99) { seq } } } }`: "treeSize",
			`{ me { customer { accessLogConsistencyProof(from: 7) { to } } } }`:             "from",
			`{ me { customer { accessLogConsistencyProof(from: 1, to: 0) { to } } } }`:      "to",
			`{ me { customer { accessLogSummary(grantId: "nope") { requests } } } }`:        "grantId",
		} {
			r := s.query(admin, q, nil)
			if len(r.Errors) != 1 || r.codes()[0] != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
				t.Fatalf("%s: %+v", q, r.Errors)
			}
		}
	})

	t.Run("the summary per grant", func(t *testing.T) {
		r := s.query(admin, `{ me { customer { accessLogSummary { grant { id status } requests writes records fields firstAt lastAt } } } }`, nil)
		list, _ := dig(r.Data, "me", "customer", "accessLogSummary").([]any)
		if len(list) != 1 || len(r.Errors) > 0 {
			t.Fatalf("summary: %+v", r)
		}
		sum := list[0]
		if dig(sum, "grant", "id") != grantID || dig(sum, "grant", "status") != "REVOKED" || dig(sum, "requests") != float64(3) ||
			dig(sum, "writes") != float64(0) || dig(sum, "firstAt") == nil || dig(sum, "lastAt") == nil {
			t.Fatalf("summary: %v", sum)
		}
		if recs := toStrings(dig(sum, "records")); strings.Join(recs, ",") != strings.Join(slices.Sorted(slices.Values(persons)), ",") {
			t.Fatalf("records %v, want %v", recs, persons)
		}
		if fields := toStrings(dig(sum, "fields")); !strings.Contains(strings.Join(fields, ","), "Person.name") {
			t.Fatalf("fields %v", fields)
		}
	})

	t.Run("members and the director read none of it", func(t *testing.T) {
		member := s.token("member@bakkerij-de-vries.example")
		q := `{ me { customer { accessLogCheckpoint { note } } } }`
		if r := s.query(member, q, nil); len(r.Errors) != 1 || r.codes()[0] != "FORBIDDEN" {
			t.Fatalf("member: %+v", r)
		}
		r := s.query(director, `query($c: ID!) { node(id: $c) { ... on Customer { accessLogCheckpoint { note } accessLogSummary { requests } } } }`,
			map[string]any{"c": customerID})
		if dig(r.Data, "node", "accessLogCheckpoint") != nil || dig(r.Data, "node", "accessLogSummary") != nil {
			t.Fatalf("director: %+v", r)
		}
	})

	t.Run("the admin checks the whole log through the API, trusting only the key", func(t *testing.T) {
		if kept == "" {
			t.Skip("no kept checkpoint")
		}
		verify := func() (string, error) {
			var out strings.Builder
			err := run(context.Background(), []string{"wvsoft", "audit", "verify", "--checkpoint", kept, "--key", vkey,
				"--api", s.url + "/graphql", "--token", admin}, func(string) string { return "" }, &out, io.Discard)
			return out.String(), err
		}
		if out, err := verify(); err != nil || !strings.Contains(out, "intact (6 entries, signed up to 6)") {
			t.Fatalf("through the API: %v\n%s", err, out)
		}
		owner, err := sql.Open("postgres", s.db.TamperURL())
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close()
		// The owner appends an entry, record and tree made as the server makes them, but cannot
		// sign it: the API serves every entry's own checkpoint, so the check names the entry.
		tenant, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindCustomer, customerID)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := owner.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SET LOCAL app.tenants = '{` + tenant.String() + `}'`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SELECT access_log_append($1, gen_random_uuid(), now(), 'ACCESS', 'SYSTEM', NULL, NULL, '{}')`, tenant); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if out, err := verify(); err == nil || !strings.Contains(out, "BROKEN at entry 7") || !strings.Contains(out, "no signed checkpoint of its own") {
			t.Fatalf("the API path missed an appended entry: %v\n%s", err, out)
		}
		if r := s.query(admin, `{ me { customer { accessLogSignedFrom accessLog(first: 10) { edges { node { seq checkpoint { treeSize } } } } } } }`, nil); len(r.Errors) > 0 ||
			dig(r.Data, "me", "customer", "accessLogSignedFrom") != float64(1) {
			t.Fatalf("entries and their checkpoints: %+v", r)
		} else {
			edges := dig(r.Data, "me", "customer", "accessLog", "edges").([]any)
			if len(edges) != 7 || dig(edges[0], "node", "checkpoint", "treeSize") != float64(1) || dig(edges[6], "node", "checkpoint") != nil {
				t.Fatalf("entries and their checkpoints: %v", edges)
			}
		}
		// The entry goes again; the tree is rebuilt below.
		if _, err := owner.Exec(`ALTER TABLE access_log DISABLE TRIGGER USER`); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(`DELETE FROM access_log WHERE tenant_id = $1 AND seq = 7`, tenant); err != nil {
			t.Fatal(err)
		}
		// The owner turns the first access into a read of someone else, with the tree recomputed:
		// the server serves the changed record, the kept checkpoint catches it.
		retree, err := owner.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{tamperHelpers,
			`ALTER TABLE access_log DISABLE TRIGGER USER`, `ALTER TABLE access_log_tree DISABLE TRIGGER USER`,
			`UPDATE access_log SET record = replace(record, '"seq": 3', '"seq": 3 ') WHERE seq = 3`,
			`DELETE FROM access_log_tree`,
			`SELECT pg_temp.wv_refill_tree(NULL)`,
		} {
			if _, err := retree.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := retree.Commit(); err != nil {
			t.Fatal(err)
		}
		// With the newest checkpoint only, the check knows that, not where (the database's
		// check, with a checkpoint per entry, names entry 3).
		if out, err := verify(); err == nil || !strings.Contains(out, "not those your checkpoint vouches for") {
			t.Fatalf("the API path missed a changed entry: %v\n%s", err, out)
		}
	})
}

func hashesOf(t *testing.T, v any) []tlog.Hash {
	t.Helper()
	var out []tlog.Hash
	for _, s := range toStrings(v) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			t.Fatalf("hash %q", s)
		}
		out = append(out, tlog.Hash(b))
	}
	return out
}
