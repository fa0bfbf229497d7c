package authz_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/authz"
	"github.com/wvsoft/privacy/internal/wvsoft"
	"github.com/wvsoft/privacy/policy"
)

func member() *wvsoft.Subject {
	return &wvsoft.Subject{Kind: wvsoft.SubjectUser, ID: uuid.New(), TenantID: uuid.New(), Role: wvsoft.RoleMember,
		CanWrite: true, SpecialCategories: true}
}

func engineWith(t *testing.T, src string) *authz.Engine {
	t.Helper()
	e, err := authz.New(context.Background(), authz.WithFiles(fstest.MapFS{"p.rego": {Data: []byte(src)}}))
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	return e
}

func decide(e *authz.Engine, s *wvsoft.Subject) authz.Decision {
	return e.Decide(context.Background(), authz.Input{Subject: s, Action: authz.ActionRead,
		Resource: authz.Resource{Type: "Person", Field: "name", Category: "IDENTITY", Purposes: []string{"SERVICE"}, TenantID: s.TenantID},
		Time:     time.Now()})
}

// Anything but a well-formed allow or mask denies.
func TestFailClosed(t *testing.T) {
	cases := []struct {
		name, policy string
	}{
		{"undefined decision", "package wvsoft.authz\nimport rego.v1\nrows := {\"all\": true}\n"},
		{"unknown effect", "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"permit\"}\nrows := {}\n"},
		{"unknown mask", "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"mask\", \"mask\": \"rot13\"}\nrows := {}\n"},
		{"not an object", "package wvsoft.authz\nimport rego.v1\ndecision := true\nrows := {}\n"},
		{"evaluation error", "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"allow\"} if { x := to_number(input.subject.role); x > 1 }\nrows := {}\n"},
		{"conflicting rules", "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"allow\"} if true\ndecision := {\"effect\": \"deny\"} if input.subject.kind == \"USER\"\nrows := {}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := engineWith(t, c.policy)
			if d := decide(e, member()); d.Effect != authz.Deny {
				t.Fatalf("got %+v, want deny", d)
			}
		})
	}
	t.Run("control: a plain allow allows", func(t *testing.T) {
		e := engineWith(t, "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"allow\"}\nrows := {}\n")
		if d := decide(e, member()); d.Effect != authz.Allow {
			t.Fatalf("got %+v", d)
		}
	})
}

func TestRowsFailClosed(t *testing.T) {
	e := engineWith(t, "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"allow\"}\nrows := {\"tenants\": [\"not-a-uuid\"]}\n")
	if _, err := e.Rows(context.Background(), authz.Input{Subject: member(), Action: authz.ActionRead, Resource: authz.Resource{Type: "Person"}}); err == nil {
		t.Fatal("a malformed tenant list was accepted")
	}
}

