// Package accesslog is the format of the verifiable access log: the canonical record
// of an entry, the Merkle tree over the records (RFC 6962, as golang.org/x/mod/sumdb/tlog hashes
// it), the checkpoints (C2SP tlog-checkpoint text in a C2SP signed note, Ed25519) and the check
// of a customer's log against them. It knows no database: the store signs with it, and
// `wvsoft audit verify` checks with it what it reads, so that the check trusts nothing but the
// records, the public key and the checkpoint the customer kept. README.md, "The verifiable
// access log", describes the same algorithm for a third party's verifier.
package accesslog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// OriginPrefix starts the origin line of every checkpoint; the customer's tenant id follows, so
// that a checkpoint of one customer's log never passes for another's.
const OriginPrefix = "wvsoft.nl/access-log/"

// Origin is the origin line of a customer's checkpoints.
func Origin(tenant uuid.UUID) string { return OriginPrefix + tenant.String() }

// TenantOf reads the customer out of an origin line.
func TenantOf(origin string) (uuid.UUID, error) {
	rest, ok := strings.CutPrefix(origin, OriginPrefix)
	if !ok {
		return uuid.Nil, fmt.Errorf("origin %q is not a WvSoft access log", origin)
	}
	return uuid.Parse(rest)
}

// Record is an entry as its canonical record says. The record is the text PostgreSQL's jsonb
// gives for the object the append function builds; its bytes, not this struct, are hashed.
type Record struct {
	V         int             `json:"v"`
	Tenant    uuid.UUID       `json:"tenant"`
	Seq       int64           `json:"seq"`
	ID        uuid.UUID       `json:"id"`
	At        string          `json:"at"` // UTC, microseconds: 2026-11-27T16:48:37.637460Z
	Event     string          `json:"event"`
	ActorKind string          `json:"actor_kind"`
	ActorID   *uuid.UUID      `json:"actor_id"`
	GrantID   *uuid.UUID      `json:"grant_id"`
	Detail    json.RawMessage `json:"detail"`
}

// TimeFormat is how a record writes its time.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// ParseRecord reads a canonical record.
func ParseRecord(b []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not an access-log record: %w", err)
	}
	if r.V != 1 {
		return nil, fmt.Errorf("record version %d is unknown", r.V)
	}
	return &r, nil
}

