package authz

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// The logged inputs live as long as the cache's second: a new second holds only its own, with
// its own time, however many seconds the server has run.
func TestLoggedInputsAreOfTheirSecond(t *testing.T) {
	e, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := e.current.Load()
	tenant := uuid.New()
	subject := &wvsoft.Subject{Kind: wvsoft.KindUser, ID: uuid.New(), TenantID: tenant, Role: "MEMBER"}
	start := time.Unix(1_800_000_000, 0)
	for sec := range 5 {
		at := start.Add(time.Duration(sec) * time.Second)
		for _, field := range []string{"name", "iban", "bsn"} {
			in := Input{Subject: subject, Action: ActionRead, Time: at,
				Resource: Resource{Type: "Person", Field: field, TenantID: tenant}}
			var got struct {
				Context struct {
					TimeNS int64 `json:"time_ns"`
				} `json:"context"`
			}
			if err := json.Unmarshal(c.loggedInput(in), &got); err != nil {
				t.Fatal(err)
			}
			if got.Context.TimeNS != at.UnixNano() {
				t.Fatalf("second %d, field %s: the logged input says time_ns %d, want %d", sec, field, got.Context.TimeNS, at.UnixNano())
			}
		}
		if n := len(c.cache.inputs); n != 3 {
			t.Fatalf("second %d: %d logged inputs kept, want this second's 3", sec, n)
		}
	}
}
