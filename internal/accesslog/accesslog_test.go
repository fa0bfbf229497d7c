package accesslog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func testKeys(t testing.TB) (*Keys, string) {
	t.Helper()
	skey, vkey, err := GenerateKey("wvsoft-access-log-test")
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeys(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k, vkey
}

// The verifier key derived from the signing key is the one GenerateKey printed, so that
// configuration needs only the signing key.
func TestVerifierKeyIsDerived(t *testing.T) {
	k, vkey := testKeys(t)
	if k.VerifierKey != vkey {
		t.Fatalf("derived %q, generated %q", k.VerifierKey, vkey)
	}
	if _, err := NewKeys("PRIVATE+KEY+x+00000000+AAAA"); err == nil {
		t.Fatal("a malformed key was taken")
	}
}

// A checkpoint is the C2SP text: origin, size, base64 root, each on a line; signed, it opens
// only with the right key and only unchanged.
func TestCheckpointFormat(t *testing.T) {
	k, vkey := testKeys(t)
	tenant := uuid.MustParse("0190a000-0000-7000-8000-000000000001")
	tree := &Tree{}
	for i := range 3 {
		if err := tree.Add([]byte(fmt.Sprintf("record %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := tree.Root(3)
	cp, err := k.Sign(Origin(tenant), 3, root)
	if err != nil {
		t.Fatal(err)
	}
	body, _, _ := strings.Cut(cp.Note, "\n\n")
	if want := strings.TrimSuffix(Body(Origin(tenant), 3, root), "\n"); body != want ||
		!strings.HasPrefix(body, "wvsoft.nl/access-log/0190a000-0000-7000-8000-000000000001\n3\n") {
		t.Fatalf("body %q", body)
	}
	known, _ := Verifiers(vkey)
	got, err := Open([]byte(cp.Note), known)
	if err != nil || got.Size != 3 || got.Root != root {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := Open([]byte(strings.Replace(cp.Note, "\n3\n", "\n4\n", 1)), known); err == nil {
		t.Fatal("a changed checkpoint opened")
	}
	_, other := testKeys(t)
	otherKnown, _ := Verifiers(other)
	if _, err := Open([]byte(cp.Note), otherKnown); err == nil {
		t.Fatal("a checkpoint opened with another key")
	}
	if id, err := TenantOf(got.Origin); err != nil || id != tenant {
		t.Fatalf("tenant %v %v", id, err)
	}
}

// signedLog is a log of n entries as the server writes it: a record and a checkpoint each.
func signedLog(t testing.TB, k *Keys, n int) Log {
	tenant := uuid.MustParse("0190a000-0000-7000-8000-000000000001")
	l := Log{Tenant: tenant}
	tree := &Tree{}
	for i := 1; i <= n; i++ {
		rec := fmt.Sprintf(`{"v": 1, "at": "2026-11-27T16:48:37.637460Z", "id": "%s", "seq": %d, "event": "ACCESS", "detail": {"fields": ["Person.name"], "records": ["Person:%d"]}, "tenant": "%s", "actor_id": null, "grant_id": null, "actor_kind": "STAFF"}`,
			uuid.New(), i, i, tenant)
		l.Entries = append(l.Entries, Entry{Seq: int64(i), Record: []byte(rec)})
		if err := tree.Add([]byte(rec)); err != nil {
			t.Fatal(err)
		}
		root, _ := tree.Root(int64(i))
		cp, err := k.Sign(Origin(tenant), int64(i), root)
		if err != nil {
			t.Fatal(err)
		}
		l.Checkpoints = append(l.Checkpoints, cp.Note)
	}
	return l
}

func TestVerifyFindsTheChangedEntry(t *testing.T) {
	k, vkey := testKeys(t)
	known, _ := Verifiers(vkey)
	l := signedLog(t, k, 20)
	kept := []byte(l.Checkpoints[9])
	if rep := Verify(l, known, kept); !rep.Intact() || rep.Covered != 20 {
		t.Fatalf("%+v", rep)
	}
	l.Entries[6].Record = []byte(strings.Replace(string(l.Entries[6].Record), "Person.name", "Person.bsn", 1))
	rep := Verify(l, known, kept)
	if rep.Intact() || rep.First().Seq != 7 {
		t.Fatalf("%+v", rep)
	}
	if rep := Verify(l, note.VerifierList(), nil); rep.Intact() {
		t.Fatal("checkpoints of an unknown key passed")
	}
}

// What a customer's full check costs per entry (one checkpoint each): BenchmarkVerify/10000.
func BenchmarkVerify(b *testing.B) {
	k, vkey := testKeys(b)
	known, _ := Verifiers(vkey)
	l := signedLog(b, k, 10000)
	b.ResetTimer()
	for range b.N {
		if rep := Verify(l, known, nil); !rep.Intact() {
			b.Fatal(rep.First())
		}
	}
}

// Same compares the detail as JSON values: spacing and key order do not matter, every list
// element and the difference between an empty list, null and another type do.
func TestSameComparesDetailAsValues(t *testing.T) {
	base := Record{V: 1, Seq: 3, Event: "ACCESS", ActorKind: "STAFF", At: "2026-11-27T10:00:00.000000Z"}
	asked := base
	asked.Detail = []byte(`{"records":["Person:1","Person:2"],"fields":["Person.name"]}`)
	cases := []struct {
		stored string
		same   bool
	}{
		{`{"fields": ["Person.name"], "records": ["Person:1", "Person:2"]}`, true},
		{`{"fields": ["Person.name"], "records": ["Person:1"]}`, false},
		{`{"fields": ["Person.name"], "records": ["Person:2", "Person:1"]}`, false},
		{`{"fields": ["Person.name"], "records": ["Person:1", "Person:2"], "extra": []}`, false},
		{`{"fields": ["Person.name"], "records": null}`, false},
		{`{"fields": "Person.name", "records": ["Person:1", "Person:2"]}`, false},
		{`{"fields": ["Person.name"], "records": ["Person:1", "Person:2"], "reason": "x"}`, false},
		{`not json`, false},
	}
	for _, c := range cases {
		stored := base
		stored.Detail = []byte(c.stored)
		if got := stored.Same(&asked); got != c.same {
			t.Errorf("Same(%s) = %v, want %v", c.stored, got, c.same)
		}
	}
	// Details that are not lists of names compare as JSON values too.
	reason := base
	reason.Detail = []byte(`{"reason":"ticket 42","n":1}`)
	stored := base
	stored.Detail = []byte(`{"n": 1, "reason": "ticket 42"}`)
	if !stored.Same(&reason) {
		t.Error("a detail with a string and a number is not the same after reordering")
	}
	stored.Detail = []byte(`{"n": 2, "reason": "ticket 42"}`)
	if stored.Same(&reason) {
		t.Error("a changed number is the same")
	}
}

// Keys.Open knows the newest checkpoint it signed for a log by its text; every other note, also
// one of the same log and size with another root or another key's signature, is verified.
func TestKeysKnowTheirNewestCheckpoint(t *testing.T) {
	skey, _, err := GenerateKey("wvsoft-test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewKeys(skey)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _, _ := GenerateKey("wvsoft-test")
	other, _ := NewKeys(otherKey)
	origin := Origin(uuid.New())
	older, _ := keys.Sign(origin, 4, tlog.Hash{4})
	newest, _ := keys.Sign(origin, 5, tlog.Hash{5})
	for name, c := range map[string]struct {
		note string
		ok   bool
	}{
		"the newest":             {newest.Note, true},
		"an older one":           {older.Note, true},
		"another key's":          {must(other.Sign(origin, 5, tlog.Hash{5})).Note, false},
		"the newest, root moved": {strings.Replace(newest.Note, Body(origin, 5, tlog.Hash{5}), Body(origin, 5, tlog.Hash{6}), 1), false},
	} {
		cp, err := keys.Open(c.note)
		if (err == nil) != c.ok {
			t.Fatalf("%s: %v", name, err)
		}
		if c.ok && (cp.Origin != origin || cp.Note != c.note) {
			t.Fatalf("%s: %+v", name, cp)
		}
	}
}

func must(cp *Checkpoint, err error) *Checkpoint {
	if err != nil {
		panic(err)
	}
	return cp
}