// Same reports whether two records describe the same entry; detail is compared as JSON values,
// since the database's text of it and Go's differ in spacing and key order.
func (r *Record) Same(o *Record) bool {
	if r.Tenant != o.Tenant || r.Seq != o.Seq || r.ID != o.ID || r.At != o.At || r.Event != o.Event ||
		r.ActorKind != o.ActorKind || !sameID(r.ActorID, o.ActorID) || !sameID(r.GrantID, o.GrantID) {
		return false
	}
	// Most details are lists of names (an access's records and fields: up to thousands of
	// strings). Decoded as such they compare without building a map of interfaces per value.
	var la, lb map[string][]string
	if json.Unmarshal(r.Detail, &la) == nil && json.Unmarshal(o.Detail, &lb) == nil {
		return maps.EqualFunc(la, lb, func(x, y []string) bool { return (x == nil) == (y == nil) && slices.Equal(x, y) })
	}
	var a, b any
	if json.Unmarshal(r.Detail, &a) != nil || json.Unmarshal(o.Detail, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// Text is the record as the database writes it (access_log_record: jsonb's text of the object,
// keys ordered by length and then by bytes, ": " and ", " between), given its detail as
// DetailText wrote it; ok is false when a value would need escaping. Equal texts are the same
// record: the append compares the database's text with this byte for byte, instead of decoding
// both (~64 KB for an access to a page of 1,000 records).
func (r *Record) Text(detail string) (text string, ok bool) {
	if detail == "" || !plain(r.At) || !plain(r.Event) || !plain(r.ActorKind) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(detail) + 300)
	b.WriteString(`{"v": `)
	b.WriteString(strconv.Itoa(r.V))
	b.WriteString(`, "at": "` + r.At + `", "id": "` + r.ID.String() + `", "seq": `)
	b.WriteString(strconv.FormatInt(r.Seq, 10))
	b.WriteString(`, "event": "` + r.Event + `", "detail": `)
	b.WriteString(detail)
	b.WriteString(`, "tenant": "` + r.Tenant.String() + `", "actor_id": `)
	writeID(&b, r.ActorID)
	b.WriteString(`, "grant_id": `)
	writeID(&b, r.GrantID)
	b.WriteString(`, "actor_kind": "` + r.ActorKind + `"}`)
	return b.String(), true
}

// DetailText is a detail of lists of plain names (printable ASCII without quotes or
// backslashes; an access's records and fields) as JSON in jsonb's canonical text: keys by
// length, then by bytes; a nil list is null. It is valid JSON, so the append sends it as the
// detail too. ok is false for a name that is not plain.
func DetailText(detail map[string][]string) (text string, ok bool) {
	keys := slices.Collect(maps.Keys(detail))
	slices.SortFunc(keys, func(x, y string) int {
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		return strings.Compare(x, y)
	})
	n := 2
	for _, k := range keys {
		n += len(k) + 8
		for _, v := range detail[k] {
			n += len(v) + 4
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	for i, k := range keys {
		if !plain(k) {
			return "", false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + k + `": `)
		list := detail[k]
		if list == nil {
			b.WriteString("null")
			continue
		}
		b.WriteByte('[')
		for j, v := range list {
			if !plain(v) {
				return "", false
			}
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('"')
			b.WriteString(v)
			b.WriteByte('"')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String(), true
}

func writeID(b *strings.Builder, id *uuid.UUID) {
	if id == nil {
		b.WriteString("null")
		return
	}
	b.WriteString(`"` + id.String() + `"`)
}

// plain: printable ASCII that JSON and jsonb write as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func sameID(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// LeafHash is the tree's leaf for a record: sha256(0x00 || record).
func LeafHash(record []byte) tlog.Hash { return tlog.RecordHash(record) }

// Tree is a whole tree in memory, built record by record; a verifier builds it from the records
// alone, never from hashes a server hands it.
type Tree struct {
	hashes []tlog.Hash // tlog's stored hashes, by tlog.StoredHashIndex
	n      int64
}

// Add appends a record.
func (t *Tree) Add(record []byte) error {
	hs, err := tlog.StoredHashes(t.n, record, t)
	if err != nil {
		return err
	}
	t.hashes = append(t.hashes, hs...)
	t.n++
	return nil
}

// Size is the number of records.
func (t *Tree) Size() int64 { return t.n }

// Root is the root hash of the first n records.
func (t *Tree) Root(n int64) (tlog.Hash, error) {
	if n > t.n {
		return tlog.Hash{}, fmt.Errorf("the tree has %d records, not %d", t.n, n)
	}
	return tlog.TreeHash(n, t)
}

// ReadHashes serves tlog from memory.
func (t *Tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("hash %d is not stored", x)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}

// Checkpoint is a signed tree head: the C2SP tlog-checkpoint body
//
//	<origin>\n<size>\n<base64 root hash>\n
//
// in a C2SP signed note (the body, an empty line, and a line "— <key name> <base64 signature>"
// per signature).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Note is the whole signed note, as the customer keeps it.
	Note string
}

// Body formats a checkpoint's signed text.
func Body(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// ParseBody reads a checkpoint's text. Extension lines after the root are allowed by the format
// and ignored.
func ParseBody(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return "", 0, root, errors.New("a checkpoint has an origin, a size and a root hash, each on its own line")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, errors.New("the checkpoint's size is not a number")
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return "", 0, root, errors.New("the checkpoint's root is not a base64 SHA-256 hash")
	}
	copy(root[:], raw)
	return lines[0], size, root, nil
}

// Open checks a signed checkpoint against the known verifier keys and reads it.
func Open(signed []byte, known note.Verifiers) (*Checkpoint, error) {
	n, err := note.Open(signed, known)
	if err != nil {
		return nil, fmt.Errorf("the checkpoint's signature does not verify: %w", err)
	}
	origin, size, root, err := ParseBody(n.Text)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Origin: origin, Size: size, Root: root, Note: string(signed)}, nil
}

// Unverified reads a checkpoint without checking its signature: for showing, never for trusting.
func Unverified(signed string) (*Checkpoint, error) {
	text, _, ok := strings.Cut(signed, "\n\n")
	if !ok {
		return nil, errors.New("not a signed note")
	}
	origin, size, root, err := ParseBody(text + "\n")
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Origin: origin, Size: size, Root: root, Note: signed}, nil
}

// Verifiers parses verifier (public) keys, such as "wvsoft-access-log+1a2b3c4d+AdEx…".
func Verifiers(vkeys ...string) (note.Verifiers, error) {
	var list []note.Verifier
	for _, k := range vkeys {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %w", k, err)
		}
		list = append(list, v)
	}
	if len(list) == 0 {
		return nil, errors.New("no verifier key")
	}
	return note.VerifierList(list...), nil
}

// GenerateKey makes a signing key (ACCESS_LOG_SIGNING_KEY) and its verifier key, named name.
func GenerateKey(name string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, name)
}

