package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/wvsoft/privacy/internal/accesslog"
	"github.com/wvsoft/privacy/internal/wvsoft"
)

// auditVerify checks customers' access logs: every customer's against its stored signed
// checkpoints, or, with --checkpoint, the one customer the kept checkpoint names against it too.
// The public key comes from --key (repeatable, for checkpoints of earlier keys), else from the
// configured signing key.
func auditVerify(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	checkpoint := fs.String("checkpoint", "", "a signed checkpoint you kept (from the e-mail or Customer.accessLogCheckpoint); checks its customer's log against it")
	var keys []string
	fs.Func("key", "a public (verifier) key of WvSoft's access log, as WvSoft published it; repeat it for earlier keys", func(v string) error {
		keys = append(keys, v)
		return nil
	})
	api := fs.String("api", "", "read the log through this GraphQL endpoint (https://…/graphql) as a customer's admin, instead of the database; needs --checkpoint")
	token := fs.String("token", "", "the admin's bearer token for --api (default: the environment's WVSOFT_TOKEN)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: wvsoft audit verify [--checkpoint FILE --key PUBLIC_KEY [--api URL --token TOKEN]]\n\n"+
			"Rebuilds each customer's Merkle tree from its records and checks it against every signed checkpoint,\n"+
			"and, with --checkpoint, against the one you kept: an altered, inserted or deleted entry or a cut tail\n"+
			"is reported. Exits non-zero when a log is broken. Configuration comes from the environment (README.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if len(keys) == 0 {
		if k, err := loadLogKeys(cfg, false); err == nil && k != nil {
			keys = append(keys, k.VerifierKey)
			keys = append(keys, cfg.LogVerifierKeys...)
		}
	}
	var known note.Verifiers
	if len(keys) > 0 {
		var err error
		if known, err = accesslog.Verifiers(keys...); err != nil {
			return err
		}
	} else if *checkpoint != "" {
		return errors.New("a kept checkpoint is checked with WvSoft's public key: give --key PUBLIC_KEY")
	} else {
		fmt.Fprintln(stdout, "no public key (--key or ACCESS_LOG_SIGNING_KEY): signatures are NOT checked, only the trees")
	}
	var kept []byte
	var only *uuid.UUID
	if *checkpoint != "" {
		var err error
		if kept, err = os.ReadFile(*checkpoint); err != nil {
			return err
		}
		// Saved from a mail program, a note may have CRLF line ends or lose its last newline;
		// the signature is over the text with LF.
		kept = []byte(strings.TrimRight(strings.ReplaceAll(string(kept), "\r\n", "\n"), "\n") + "\n")
		cp, err := accesslog.Open(kept, known)
		if err != nil {
			return fmt.Errorf("%s: %w", *checkpoint, err)
		}
		tenant, err := accesslog.TenantOf(cp.Origin)
		if err != nil {
			return fmt.Errorf("%s: %w", *checkpoint, err)
		}
		only = &tenant
		fmt.Fprintf(stdout, "your checkpoint: %d entries of %s, signed by a given key\n", cp.Size, cp.Origin)
	}
	if *api != "" {
		if only == nil {
			return errors.New("--api checks one customer's log against a checkpoint it kept: give --checkpoint FILE")
		}
		if *token == "" {
			*token = cfg.Token
		}
		l, err := fetchLog(ctx, *api, *token, *only)
		if err != nil {
			return err
		}
		rep := accesslog.Verify(l, known, kept)
		return report(stdout, only.String(), rep)
	}
	db, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	broken := 0
	check := func(tenant uuid.UUID, name string) error {
		l, err := db.ReadLog(ctx, wvsoft.TenantFilter{Tenants: []uuid.UUID{tenant}}, tenant)
		if err != nil {
			return err
		}
		var mine []byte
		if only != nil {
			mine = kept
		}
		if report(stdout, name, accesslog.Verify(l, known, mine)) != nil {
			broken++
		}
		return nil
	}
	if only != nil {
		if err := check(*only, only.String()); err != nil {
			return err
		}
	} else {
		page := wvsoft.Page{First: wvsoft.DefaultMaxPageSize}
		for {
			customers, w, err := db.Customers(ctx, wvsoft.TenantFilter{All: true}, page)
			if err != nil {
				return err
			}
			for _, c := range customers {
				if err := check(c.TenantID, c.Slug); err != nil {
					return err
				}
			}
			if !w.HasNext {
				break
			}
			page.After = customers[len(customers)-1].TenantID
		}
	}
	if broken > 0 {
		return fmt.Errorf("%d access log(s) broken", broken)
	}
	return nil
}

