package authz

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// personField is a field definition as schema.graphql declares it, with its @personal directive.
func personField(name, category string, purposes ...string) *ast.FieldDefinition {
	var children ast.ChildValueList
	for _, p := range purposes {
		children = append(children, &ast.ChildValue{Value: &ast.Value{Raw: p, Kind: ast.EnumValue}})
	}
	return &ast.FieldDefinition{Name: name, Directives: ast.DirectiveList{{Name: "personal", Arguments: ast.ArgumentList{
		{Name: "category", Value: &ast.Value{Raw: category, Kind: ast.EnumValue}},
		{Name: "purposes", Value: &ast.Value{Kind: ast.ListValue, Children: children}},
	}}}}
}

// A request's decisions become OPA decision-log events: one per distinct decision, with the
// input the policy saw (the caller's id erased), the result with its rule, the revision, labels,
// the request id and the records returned; and its explanation lists the same decisions.
func TestDecisionEventsInOPAShape(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tenant, key := uuid.New(), uuid.New()
	subject := &wvsoft.Subject{Kind: wvsoft.SubjectAPIKey, ID: key, TenantID: tenant, Role: wvsoft.RoleIntegratorRead}
	r := e.NewRequest(subject)
	ctx = WithRequest(ctx, r)
	bsn, name := personField("bsn", "NATIONAL_ID", "SERVICE"), personField("name", "IDENTITY", "SERVICE")
	for i := 0; i < 3; i++ {
		p := &wvsoft.Person{TenantID: tenant, UUID: uuid.New()}
		for _, def := range []*ast.FieldDefinition{bsn, name} {
			d := r.field(ctx, first(r.targetOf(wvsoft.KindPerson, def, p)), true)
			d.count.add()
		}
		NoteRecords(ctx, wvsoft.KindPerson, p.UUID)
	}
	// The rows the store asked for: an event of their own, with the branch of reach that said so.
	if f, err := r.Filter(ctx, wvsoft.KindPerson, ActionRead); err != nil || len(f.Tenants) != 1 {
		t.Fatalf("filter: %+v %v", f, err)
	}
	labels := map[string]string{"id": "server-1"}
	events := r.DecisionEvents("req-1", "Persons", labels, time.Unix(1_780_315_200, 0))
	if len(events) != 3 {
		t.Fatalf("%d events, want one per distinct decision (2) and one per row filter (1)", len(events))
	}
	if rows := events[2]; rows.Path != RowsPath || rows.Result.Rule != "reach.own" || rows.Result.Effect != Allow ||
		rows.Input["resource"].(map[string]any)["type"] != wvsoft.KindPerson {
		t.Fatalf("the row filter's event: %+v", rows)
	}
	if raw, _ := json.Marshal(events[2]); strings.Contains(string(raw), key.String()) {
		t.Fatalf("the caller's id is in the row filter's event: %s", raw)
	}
	events = events[:2]
	raw, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), key.String()) {
		t.Fatalf("the caller's id is in the log: %s", raw)
	}
	var decoded []map[string]any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	byField := map[string]map[string]any{}
	for _, ev := range decoded {
		for _, k := range []string{"decision_id", "path", "input", "result", "revision", "timestamp", "labels", "erased", "request_id", "count"} {
			if _, ok := ev[k]; !ok {
				t.Fatalf("an event without %s: %v", k, ev)
			}
		}
		res := ev["input"].(map[string]any)["resource"].(map[string]any)
		byField[res["field"].(string)] = ev
	}
	if got := byField["bsn"]["result"].(map[string]any); got["effect"] != "deny" || got["rule"] != "key.special_category" {
		t.Errorf("bsn: %v", got)
	}
	if got := byField["name"]["result"].(map[string]any); got["effect"] != "allow" || got["rule"] != "key.scope" {
		t.Errorf("name: %v", got)
	}
	first := decoded[0]
	if first["path"] != "wvsoft/authz/decision" || first["request_id"] != "req-1" || first["count"] != float64(3) ||
		first["labels"].(map[string]any)["id"] != "server-1" || first["revision"] != e.Status().Revision {
		t.Errorf("event: %v", first)
	}
	if recs, _ := first["records"].(map[string]any); recs["count"] != float64(3) {
		t.Errorf("the records of the type ride on its first event: %v", first["records"])
	}
	if _, ok := decoded[1]["records"]; ok {
		t.Errorf("the records are logged twice")
	}

	revision, explained := r.Explain()
	if revision != e.Status().Revision || len(explained) != 2 || explained[0].Field != "bsn" || explained[0].Rule != "key.special_category" ||
		explained[0].Record["data_of"] != wvsoft.DataOfDataSpace.String() || explained[1].Count != 3 {
		t.Fatalf("explanation: %s %+v", revision, explained)
	}
}

