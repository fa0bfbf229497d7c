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
	"sync"
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

// DefaultMaxLifetime is the longest a token may be valid (exp minus iat, and exp minus now):
// the working day of `make run`'s demo tokens. TOKEN_MAX_LIFETIME changes it.
const DefaultMaxLifetime = 12 * time.Hour

// DefaultEmailClaim and DefaultEmailVerifiedClaim are the OIDC standard claims that map a token
// to a user or staff member: the address, and the issuer's word that its holder controls it.
const (
	DefaultEmailClaim         = "email"
	DefaultEmailVerifiedClaim = "email_verified"
	// DefaultCustomerClaim names, in a token of a person who is a user of several customers,
	// the customer (its slug) to sign in to; without it the oldest of its users signs in.
	DefaultCustomerClaim = "wvsoft_customer"
	// NoVerifiedClaim, as the verified claim's name, says the issuer verifies the mapped claim
	// by construction (a directory's user principal name); no claim is then required.
	NoVerifiedClaim = "none"
)

// Authenticator verifies credentials.
type Authenticator struct {
	ids      wvsoft.Identities
	now      wvsoft.Clock
	keys     jwt.ParseOption
	issuer   string
	audience string
	signer   *ecdsa.PrivateKey // set only in development, for `wvsoft token`
	opts     options
	verified *verifiedTokens
}

// Option configures an Authenticator.
type Option func(*options)

type options struct {
	maxLifetime   time.Duration
	emailClaim    string
	verifiedClaim string
	customerClaim string
}

// WithMaxLifetime refuses tokens valid for longer than d; zero keeps DefaultMaxLifetime.
func WithMaxLifetime(d time.Duration) Option { return func(o *options) { o.maxLifetime = d } }

// WithClaims names the claim that holds the login address and the boolean claim that says the
// issuer verified it (NoVerifiedClaim: the issuer verifies the first by construction). Empty
// names keep the defaults.
func WithClaims(email, verified string) Option {
	return func(o *options) { o.emailClaim, o.verifiedClaim = email, verified }
}

// WithCustomerClaim names the claim that chooses the customer (its slug) among the users with
// the token's address; empty keeps DefaultCustomerClaim.
func WithCustomerClaim(name string) Option { return func(o *options) { o.customerClaim = name } }

func newOptions(opts []Option) options {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxLifetime <= 0 {
		o.maxLifetime = DefaultMaxLifetime
	}
	if o.emailClaim == "" {
		o.emailClaim = DefaultEmailClaim
	}
	if o.verifiedClaim == "" {
		o.verifiedClaim = DefaultEmailVerifiedClaim
	}
	if o.customerClaim == "" {
		o.customerClaim = DefaultCustomerClaim
	}
	return o
}

// skew is the clock difference between issuer and server that is forgiven.
const skew = 30 * time.Second

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
	tok, err := a.verify(cred)
	if err != nil {
		return nil, unauthenticated("the token is invalid or expired")
	}
	// A long-lived token is a standing credential whoever holds it; refuse one valid for longer
	// than the maximum, measured from when it was issued and from now (iat may be missing).
	exp, _ := tok.Expiration()
	if exp.Sub(a.now()) > a.opts.maxLifetime+skew {
		return nil, unauthenticated("the token is valid for longer than this server accepts")
	}
	if iat, ok := tok.IssuedAt(); ok && exp.Sub(iat) > a.opts.maxLifetime+skew {
		return nil, unauthenticated("the token is valid for longer than this server accepts")
	}
	var email string
	if err := tok.Get(a.opts.emailClaim, &email); err != nil || email == "" {
		return nil, unauthenticated("the token carries no " + a.opts.emailClaim + " claim")
	}
	// The address identifies the caller only when the issuer vouches that its holder controls
	// it; an issuer that lets anyone type an address would otherwise let anyone log in as anyone.
	if a.opts.verifiedClaim != NoVerifiedClaim && !verified(tok, a.opts.verifiedClaim) {
		return nil, unauthenticated("the token's " + a.opts.emailClaim + " is not verified (" + a.opts.verifiedClaim + ")")
	}
	// Logins are unique per customer: a person who is a user of several customers names the one
	// to sign in to. The claim selects among the address's own identities and grants nothing.
	if tok.Has(a.opts.customerClaim) {
		var customer string
		if err := tok.Get(a.opts.customerClaim, &customer); err != nil || customer == "" {
			return nil, unauthenticated("the token's " + a.opts.customerClaim + " is not a customer's slug")
		}
		return a.ids.SubjectByEmailIn(ctx, email, customer)
	}
	return a.ids.SubjectByEmail(ctx, email)
}

// validation is what a token must satisfy besides its signature, at every use. exp is
// required: a token without one would be valid for ever.
func (a *Authenticator) validation() []jwt.ValidateOption {
	return []jwt.ValidateOption{jwt.WithIssuer(a.issuer), jwt.WithAudience(a.audience),
		jwt.WithClock(jwt.ClockFunc(a.now)), jwt.WithAcceptableSkew(skew), jwt.WithRequiredClaim("exp")}
}