// report prints a verification's outcome; an error when the log is broken.
func report(stdout io.Writer, name string, rep *accesslog.Report) error {
	if rep.Intact() {
		fmt.Fprintf(stdout, "%s: intact (%d entries, signed up to %d)\n", name, rep.Entries, rep.Covered)
		return nil
	}
	p := rep.First()
	fmt.Fprintf(stdout, "%s: BROKEN at entry %d: %s\n", name, p.Seq, p.What)
	for _, q := range rep.Problems[1:] {
		fmt.Fprintf(stdout, "  also at entry %d: %s\n", q.Seq, q.What)
	}
	return errors.New("the access log is broken")
}

// fetchLog reads a customer's whole log through the API, as its admin: every entry's record
// and the newest signed checkpoint. Nothing the server says is trusted: the records are hashed
// here, the checkpoints checked with the public key the customer holds.
func fetchLog(ctx context.Context, endpoint, token string, tenant uuid.UUID) (accesslog.Log, error) {
	// Every entry comes with its own checkpoint, as in the database: an entry the server did not
	// sign is reported, not only a change to what the newest checkpoint covers.
	l := accesslog.Log{Tenant: tenant}
	if token == "" {
		return l, errors.New("--api needs the admin's bearer token: --token or WVSOFT_TOKEN")
	}
	const q = `query($after: String) { me { customer { id accessLogCheckpoint { note } accessLogSignedFrom
		accessLog(first: 500, after: $after) { edges { node { seq record checkpoint { note } } } pageInfo { hasNextPage endCursor } } } } }`
	var after *string
	for {
		body, err := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"after": after}})
		if err != nil {
			return l, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return l, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return l, err
		}
		var out struct {
			Data struct {
				Me struct {
					Customer *struct {
						ID         string `json:"id"`
						Checkpoint *struct {
							Note string `json:"note"`
						} `json:"accessLogCheckpoint"`
						SignedFrom *int64 `json:"accessLogSignedFrom"`
						Log        struct {
							Edges []struct {
								Node struct {
									Seq        int64  `json:"seq"`
									Record     string `json:"record"`
									Checkpoint *struct {
										Note string `json:"note"`
									} `json:"checkpoint"`
								} `json:"node"`
							} `json:"edges"`
							PageInfo struct {
								HasNextPage bool    `json:"hasNextPage"`
								EndCursor   *string `json:"endCursor"`
							} `json:"pageInfo"`
						} `json:"accessLog"`
					} `json:"customer"`
				} `json:"me"`
			} `json:"data"`
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&out)
		resp.Body.Close()
		if err != nil {
			return l, fmt.Errorf("%s answered HTTP %d without a GraphQL answer: %w", endpoint, resp.StatusCode, err)
		}
		if len(out.Errors) > 0 || out.Data.Me.Customer == nil {
			msg := "no customer"
			if len(out.Errors) > 0 {
				msg = out.Errors[0].Message
			}
			return l, fmt.Errorf("%s: %s (is the token a customer admin's?)", endpoint, msg)
		}
		c := out.Data.Me.Customer
		if id, err := wvsoft.ParseGlobalIDOf("id", wvsoft.KindCustomer, c.ID); err != nil || id != tenant {
			return l, errors.New("the token's customer is not the one the checkpoint is of")
		}
		if after == nil {
			if c.SignedFrom == nil {
				return l, fmt.Errorf("%s does not say from which entry its log is signed (accessLogSignedFrom)", endpoint)
			}
			l.Adopted = *c.SignedFrom - 1
			if c.Checkpoint != nil {
				l.Checkpoints = append(l.Checkpoints, c.Checkpoint.Note)
			}
		}
		for _, e := range c.Log.Edges {
			l.Entries = append(l.Entries, accesslog.Entry{Seq: e.Node.Seq, Record: []byte(e.Node.Record)})
			if e.Node.Checkpoint != nil {
				l.Checkpoints = append(l.Checkpoints, e.Node.Checkpoint.Note)
			}
		}
		if !c.Log.PageInfo.HasNextPage || c.Log.PageInfo.EndCursor == nil {
			return l, nil
		}
		after = c.Log.PageInfo.EndCursor
	}
}

// auditKeygen prints a new signing key and its public key, for ACCESS_LOG_SIGNING_KEY and for
// customers (README, rotation).
func auditKeygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit keygen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("name", "wvsoft-access-log", "the key's name, shown in every signature (no spaces or '+'); a date in it helps rotation")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	skey, vkey, err := accesslog.GenerateKey(*name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ACCESS_LOG_SIGNING_KEY=%s\npublic key (give to customers): %s\n", skey, vkey)
	return nil
}