// The HTTP sink posts what OPA's decision-log plugin posts: gzipped JSON arrays, in batches.
func TestHTTPUploadInBatches(t *testing.T) {
	var mu sync.Mutex
	var batches [][]DecisionEvent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.Header.Get("Content-Encoding") != "gzip" {
			http.Error(w, "want gzipped POST", http.StatusBadRequest)
			return
		}
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var batch []DecisionEvent
		if err := json.NewDecoder(zr).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		batches = append(batches, batch)
		mu.Unlock()
	}))
	defer srv.Close()
	l := NewDecisionLog(HTTPUpload{URL: srv.URL}, WithBatch(3, time.Hour))
	for i := range 7 {
		l.Enqueue([]DecisionEvent{{DecisionID: uuid.NewString(), Path: DecisionPath, Count: int64(i)}})
	}
	l.Close()
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, b := range batches {
		if len(b) > 3 {
			t.Errorf("a batch of %d", len(b))
		}
		total += len(b)
	}
	if total != 7 || len(batches) != 3 || l.Failed() != 0 || l.Dropped() != 0 {
		t.Fatalf("%d events in %d batches, %d failed, %d dropped", total, len(batches), l.Failed(), l.Dropped())
	}
}

// A full buffer drops and counts; it never makes a request wait for the log.
func TestDecisionLogDropsWhenFull(t *testing.T) {
	release := make(chan struct{})
	var got bytes.Buffer
	sink := blockingSink{release: release, inner: JSONLines{W: &got}}
	l := NewDecisionLog(sink, WithBuffer(2), WithBatch(1, time.Hour))
	done := make(chan struct{})
	go func() {
		for range 10 {
			l.Enqueue([]DecisionEvent{{DecisionID: uuid.NewString(), Path: DecisionPath}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Enqueue waited for a stalled sink")
	}
	close(release)
	l.Close()
	written := strings.Count(got.String(), "\n")
	if l.Dropped() == 0 || int64(written)+l.Dropped() != 10 {
		t.Fatalf("%d written, %d dropped, want 10 in all with some dropped", written, l.Dropped())
	}
}

type blockingSink struct {
	release chan struct{}
	inner   DecisionSink
}

func (b blockingSink) Write(ctx context.Context, events []DecisionEvent) error {
	<-b.release
	return b.inner.Write(ctx, events)
}

// BenchmarkFieldHit is the hook's cost per field once a decision is made: the record's tenant
// and state, the per-request map lookup and the count (what W1 pays 15,000 times a request).
func BenchmarkFieldHit(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx)
	if err != nil {
		b.Fatal(err)
	}
	tenant := uuid.New()
	r := e.NewRequest(&wvsoft.Subject{Kind: wvsoft.SubjectUser, ID: uuid.New(), TenantID: tenant, Role: wvsoft.RoleMember, CanWrite: true, SpecialCategories: true})
	ctx = WithRequest(ctx, r)
	def := personField("name", "IDENTITY", "SERVICE")
	p := &wvsoft.Person{TenantID: tenant, UUID: uuid.New()}
	r.field(ctx, first(r.targetOf(wvsoft.KindPerson, def, p)), true)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := r.field(ctx, first(r.targetOf(wvsoft.KindPerson, def, p)), true)
			d.count.add()
		}
	})
}

func BenchmarkFieldHitSerial(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx)
	if err != nil {
		b.Fatal(err)
	}
	tenant := uuid.New()
	r := e.NewRequest(&wvsoft.Subject{Kind: wvsoft.SubjectUser, ID: uuid.New(), TenantID: tenant, Role: wvsoft.RoleMember, CanWrite: true, SpecialCategories: true})
	ctx = WithRequest(ctx, r)
	def := personField("name", "IDENTITY", "SERVICE")
	p := &wvsoft.Person{TenantID: tenant, UUID: uuid.New()}
	r.field(ctx, first(r.targetOf(wvsoft.KindPerson, def, p)), true)
	b.ReportAllocs()
	for b.Loop() {
		d := r.field(ctx, first(r.targetOf(wvsoft.KindPerson, def, p)), true)
		d.count.add()
	}
}

// first is a target without its class.
func first(t target, _ *recordClass) target { return t }
