package wvsoft

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var typeName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// The global-id decoder takes any string from a client: it never panics, refuses with one
// BAD_USER_INPUT message that does not echo the input, and what it accepts encodes back to an id that
// decodes to the same kind and UUID.
func FuzzParseGlobalID(f *testing.F) {
	for _, seed := range []string{
		GlobalID(KindPerson, uuid.MustParse("01900000-0000-7000-8000-000000000000")),
		GlobalID(KindCustomer, uuid.Nil),
		"", "=", "Q3VzdG9tZXI6", "UGVyc29uOg", ":", "not base64 at all", "UGVyc29uOjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA==",
		strings.Repeat("A", 200), "8J-YgDox", "OjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, gid string) {
		kind, id, err := ParseGlobalID("id", gid)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || we.Code != EINVALID || we.Field != "id" {
				t.Fatalf("%q: error %#v is not BAD_USER_INPUT on id", gid, err)
			}
			if we.Message != "not a valid id" {
				t.Fatalf("%q: the message is %q", gid, we.Message)
			}
			if kind != "" || id != uuid.Nil {
				t.Fatalf("%q: refused, yet kind %q id %s", gid, kind, id)
			}
			return
		}
		if !typeName.MatchString(kind) {
			t.Fatalf("%q: kind %q is not a type name", gid, kind)
		}
		k2, id2, err := ParseGlobalID("id", GlobalID(kind, id))
		if err != nil || k2 != kind || id2 != id {
			t.Fatalf("%q: %s %s does not survive encoding: %s %s %v", gid, kind, id, k2, id2, err)
		}
		if _, err := ParseGlobalIDOf("id", kind, gid); err != nil {
			t.Fatalf("%q: ParseGlobalIDOf(%s) refused what ParseGlobalID took: %v", gid, kind, err)
		}
	})
}

// GlobalID writes what its plain form, base64(kind + ":" + uuid), writes, for every kind and for
// a kind longer than its stack buffer.
func TestGlobalIDIsBase64OfKindAndUUID(t *testing.T) {
	kinds := []string{KindCustomer, KindContactPerson, KindUser, KindAPIKey, KindPerson, "", strings.Repeat("K", 33)}
	ids := []uuid.UUID{uuid.Nil, uuid.Max, uuid.MustParse("01900000-0000-7000-8000-00000000abcd")}
	for range 50 {
		ids = append(ids, uuid.New())
	}
	for _, kind := range kinds {
		for _, id := range ids {
			want := base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + id.String()))
			if got := GlobalID(kind, id); got != want {
				t.Fatalf("GlobalID(%q, %s) = %q, want %q", kind, id, got, want)
			}
			if k, parsed, err := ParseGlobalID("id", GlobalID(kind, id)); kind == KindPerson && (err != nil || k != kind || parsed != id) {
				t.Fatalf("ParseGlobalID(GlobalID(%q, %s)) = %q, %s, %v", kind, id, k, parsed, err)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { GlobalID(KindPerson, ids[3]) }); n != 1 {
		t.Fatalf("GlobalID makes %v allocations, want 1", n)
	}
}