func copyPolicy(t *testing.T, dir string) {
	t.Helper()
	entries, err := policy.Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, _ := policy.Files.ReadFile(e.Name())
		if err := os.WriteFile(filepath.Join(dir, e.Name()), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A broken edit never replaces the policy that serves; a good one does, without a restart.
func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	copyPolicy(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := authz.New(ctx, authz.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	good := e.Status().Revision
	s := member()
	if d := decide(e, s); d.Effect != authz.Allow {
		t.Fatalf("shipped policy: %+v", d)
	}

	waitFor := func(what string, ok func(authz.Status) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(e.Status()) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, e.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Does not compile.
	os.WriteFile(filepath.Join(dir, "broken.rego"), []byte("package wvsoft.authz\nthis is not rego\n"), 0o644)
	waitFor("rejection of a syntax error", func(st authz.Status) bool { return st.Rejected })
	if e.Status().Revision != good || decide(e, s).Effect != authz.Allow {
		t.Fatalf("a broken policy replaced the good one: %+v", e.Status())
	}
	os.Remove(filepath.Join(dir, "broken.rego"))
	waitFor("recovery", func(st authz.Status) bool { return !st.Rejected })

	// Compiles, but its own test fails.
	os.WriteFile(filepath.Join(dir, "failing_test.rego"), []byte("package wvsoft.failing_test\nimport rego.v1\ntest_fails if { 1 == 2 }\n"), 0o644)
	waitFor("rejection of a failing test", func(st authz.Status) bool { return st.Rejected })
	if e.Status().Revision != good {
		t.Fatal("a policy with a failing test was accepted")
	}
	os.Remove(filepath.Join(dir, "failing_test.rego"))
	waitFor("recovery", func(st authz.Status) bool { return !st.Rejected })

	// A good change: an extra rule file that changes nothing but the revision.
	os.WriteFile(filepath.Join(dir, "extra.rego"), []byte("package wvsoft.extra\nimport rego.v1\nnote := \"reviewed\"\n"), 0o644)
	waitFor("a new revision", func(st authz.Status) bool { return st.Revision != good && !st.Rejected })
	if decide(e, s).Effect != authz.Allow {
		t.Fatal("the new policy does not serve")
	}
}

// Decisions shared across requests never outlive the second they were made in: a staff
// declaration that lapses is denied from the next second on.
func TestSharedDecisionsFollowTime(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	e, err := authz.New(context.Background(), authz.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	expires := now.Add(1500 * time.Millisecond)
	support := &wvsoft.Subject{Kind: wvsoft.SubjectStaff, ID: uuid.New(), Role: wvsoft.RoleSupport, DeclarationExpiresAt: &expires}
	filter := func() wvsoft.TenantFilter {
		f, err := e.NewRequest(support).Filter(context.Background(), wvsoft.KindCustomer, authz.ActionRead)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if !filter().All {
		t.Fatal("declared support staff should read the register")
	}
	now = now.Add(time.Second) // still before expiry: the same second's cache or a new one, same answer
	if !filter().All {
		t.Fatal("declaration still valid")
	}
	now = now.Add(time.Second) // past expiry
	if f := filter(); f.All || len(f.Tenants) != 0 {
		t.Fatalf("an expired declaration still reads the register: %+v", f)
	}
}

// Reloads swap the policy while requests decide: no decision fails during the swap.
func TestReloadDuringRequests(t *testing.T) {
	ctx := context.Background()
	e, err := authz.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := member()
	stop := make(chan struct{})
	failures := make(chan authz.Decision, 1)
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			// A fresh request each time, so that every one meets whichever policy is current.
			if d := decide(e, s); d.Effect != authz.Allow {
				select {
				case failures <- d:
				default:
				}
			}
			n++
		}
	}()
	for i := 0; i < 5; i++ {
		if err := e.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	n := <-done
	select {
	case d := <-failures:
		t.Fatalf("a decision failed during a reload: %+v", d)
	default:
	}
	if n == 0 {
		t.Fatal("no decisions were made during the reloads")
	}
}

// A reload gives the author what CI would: the strict checks of `opa check --strict`, and for a
// failing test the file, line and the values where it failed.
func TestRejectionsNameFileLineAndValues(t *testing.T) {
	base := "package wvsoft.authz\n\nimport rego.v1\n\ndefault decision := {\"effect\": \"deny\"}\n\nrows := {\"tenants\": []}\n"
	cases := []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"unused variable (strict)", fstest.MapFS{"p.rego": {Data: []byte(base + "\nr if {\n\tx := 1\n\ttrue\n}\n")}},
			[]string{"p.rego:10", "x"}},
		{"failing test", fstest.MapFS{
			"p.rego":      {Data: []byte(base)},
			"p_test.rego": {Data: []byte("package wvsoft.authz_test\n\nimport rego.v1\n\ntest_effect if {\n\td := data.wvsoft.authz.decision\n\td.effect == \"allow\"\n}\n")},
		}, []string{"p_test.rego:5", "test_effect", "p_test.rego:7", `"deny"`, `"allow"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := authz.New(context.Background(), authz.WithFiles(c.files))
			if err == nil {
				t.Fatal("the policy was accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the rejection does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// print() in a rule reaches the server log, with the request's context (and so its id).
func TestPrintReachesTheLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	src := "package wvsoft.authz\n\nimport rego.v1\n\ndecision := {\"effect\": \"deny\"} if {\n\tprint(\"deciding\", input.resource.type)\n}\n\nrows := {\"tenants\": []}\n"
	e, err := authz.New(context.Background(), authz.WithFiles(fstest.MapFS{"p.rego": {Data: []byte(src)}}), authz.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	if d := decide(e, member()); d.Effect != authz.Deny {
		t.Fatalf("decision: %+v", d)
	}
	if !strings.Contains(buf.String(), `"message":"deciding Person"`) || !strings.Contains(buf.String(), `"location":"p.rego:6"`) {
		t.Fatalf("print did not reach the log: %s", buf.String())
	}
}

// A rows answer's record-state condition fails closed: on a type whose store does not put it into
// its SQL, or in a shape the server does not know, the request gets no rows at all.
func TestRowConditionFailsClosed(t *testing.T) {
	staff := &wvsoft.Subject{Kind: wvsoft.SubjectStaff, ID: uuid.New(), Role: wvsoft.RoleSupport}
	for _, c := range []struct {
		name, rows, typ string
		allowed         bool
	}{
		{"a type whose SQL takes it", `{"all": true, "data_of": ["CUSTOMER"]}`, wvsoft.KindDataSubjectRequest, true},
		{"a type whose SQL does not", `{"all": true, "data_of": ["CUSTOMER"]}`, wvsoft.KindCustomer, false},
		{"not a list", `{"all": true, "data_of": "CUSTOMER"}`, wvsoft.KindDataSubjectRequest, false},
		{"an unknown name", `{"all": true, "data_of": ["EVERYONE"]}`, wvsoft.KindDataSubjectRequest, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := engineWith(t, "package wvsoft.authz\nimport rego.v1\ndecision := {\"effect\": \"deny\"}\nrows := "+c.rows+"\n")
			f, err := e.NewRequest(staff).Filter(context.Background(), c.typ, authz.ActionRead)
			if c.allowed != (err == nil) || (err != nil && (f.All || len(f.Tenants) > 0)) {
				t.Fatalf("filter %+v, error %v; want allowed: %v", f, err, c.allowed)
			}
			if c.allowed && (!f.All || len(f.DataOf) != 1 || f.DataOf[0] != wvsoft.DataOfCustomer) {
				t.Fatalf("filter %+v: the condition is lost", f)
			}
		})
	}
}