// verify parses and verifies a token, or takes it from the tokens verified in the last
// minute: the same bytes have the same signature, so only the claims that depend on the time
// are validated again (the ES256 verification and parsing were a quarter of a small
// request's CPU).
func (a *Authenticator) verify(cred string) (jwt.Token, error) {
	now := a.now()
	if tok := a.verified.get(cred, now); tok != nil {
		if err := jwt.Validate(tok, a.validation()...); err != nil {
			return nil, err
		}
		return tok, nil
	}
	opts := []jwt.ParseOption{a.keys, jwt.WithValidate(true)}
	for _, o := range a.validation() {
		opts = append(opts, o)
	}
	tok, err := jwt.ParseString(cred, opts...)
	if err != nil {
		return nil, err
	}
	a.verified.put(cred, tok, now)
	return tok, nil
}

// verifiedTokens keeps tokens whose signature was verified, for a minute each: a signing key
// that the issuer withdraws stops counting within a minute of the key set's refresh. Bounded:
// when full, it starts anew.
type verifiedTokens struct {
	mu      sync.Mutex
	entries map[string]verifiedToken
}

type verifiedToken struct {
	tok jwt.Token
	at  time.Time
}

const (
	verifiedTokenAge = time.Minute
	maxVerified      = 10_000
)

func (v *verifiedTokens) get(cred string, now time.Time) jwt.Token {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.entries[cred]
	if !ok {
		return nil
	}
	if d := now.Sub(e.at); d < 0 || d >= verifiedTokenAge {
		delete(v.entries, cred)
		return nil
	}
	return e.tok
}

func (v *verifiedTokens) put(cred string, tok jwt.Token, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.entries == nil || len(v.entries) >= maxVerified {
		v.entries = map[string]verifiedToken{}
	}
	v.entries[cred] = verifiedToken{tok: tok, at: now}
}

// verified reports whether the claim is true; some issuers send the boolean as a string.
func verified(tok jwt.Token, claim string) bool {
	var v any
	if err := tok.Get(claim, &v); err != nil {
		return false
	}
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// HashAPIKey is how API keys are stored: only their SHA-256. Keys have 256 bits of entropy,
// so a fast hash is enough.
func HashAPIKey(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// NewDevelopment returns an authenticator for tokens signed with the development key in
// keyFile, creating the key on first use (mode 0600).
func NewDevelopment(ids wvsoft.Identities, now wvsoft.Clock, keyFile string, opts ...Option) (*Authenticator, error) {
	key, err := loadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	pub, err := jwk.Import(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Authenticator{ids: ids, now: now, keys: jwt.WithKey(jwa.ES256(), pub),
		issuer: DevIssuer, audience: Audience, signer: key, opts: newOptions(opts), verified: &verifiedTokens{}}, nil
}

// NewOIDC returns an authenticator for tokens of an OIDC issuer, verified with the keys at
// jwksURL, which are fetched and refreshed in the background.
func NewOIDC(ctx context.Context, ids wvsoft.Identities, now wvsoft.Clock, issuer, audience, jwksURL string, opts ...Option) (*Authenticator, error) {
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
	return &Authenticator{ids: ids, now: now, keys: jwt.WithKeySet(set), issuer: issuer, audience: audience, opts: newOptions(opts),
		verified: &verifiedTokens{}}, nil
}

// IssueToken signs a development token for the subject with this e-mail address.
func (a *Authenticator) IssueToken(email string, ttl time.Duration) (string, error) {
	return a.IssueTokenIn(email, "", ttl)
}

// IssueTokenIn signs a development token for the user with this e-mail address of the customer
// with this slug; an empty customer leaves the choice to SubjectByEmail.
func (a *Authenticator) IssueTokenIn(email, customer string, ttl time.Duration) (string, error) {
	if a.signer == nil {
		return "", errors.New("tokens are issued only with the development key; production uses the OIDC issuer")
	}
	if ttl <= 0 || ttl > a.opts.maxLifetime {
		return "", fmt.Errorf("a token's lifetime must be above 0 and at most %s (TOKEN_MAX_LIFETIME)", a.opts.maxLifetime)
	}
	now := a.now()
	// The development key vouches for the address itself, as an OIDC issuer would.
	tok, err := jwt.NewBuilder().Issuer(a.issuer).Audience([]string{a.audience}).Subject(email).
		Claim(a.opts.emailClaim, email).IssuedAt(now).NotBefore(now).Expiration(now.Add(ttl)).Build()
	if err == nil && a.opts.verifiedClaim != NoVerifiedClaim {
		err = tok.Set(a.opts.verifiedClaim, true)
	}
	if err == nil && customer != "" {
		err = tok.Set(a.opts.customerClaim, customer)
	}
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
