// Package auth turns the Authorization header into a verified subject: a JWT from the
// development signing key or an OIDC issuer's JWKS, or an integrator's API key.
package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// APIKeyPrefix starts every integrator key, so that the header tells a key from a JWT.
const APIKeyPrefix = "wvs_"

// DevIssuer and Audience are the iss and aud of tokens from `wvsoft token`.
const (
	DevIssuer = "wvsoft-dev"
	Audience  = "wvsoft"
)

// Authenticator verifies credentials.
type Authenticator struct {
	ids      wvsoft.Identities
	now      wvsoft.Clock
	keys     jwt.ParseOption
	issuer   string
	audience string
	signer   *ecdsa.PrivateKey // set only in development, for `wvsoft token`
}

func unauthenticated(msg string) error {
	return &wvsoft.Error{Code: wvsoft.EUNAUTHENTICATED, Message: msg}
}

// Authenticate verifies an Authorization header value and returns the subject behind it.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (*wvsoft.Subject, error) {
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" || len(cred) > 8192 {
		return nil, unauthenticated("send Authorization: Bearer <token or API key>")
	}
	if strings.HasPrefix(cred, APIKeyPrefix) {
		return a.ids.SubjectByAPIKey(ctx, HashAPIKey(cred))
	}
	tok, err := jwt.ParseString(cred, a.keys, jwt.WithValidate(true), jwt.WithIssuer(a.issuer),
		jwt.WithAudience(a.audience), jwt.WithClock(jwt.ClockFunc(a.now)), jwt.WithAcceptableSkew(30*time.Second))
	if err != nil {
		return nil, unauthenticated("the token is invalid or expired")
	}
	var email string
	if err := tok.Get("email", &email); err != nil || email == "" {
		return nil, unauthenticated("the token carries no e-mail claim")
	}
	return a.ids.SubjectByEmail(ctx, email)
}

// HashAPIKey is how API keys are stored: only their SHA-256. Keys have 256 bits of entropy,
// so a fast hash is enough.
func HashAPIKey(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// NewDevelopment returns an authenticator for tokens signed with the development key in
// keyFile, creating the key on first use (mode 0600).
func NewDevelopment(ids wvsoft.Identities, now wvsoft.Clock, keyFile string) (*Authenticator, error) {
	key, err := loadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	pub, err := jwk.Import(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Authenticator{ids: ids, now: now, keys: jwt.WithKey(jwa.ES256(), pub),
		issuer: DevIssuer, audience: Audience, signer: key}, nil
}

// NewOIDC returns an authenticator for tokens of an OIDC issuer, verified with the keys at
// jwksURL, which are fetched and refreshed in the background.
func NewOIDC(ctx context.Context, ids wvsoft.Identities, now wvsoft.Clock, issuer, audience, jwksURL string) (*Authenticator, error) {
	cache, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		return nil, err
	}
	if err := cache.Register(ctx, jwksURL); err != nil {
		return nil, fmt.Errorf("OIDC keys at %s: %w", jwksURL, err)
	}
	set, err := cache.CachedSet(jwksURL)
	if err != nil {
		return nil, err
	}
	return &Authenticator{ids: ids, now: now, keys: jwt.WithKeySet(set), issuer: issuer, audience: audience}, nil
}

// IssueToken signs a development token for the subject with this e-mail address.
func (a *Authenticator) IssueToken(email string, ttl time.Duration) (string, error) {
	if a.signer == nil {
		return "", errors.New("tokens are issued only with the development key; production uses the OIDC issuer")
	}
	now := a.now()
	tok, err := jwt.NewBuilder().Issuer(a.issuer).Audience([]string{a.audience}).Subject(email).
		Claim("email", email).IssuedAt(now).NotBefore(now).Expiration(now.Add(ttl)).Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256(), a.signer))
	return string(signed), err
}

func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	if raw, err := os.ReadFile(path); err == nil {
		block, _ := pem.Decode(raw)
		if block == nil {
			return nil, fmt.Errorf("%s holds no PEM key", path)
		}
		return x509.ParseECPrivateKey(block.Bytes)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateKey(path) // another process created it first
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}); err != nil {
		return nil, err
	}
	return key, f.Close()
}
