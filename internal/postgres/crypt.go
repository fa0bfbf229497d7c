package postgres

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// Columns the database keeps encrypted: a dump of the database alone reveals no BSN and no
// medical note. Validation happens before encryption, and no query searches or compares them.
const (
	colBSN          = "bsn"
	colMedicalNotes = "medical_notes"
)

// sealedPrefix starts every encrypted value: "v1:<key id>:<base64 of nonce and ciphertext>".
// The version names the format (AES-256-GCM, 12-byte random nonce, the column and row as
// associated data); the key id says which key of the keyring opens it, so keys can rotate.
const sealedPrefix = "v1:"

// Keyring holds the data encryption key that writes, and older keys that still read until
// `wvsoft rotate-keys` has re-encrypted everything under the current one.
type Keyring struct {
	current *dataKey
	byID    map[string]*dataKey
}

type dataKey struct {
	id   string
	aead cipher.AEAD
	raw  []byte
}

// NewKeyring reads the current key and any old keys, each the standard base64 of 32 random
// bytes (DATA_ENCRYPTION_KEY, DATA_ENCRYPTION_OLD_KEYS).
func NewKeyring(current string, old ...string) (*Keyring, error) {
	k := &Keyring{byID: map[string]*dataKey{}}
	cur, err := parseKey(current)
	if err != nil {
		return nil, fmt.Errorf("DATA_ENCRYPTION_KEY: %w", err)
	}
	k.current = cur
	k.byID[cur.id] = cur
	for i, o := range old {
		dk, err := parseKey(o)
		if err != nil {
			return nil, fmt.Errorf("DATA_ENCRYPTION_OLD_KEYS, key %d: %w", i+1, err)
		}
		if _, dup := k.byID[dk.id]; !dup {
			k.byID[dk.id] = dk
		}
	}
	return k, nil
}

func parseKey(encoded string) (*dataKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil || len(raw) != 32 {
		return nil, errors.New("not the base64 of 32 bytes (make one with: head -c 32 /dev/urandom | base64)")
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The id is a hash of the key: it names the key without revealing it, and the same key
	// always gets the same id.
	sum := sha256.Sum256(append([]byte("wvsoft data key id\x00"), raw...))
	return &dataKey{id: hex.EncodeToString(sum[:4]), aead: aead, raw: raw}, nil
}

// Secret is a key for purpose derived from the current data key (HMAC-SHA256), for what must
// be keyed with something the database does not hold, such as the rate limits' hashes of client
// addresses. Every server with the same DATA_ENCRYPTION_KEY derives the same secret.
func (k *Keyring) Secret(purpose string) []byte {
	mac := hmac.New(sha256.New, k.current.raw)
	mac.Write([]byte("wvsoft secret\x00" + purpose))
	return mac.Sum(nil)
}

// CurrentKeyID is the id of the key that new values are written with.
func (k *Keyring) CurrentKeyID() string { return k.current.id }

// GenerateKey returns a new random key in the form NewKeyring reads.
func GenerateKey() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// LoadOrCreateKeyFile reads a key from path, creating the file with a new key (mode 0600) when
// it does not exist. Development only: production sets DATA_ENCRYPTION_KEY.
func LoadOrCreateKeyFile(path string) (string, error) {
	if raw, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(raw)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key, err := GenerateKey()
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
	if _, err := f.WriteString(key + "\n"); err != nil {
		return "", err
	}
	return key, f.Close()
}

// errNoKeyring is what a store without a keyring says when it meets an encrypted column.
var errNoKeyring = errors.New("postgres: no data encryption key configured (postgres.WithKeyring)")

// associated binds a ciphertext to its column and row: a value copied into another row or
// column does not open.
func associated(column string, row uuid.UUID) []byte {
	return append([]byte("persons."+column+"\x00"), row[:]...)
}

// seal encrypts a value of column in row with the current key.
func (k *Keyring) seal(column string, row uuid.UUID, plain string) (string, error) {
	if k == nil {
		return "", errNoKeyring
	}
	nonce := make([]byte, k.current.aead.NonceSize(), k.current.aead.NonceSize()+len(plain)+k.current.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := k.current.aead.Seal(nonce, nonce, []byte(plain), associated(column, row))
	return sealedPrefix + k.current.id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// open decrypts a stored value of column in row. A value without the prefix was written before
// encryption existed and is returned as it is, until `wvsoft rotate-keys` encrypts it. The
// error never holds the value.
func (k *Keyring) open(column string, row uuid.UUID, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if k == nil {
		return "", errNoKeyring
	}
	id, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("postgres: persons.%s of %s is not in the sealed format", column, row)
	}
	dk := k.byID[id]
	if dk == nil {
		return "", fmt.Errorf("postgres: persons.%s of %s is sealed with key %s, which is not configured (DATA_ENCRYPTION_OLD_KEYS)", column, row, id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(payload)
	if err != nil || len(raw) < dk.aead.NonceSize()+dk.aead.Overhead() {
		return "", fmt.Errorf("postgres: persons.%s of %s is not in the sealed format", column, row)
	}
	plain, err := dk.aead.Open(nil, raw[:dk.aead.NonceSize()], raw[dk.aead.NonceSize():], associated(column, row))
	if err != nil {
		return "", fmt.Errorf("postgres: persons.%s of %s does not open with key %s: altered, or moved from another row", column, row, id)
	}
	return string(plain), nil
}

// current reports whether a stored value is sealed with the current key.
func (k *Keyring) isCurrent(stored string) bool {
	return strings.HasPrefix(stored, sealedPrefix+k.current.id+":")
}

// sealPtr and openPtr are seal and open for nullable columns: null stays null.
func (k *Keyring) sealPtr(column string, row uuid.UUID, plain *string) (*string, error) {
	if plain == nil {
		return nil, nil
	}
	s, err := k.seal(column, row, *plain)
	return &s, err
}

func (k *Keyring) openPtr(column string, row uuid.UUID, stored **string) error {
	if *stored == nil {
		return nil
	}
	plain, err := k.open(column, row, **stored)
	if err != nil {
		return err
	}
	*stored = &plain
	return nil
}
