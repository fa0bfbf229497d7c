package wvsoft

import (
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// Kinds of objects that have a global ID; they are the GraphQL type names.
const (
	KindCustomer      = "Customer"
	KindContactPerson = "ContactPerson"
	KindUser          = "User"
	KindAPIKey        = "ApiKey"
	KindPerson        = "Person"
)

// GlobalID encodes an object's kind and UUID as the opaque ID clients see. The encoding is
// opaque on purpose: clients must not build IDs, only pass them back.
//
// It is made for every record's id field and for every record of the access log, so it is made
// in one allocation: "kind:uuid" and its base64 are written into arrays on the stack.
func GlobalID(kind string, id uuid.UUID) string {
	var raw [maxKindLen + 1 + 36]byte
	if len(kind) > maxKindLen {
		return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + id.String()))
	}
	n := copy(raw[:], kind)
	raw[n] = ':'
	n++
	encodeUUID(raw[n:n+36], id)
	n += 36
	var out [(maxKindLen + 1 + 36 + 2) / 3 * 4]byte
	m := base64.RawURLEncoding.EncodedLen(n)
	base64.RawURLEncoding.Encode(out[:m], raw[:n])
	return string(out[:m])
}

// encodeUUID writes id as uuid.UUID.String does (8-4-4-4-12 lowercase hex) into dst[:36].
func encodeUUID(dst []byte, id uuid.UUID) {
	hex.Encode(dst[0:8], id[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], id[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], id[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], id[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], id[10:16])
}

// maxKindLen is the longest kind GlobalID encodes without allocating more; the kinds are type
// names, far shorter.
const maxKindLen = 32

// ParseGlobalID decodes a global ID. field names the argument for the error. The kind is a
// GraphQL type name or the id is refused: it goes on to the policy and into log lines.
func ParseGlobalID(field, gid string) (kind string, id uuid.UUID, err error) {
	if len(gid) > 128 {
		return "", uuid.Nil, Invalid(field, "not a valid id")
	}
	raw, decErr := base64.RawURLEncoding.DecodeString(gid)
	if decErr != nil {
		return "", uuid.Nil, Invalid(field, "not a valid id")
	}
	kind, rest, ok := strings.Cut(string(raw), ":")
	if !ok || !isTypeName(kind) {
		return "", uuid.Nil, Invalid(field, "not a valid id")
	}
	id, perr := uuid.Parse(rest)
	if perr != nil {
		return "", uuid.Nil, Invalid(field, "not a valid id")
	}
	return kind, id, nil
}

// isTypeName reports whether s is a GraphQL name of at most 64 characters.
func isTypeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range []byte(s) {
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ParseGlobalIDOf decodes a global ID that must be of the given kind.
func ParseGlobalIDOf(field, want, gid string) (uuid.UUID, error) {
	kind, id, err := ParseGlobalID(field, gid)
	if err != nil {
		return uuid.Nil, err
	}
	if kind != want {
		return uuid.Nil, Invalid(field, "not the id of a %s", want)
	}
	return id, nil
}
