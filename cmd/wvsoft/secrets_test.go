package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// dumpTables is every row of every table of the database as text, read as the owner: what a
// database dump holds.
func dumpTables(t *testing.T, ownerURL string) string {
	t.Helper()
	owner, err := sql.Open("postgres", ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var tables []string
	rows, err := owner.Query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var dump strings.Builder
	for _, table := range tables {
		var text sql.NullString
		if err := owner.QueryRow(`SELECT string_agg(t::text, E'\n') FROM ` + table + ` t`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		dump.WriteString(text.String + "\n")
	}
	if !strings.Contains(dump.String(), "bakkerij-de-vries") {
		t.Fatalf("the dump misses the register:\n%.500s", dump.String())
	}
	return dump.String()
}

// allPersons reads every person's BSN and medical notes through the API, as a member.
func allPersons(t *testing.T, s *server, credential string) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	var after any
	for {
		r := s.query(credential, `query($after: String) { persons(first: 500, after: $after) {
			edges { node { id bsn medicalNotes } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
		if len(r.Errors) > 0 {
			t.Fatalf("%+v", r.Errors)
		}
		for _, e := range dig(r.Data, "persons", "edges").([]any) {
			bsn, _ := dig(e, "node", "bsn").(string)
			notes, _ := dig(e, "node", "medicalNotes").(string)
			out[dig(e, "node", "id").(string)] = [2]string{bsn, notes}
		}
		if dig(r.Data, "persons", "pageInfo", "hasNextPage") != true {
			return out
		}
		after = dig(r.Data, "persons", "pageInfo", "endCursor")
	}
}

// A database dump alone reveals no BSN, no medical note and no API key: BSNs and notes are
// encrypted (AES-GCM, the key from the environment), keys are kept as SHA-256 only.
func TestSecretsAtRest(t *testing.T) {
	s := startServer(t, nil)
	member := s.token("member@bakkerij-de-vries.example")
	admin := s.token("admin@bakkerij-de-vries.example")

	r := s.query(admin, `mutation { createApiKey(input: {name: "export", specialCategories: true}) { secret } }`, nil)
	secret, _ := dig(r.Data, "createApiKey", "secret").(string)
	if secret == "" {
		t.Fatalf("%+v", r)
	}
	r = s.query(member, `mutation { createPerson(input: {name: "Geheim Persoon", bsn: "111222333",
		medicalNotes: "GEHEIM-MEDISCH: hartritmestoornis"}) { id bsn medicalNotes } }`, nil)
	created, _ := dig(r.Data, "createPerson", "id").(string)
	if len(r.Errors) > 0 || dig(r.Data, "createPerson", "bsn") != "111222333" {
		t.Fatalf("create: %+v", r)
	}
	r = s.query(member, `mutation($id: ID!) { updatePerson(input: {id: $id, bsn: "123456782", medicalNotes: "GEHEIM-GEWIJZIGD: migraine"}) { bsn medicalNotes } }`,
		map[string]any{"id": created})
	if len(r.Errors) > 0 || dig(r.Data, "updatePerson", "medicalNotes") != "GEHEIM-GEWIJZIGD: migraine" {
		t.Fatalf("update: %+v", r)
	}

	persons := allPersons(t, s, member)
	for id, v := range allPersons(t, s, s.token("member@jansen-installatie.example")) {
		persons[id] = v
	}
	if got := persons[created]; got != [2]string{"123456782", "GEHEIM-GEWIJZIGD: migraine"} {
		t.Fatalf("the API reads back %v", got)
	}
	// The key reads too: it has the special categories.
	if r := s.query(secret, `{ persons(first: 1) { edges { node { bsn } } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("key: %+v", r)
	}

	dump := dumpTables(t, s.db.OwnerURL)
	values := 0
	for _, v := range persons {
		for _, secret := range v {
			if secret == "" {
				continue
			}
			values++
			if strings.Contains(dump, secret) {
				t.Fatalf("the dump holds %q", secret)
			}
		}
	}
	if values < 2*postgres.DemoPersonsPerCustomer {
		t.Fatalf("only %d values searched", values)
	}
	for _, old := range []string{"111222333", "GEHEIM-MEDISCH", "hartritmestoornis", secret, secret[len("wvs_"):]} {
		if strings.Contains(dump, old) {
			t.Fatalf("the dump holds %q", old)
		}
	}

	owner, err := sql.Open("postgres", s.db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var plain int
	if err := owner.QueryRow(`SELECT count(*) FROM persons WHERE bsn NOT LIKE 'v1:%' OR medical_notes NOT LIKE 'v1:%'`).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("%d rows hold an unencrypted BSN or note (%v)", plain, err)
	}
	sum := sha256.Sum256([]byte(secret))
	var stored []byte
	if err := owner.QueryRow(`SELECT secret_hash FROM api_keys WHERE name = 'export'`).Scan(&stored); err != nil || !bytes.Equal(stored, sum[:]) {
		t.Fatalf("api_keys.secret_hash is not the SHA-256 of the key (%v)", err)
	}
}

// `wvsoft rotate-keys` re-encrypts everything under the new key, while the old key still reads
// during the rotation; afterwards the old key is no longer needed, and alone it reads nothing.
func TestRotateKeys(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	oldKey := db.DataKey
	newKey, err := postgres.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	read := func(keys ...string) (map[uuid.UUID][2]string, error) {
		k, err := postgres.NewKeyring(keys[0], keys[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		store, err := postgres.Open(ctx, db.AppURL, time.Now, postgres.WithKeyring(k))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		out := map[uuid.UUID][2]string{}
		for _, slug := range postgres.DemoCustomers {
			tenant := postgres.SeedID("customer", slug)
			rows, _, err := store.Persons(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, tenant, wvsoft.Page{First: 1000})
			if err != nil {
				return nil, err
			}
			for _, p := range rows {
				var v [2]string
				if p.Bsn != nil {
					v[0] = *p.Bsn
				}
				if p.MedicalNotes != nil {
					v[1] = *p.MedicalNotes
				}
				out[p.UUID] = v
			}
		}
		return out, nil
	}
	before, err := read(oldKey)
	if err != nil || len(before) != 2*postgres.DemoPersonsPerCustomer {
		t.Fatalf("%d persons, %v", len(before), err)
	}
	if _, err := read(newKey); err == nil {
		t.Fatal("the new key read the old values before the rotation")
	}

	rotate := func() string {
		var out strings.Builder
		env := map[string]string{"DATABASE_URL": db.OwnerURL, "DATA_ENCRYPTION_KEY": newKey, "DATA_ENCRYPTION_OLD_KEYS": "  " + oldKey + " ,"}
		if err := run(ctx, []string{"wvsoft", "rotate-keys"}, envOf(env), &out, io.Discard); err != nil {
			t.Fatalf("rotate-keys: %v", err)
		}
		return out.String()
	}
	if out := rotate(); !strings.Contains(out, "400 persons read") {
		t.Fatalf("rotate-keys said %q", out)
	}
	if out := rotate(); !strings.Contains(out, " 0 values re-encrypted") {
		t.Fatalf("a second rotation re-encrypted again: %q", out)
	}

	after, err := read(newKey)
	if err != nil || len(after) != len(before) {
		t.Fatalf("the new key alone: %d persons, %v", len(after), err)
	}
	for id, v := range before {
		if after[id] != v {
			t.Fatalf("person %s: %v became %v", id, v, after[id])
		}
	}
	if _, err := read(oldKey); err == nil {
		t.Fatal("the old key still reads after the rotation")
	}
	newID := must(postgres.NewKeyring(newKey)).CurrentKeyID()
	owner, err := sql.Open("postgres", db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	var stale int
	if err := owner.QueryRow(`SELECT count(*) FROM persons WHERE bsn NOT LIKE $1 OR medical_notes NOT LIKE $1`, "v1:"+newID+":%").Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d persons not under the new key (%v)", stale, err)
	}

	// A server with only the new key serves the data space.
	s := startServerOn(t, db, t.TempDir()+"/key.pem", map[string]string{"DATA_ENCRYPTION_KEY": newKey})
	if got := allPersons(t, s, s.token("member@bakkerij-de-vries.example")); len(got) != postgres.DemoPersonsPerCustomer {
		t.Fatalf("%d persons through the API", len(got))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
