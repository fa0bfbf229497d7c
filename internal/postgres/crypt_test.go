package postgres

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func mustKeyring(t *testing.T, current string, old ...string) *Keyring {
	t.Helper()
	k, err := NewKeyring(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKey(t *testing.T) string {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealAndOpen(t *testing.T) {
	a, b := newKey(t), newKey(t)
	ka := mustKeyring(t, a)
	row, other := uuid.New(), uuid.New()
	const bsn = "111222333"

	sealed, err := ka.seal(colBSN, row, bsn)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^v1:[0-9a-f]{8}:[A-Za-z0-9+/]+$`).MatchString(sealed) || strings.Contains(sealed, bsn) {
		t.Fatalf("sealed form %q", sealed)
	}
	if again, _ := ka.seal(colBSN, row, bsn); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if got, err := ka.open(colBSN, row, sealed); err != nil || got != bsn {
		t.Fatalf("open: %q %v", got, err)
	}

	t.Run("a value moved to another row or column does not open", func(t *testing.T) {
		if _, err := ka.open(colBSN, other, sealed); err == nil {
			t.Fatal("opened in another row")
		}
		if _, err := ka.open(colMedicalNotes, row, sealed); err == nil {
			t.Fatal("opened in another column")
		}
	})

	t.Run("an altered value does not open, and the error holds no value", func(t *testing.T) {
		// A character in the middle: the last one may carry only padding bits.
		i := len(sealed) - 10
		repl := "A"
		if sealed[i] == 'A' {
			repl = "B"
		}
		flipped := sealed[:i] + repl + sealed[i+1:]
		_, err := ka.open(colBSN, row, flipped)
		if err == nil || strings.Contains(err.Error(), bsn) || strings.Contains(err.Error(), sealed[10:]) {
			t.Fatalf("altered value: %v", err)
		}
		for _, bad := range []string{"v1:", "v1:nokey", "v1:" + ka.CurrentKeyID() + ":!!!", "v1:" + ka.CurrentKeyID() + ":AAAA"} {
			if _, err := ka.open(colBSN, row, bad); err == nil {
				t.Errorf("%q opened", bad)
			}
		}
	})

	t.Run("rotation: the new key writes, the old one still reads", func(t *testing.T) {
		kb := mustKeyring(t, b)
		if _, err := kb.open(colBSN, row, sealed); err == nil {
			t.Fatal("another key opened it")
		}
		both := mustKeyring(t, b, a)
		if got, err := both.open(colBSN, row, sealed); err != nil || got != bsn {
			t.Fatalf("old key: %q %v", got, err)
		}
		resealed, _ := both.seal(colBSN, row, bsn)
		if !both.isCurrent(resealed) || both.isCurrent(sealed) || both.CurrentKeyID() == ka.CurrentKeyID() {
			t.Fatalf("key ids: %s %s", resealed, sealed)
		}
		if mustKeyring(t, a).CurrentKeyID() != ka.CurrentKeyID() {
			t.Fatal("the key id is not stable")
		}
	})

	t.Run("values from before encryption read as they are", func(t *testing.T) {
		if got, err := ka.open(colMedicalNotes, row, "diabetes type 2"); err != nil || got != "diabetes type 2" {
			t.Fatalf("%q %v", got, err)
		}
	})

	t.Run("without keys nothing is written or read", func(t *testing.T) {
		var none *Keyring
		if _, err := none.seal(colBSN, row, bsn); err == nil {
			t.Fatal("sealed without a key")
		}
		if _, err := none.open(colBSN, row, sealed); err == nil {
			t.Fatal("opened without a key")
		}
	})

	t.Run("keys must be 32 bytes of base64", func(t *testing.T) {
		for _, bad := range []string{"", "c2hvcnQ=", strings.Repeat("A", 44) + "!", "not base64"} {
			if _, err := NewKeyring(bad); err == nil {
				t.Errorf("%q accepted", bad)
			}
			if _, err := NewKeyring(a, bad); err == nil {
				t.Errorf("old key %q accepted", bad)
			}
		}
	})
}
