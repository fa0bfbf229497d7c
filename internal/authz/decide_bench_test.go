package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/wvsoft/privacy/internal/authz"
)

// BenchmarkDecide is the cost of one full policy evaluation: what a cache miss costs, and what
// the naive hook pays for every field.
func BenchmarkDecide(b *testing.B) {
	e, err := authz.New(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	s := member()
	in := authz.Input{Subject: s, Action: authz.ActionRead, Time: time.Now(),
		Resource: authz.Resource{Type: "Person", Field: "bsn", Category: "NATIONAL_ID", Purposes: []string{"SERVICE"}, TenantID: s.TenantID}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if d := e.Decide(context.Background(), in); d.Effect != authz.Allow {
			b.Fatal(d)
		}
	}
}
