package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wvsoft/privacy/internal/auth"
)

// checkSignIn refuses development sign-in in production unless ALLOW_DEVELOPMENT_TOKENS asks
// for it: a production server without OIDC would otherwise accept the tokens anyone with the
// key file mints, for any identity.
func checkSignIn(cfg config) error {
	if cfg.Production && cfg.OIDCJWKSURL == "" && !cfg.DevelopmentTokens {
		return errors.New("production signs in with OIDC: set OIDC_ISSUER and OIDC_JWKS_URL (README, Sign-in); " +
			"ALLOW_DEVELOPMENT_TOKENS=true accepts development tokens instead, which whoever reads TOKEN_KEY_FILE can mint for anyone")
	}
	return nil
}

func printToken(ctx context.Context, cfg config, email, customer string, ttl time.Duration, stdout io.Writer) error {
	if err := checkSignIn(cfg); err != nil {
		return err
	}
	db, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if customer != "" {
		if _, err := db.SubjectByEmailIn(ctx, email, customer); err != nil {
			return fmt.Errorf("customer %s has no user with e-mail address %s", customer, email)
		}
	} else if _, err := db.SubjectByEmail(ctx, email); err != nil {
		return fmt.Errorf("no user or staff member with e-mail address %s (did you run `wvsoft seed`?)", email)
	}
	authn, err := auth.NewDevelopment(db, time.Now, cfg.TokenKeyFile, auth.WithMaxLifetime(cfg.TokenMaxLifetime))
	if err != nil {
		return err
	}
	tok, err := authn.IssueTokenIn(email, customer, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
