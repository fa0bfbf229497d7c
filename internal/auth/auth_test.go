package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/pgtest"
	"github.com/wvsoft/privacy/internal/postgres"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

const member = "member@bakkerij-de-vries.example"

// identities is the real store on a fresh database.
func identities(t *testing.T) *postgres.DB {
	t.Helper()
	db := pgtest.New(t)
	store, err := postgres.Open(context.Background(), db.AppURL, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// claims builds a token: the standard claims of a fresh one, changed by edit.
type claims map[string]any

func sign(t *testing.T, key *ecdsa.PrivateKey, kid string, c claims) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range c {
		if v == nil {
			continue // a claim left out
		}
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	jk, err := jwk.Import(key)
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		jk.Set(jwk.KeyIDKey, kid)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), jk))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func fresh(iss, aud string, now time.Time) claims {
	return claims{"iss": iss, "aud": []string{aud}, "sub": "x", "email": member, "email_verified": true,
		"iat": now, "nbf": now, "exp": now.Add(time.Hour)}
}

func with(c claims, changes claims) claims {
	out := claims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

func expectCode(t *testing.T, a *auth.Authenticator, name, token, want string) {
	t.Helper()
	subject, err := a.Authenticate(context.Background(), "Bearer "+token)
	if want == "" {
		if err != nil || subject == nil || subject.Email == nil || *subject.Email != member {
			t.Errorf("%s: refused: %v", name, err)
		}
		return
	}
	if got := wvsoft.ErrorCode(err); got != want {
		t.Errorf("%s: %v (%s), want %s", name, subject, got, want)
	}
}

// Development tokens: exp is required, and a token valid for longer than the maximum is refused,
// however it was signed; `wvsoft token` issues none longer.
func TestDevelopmentTokensExpire(t *testing.T) {
	store := identities(t)
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	a, err := auth.NewDevelopment(store, time.Now, keyFile, auth.WithMaxLifetime(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(keyFile)
	block, _ := pem.Decode(raw)
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	base := fresh(auth.DevIssuer, auth.Audience, now)
	expectCode(t, a, "a fresh token", sign(t, key, "", base), "")
	expectCode(t, a, "without exp", sign(t, key, "", with(base, claims{"exp": nil})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "valid 3 hours", sign(t, key, "", with(base, claims{"exp": now.Add(3 * time.Hour)})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "valid 10 years, no iat", sign(t, key, "", with(base, claims{"iat": nil, "exp": now.AddDate(10, 0, 0)})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "issued 3 hours ago, 1 hour left", sign(t, key, "", with(base, claims{"iat": now.Add(-3 * time.Hour),
		"nbf": now.Add(-3 * time.Hour)})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "expired", sign(t, key, "", with(base, claims{"exp": now.Add(-time.Minute)})), wvsoft.EUNAUTHENTICATED)

	if _, err := a.IssueToken(member, 3*time.Hour); err == nil {
		t.Fatal("a token beyond the maximum was issued")
	}
	tok, err := a.IssueToken(member, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expectCode(t, a, "an issued token", tok, "")
	if _, err := auth.NewDevelopment(store, time.Now, keyFile); err != nil {
		t.Fatal(err)
	}
	// The default maximum is 12 hours.
	def, _ := auth.NewDevelopment(store, time.Now, keyFile)
	if _, err := def.IssueToken(member, 13*time.Hour); err == nil {
		t.Fatal("a 13-hour token issued under the default maximum")
	}
}

// OIDC tokens: exp and a bounded lifetime as above; the login address is the configured claim
// and counts only when the issuer says it is verified.
func TestOIDCTokens(t *testing.T) {
	store := identities(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.Import(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub.Set(jwk.KeyIDKey, "k1")
	pub.Set(jwk.AlgorithmKey, jwa.ES256())
	set := jwk.NewSet()
	set.AddKey(pub)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	defer jwks.Close()
	const issuer = "https://login.example.nl/"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	oidc := func(opts ...auth.Option) *auth.Authenticator {
		a, err := auth.NewOIDC(ctx, store, time.Now, issuer, "wvsoft", jwks.URL, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := oidc(auth.WithMaxLifetime(time.Hour))
	now := time.Now()
	base := fresh(issuer, "wvsoft", now)
	expectCode(t, a, "verified", sign(t, key, "k1", base), "")
	expectCode(t, a, "verified as a string", sign(t, key, "k1", with(base, claims{"email_verified": "true"})), "")
	expectCode(t, a, "without email_verified", sign(t, key, "k1", with(base, claims{"email_verified": nil})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "email_verified false", sign(t, key, "k1", with(base, claims{"email_verified": false})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "email_verified \"false\"", sign(t, key, "k1", with(base, claims{"email_verified": "false"})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "without exp", sign(t, key, "k1", with(base, claims{"exp": nil})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "valid a day", sign(t, key, "k1", with(base, claims{"exp": now.Add(24 * time.Hour)})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "another issuer", sign(t, key, "k1", with(base, claims{"iss": "https://evil.example/"})), wvsoft.EUNAUTHENTICATED)

	// The mapping is configurable: the address in preferred_username, verified by email_verified,
	// or by construction (NoVerifiedClaim) for a directory whose names are its addresses.
	upn := with(base, claims{"email": nil, "preferred_username": member})
	mapped := oidc(auth.WithClaims("preferred_username", ""))
	expectCode(t, mapped, "preferred_username, verified", sign(t, key, "k1", upn), "")
	expectCode(t, mapped, "preferred_username, not verified", sign(t, key, "k1", with(upn, claims{"email_verified": nil})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "the default mapping ignores preferred_username", sign(t, key, "k1", upn), wvsoft.EUNAUTHENTICATED)
	directory := oidc(auth.WithClaims("preferred_username", auth.NoVerifiedClaim))
	expectCode(t, directory, "verified by construction", sign(t, key, "k1", with(upn, claims{"email_verified": nil})), "")
	expectCode(t, directory, "no exp, even so", sign(t, key, "k1", with(upn, claims{"email_verified": nil, "exp": nil})), wvsoft.EUNAUTHENTICATED)

	// The customer claim chooses among the address's users; it grants nothing else.
	expectCode(t, a, "choosing its customer", sign(t, key, "k1", with(base, claims{"wvsoft_customer": "bakkerij-de-vries"})), "")
	expectCode(t, a, "choosing a customer it is no user of", sign(t, key, "k1", with(base, claims{"wvsoft_customer": "jansen-installatie"})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, a, "a customer claim that is no slug", sign(t, key, "k1", with(base, claims{"wvsoft_customer": 42})), wvsoft.EUNAUTHENTICATED)
	org := oidc(auth.WithCustomerClaim("org"))
	expectCode(t, org, "a configured customer claim", sign(t, key, "k1", with(base, claims{"org": "jansen-installatie"})), wvsoft.EUNAUTHENTICATED)
	expectCode(t, org, "the default claim name is then ignored", sign(t, key, "k1", with(base, claims{"wvsoft_customer": "jansen-installatie"})), "")
}