// VerifierKey derives the verifier key from a signing key, so that configuration holds one
// key, not a pair that could disagree.
func VerifierKey(skey string) (string, error) {
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("ACCESS_LOG_SIGNING_KEY is not a signer key (PRIVATE+KEY+name+hash+key): %w", err)
	}
	parts := strings.SplitN(skey, "+", 5)               // the base64 key may hold "+" itself
	raw, _ := base64.StdEncoding.DecodeString(parts[4]) // NewSigner checked it
	priv := ed25519.NewKeyFromSeed(raw[1:])
	return note.NewEd25519VerifierKey(parts[2], priv.Public().(ed25519.PublicKey))
}

// Keys signs a server's checkpoints and recognises its own, including those signed with the
// keys it had before a rotation.
type Keys struct {
	signer    note.Signer
	verifiers note.Verifiers
	// signed is the newest checkpoint this server signed for each log (by origin): the next
	// append finds it as its log's newest and knows it by its text without verifying it again.
	signedMu sync.Mutex
	signed   map[string]*Checkpoint
	// VerifierKey is the public key of the current signing key, to give to customers.
	VerifierKey string
}

// NewKeys takes ACCESS_LOG_SIGNING_KEY and the verifier keys of other signing keys whose
// checkpoints this server accepts: earlier ones, or the next one during a rotation.
func NewKeys(skey string, otherVerifierKeys ...string) (*Keys, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ACCESS_LOG_SIGNING_KEY is not a signer key (PRIVATE+KEY+name+hash+key): %w", err)
	}
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	vs, err := Verifiers(append([]string{vkey}, otherVerifierKeys...)...)
	if err != nil {
		return nil, err
	}
	return &Keys{signer: s, verifiers: vs, VerifierKey: vkey}, nil
}

// Sign makes a checkpoint of a customer's tree.
func (k *Keys) Sign(origin string, size int64, root tlog.Hash) (*Checkpoint, error) {
	signed, err := note.Sign(&note.Note{Text: Body(origin, size, root)}, k.signer)
	if err != nil {
		return nil, err
	}
	cp := &Checkpoint{Origin: origin, Size: size, Root: root, Note: string(signed)}
	k.signedMu.Lock()
	if k.signed == nil {
		k.signed = map[string]*Checkpoint{}
	}
	k.signed[origin] = cp
	k.signedMu.Unlock()
	c := *cp
	return &c, nil
}

// Open reads a checkpoint of this server's keys: the newest one it signed for the log is known
// by its text, byte for byte; any other has its signature verified (Open).
func (k *Keys) Open(signed string) (*Checkpoint, error) {
	origin, _, _ := strings.Cut(signed, "\n")
	k.signedMu.Lock()
	own := k.signed[origin]
	k.signedMu.Unlock()
	if own != nil && own.Note == signed {
		c := *own
		return &c, nil
	}
	return Open([]byte(signed), k.verifiers)
}

// Verifiers are the keys this server's checkpoints verify with.
func (k *Keys) Verifiers() note.Verifiers { return k.verifiers }

// DevKeyName names the development signing key that `make run` creates.
const DevKeyName = "wvsoft-access-log-dev"

// LoadOrCreateKeyFile reads a signing key kept in a file, creating it (mode 0600) on first use,
// with its verifier key beside it in path+".pub", for development: production sets
// ACCESS_LOG_SIGNING_KEY and keeps the key out of the database's reach.
func LoadOrCreateKeyFile(path string) (string, error) {
	if raw, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(raw)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	skey, vkey, err := GenerateKey(DevKeyName)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKeyFile(path) // another process created it first
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteString(skey + "\n"); err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return "", err
	}
	return skey, f.Close()
}
