package authz_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The engine and the authorized store know OPA, the policy's input and the domain, not gqlgen
// and not the database: graph's field hook applies their decisions to gqlgen's results, and the
// persistence store is behind the wvsoft.Store interface. (gqlparser's field definitions, which
// key a request's decisions, come with OPA itself.)
func TestAuthzDependsOnNeitherGqlgenNorTheDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list found only %d packages", len(deps))
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/99designs/gqlgen", "github.com/wvsoft/privacy/graph", "github.com/wvsoft/privacy/internal/postgres", "github.com/lib/pq", "github.com/jmoiron/sqlx"} {
			if d == banned || strings.HasPrefix(d, banned+"/") {
				t.Errorf("internal/authz depends on %s", d)
			}
		}
	}
}
