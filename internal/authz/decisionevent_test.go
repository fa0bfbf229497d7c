package authz

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// An event written by hand reads as encoding/json writes it, whatever its strings hold.
func TestDecisionEventWritesAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 16, 30, 1, 123456789, time.FixedZone("CET", 3600))
	odd := "a \"quoted\" \\ <b>&amp; tab\t nl\n \x01 é ☃ \u2028 \xff"
	input := json.RawMessage(`{"resource":{"type":"Person","field":"bsn"},"subject":{"roles":["member"]}}`)
	events := []DecisionEvent{
		{DecisionID: "d1", Path: DecisionPath, Result: Decision{Effect: "allow"}, Revision: "r1", Timestamp: at,
			Labels: map[string]string{"id": "srv", "version": "1"}, Erased: []string{erasedSubjectID}, RequestID: "req",
			Operation: "Persons", Count: 1000, inputJSON: input},
		{DecisionID: odd, Path: odd, Result: Decision{Effect: odd, Mask: odd, Reason: odd, Rule: odd, Grant: odd},
			Revision: odd, Timestamp: at.UTC(), Labels: map[string]string{odd: odd, "b": "", "a": "x"}, Erased: []string{odd, ""},
			RequestID: odd, Operation: odd, Count: -3, Records: &RecordsNote{Count: 2, IDs: []string{"UGVyc29uOjE=", odd}},
			inputJSON: input},
		{DecisionID: "d3", Path: RowsPath, Result: Decision{Effect: "deny", Reason: "no grant"}, Timestamp: time.Time{},
			Records: &RecordsNote{}, Input: map[string]any{"subject": map[string]any{"roles": []any{"director"}}, "n": 1.5}},
		{},
	}
	for i, e := range events {
		got, err := e.MarshalJSON()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		// What encoding/json writes of the same event (its input spliced in, as before).
		type plain DecisionEvent
		fields := map[string]any{}
		raw, err := json.Marshal(plain(e))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		if e.inputJSON != nil {
			var in any
			json.Unmarshal(e.inputJSON, &in)
			fields["input"] = in
		}
		var mine map[string]any
		if err := json.Unmarshal(got, &mine); err != nil {
			t.Fatalf("event %d is not JSON: %v\n%s", i, err, got)
		}
		if !reflect.DeepEqual(mine, fields) {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, raw)
		}
		// Every string as encoding/json escapes it, byte for byte.
		q, _ := json.Marshal(odd)
		if s := string(appendJSONString(nil, odd)); s != string(q) {
			t.Errorf("string %s, encoding/json %s", s, q)
		}
	}
	if _, err := (DecisionEvent{Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).MarshalJSON(); err == nil {
		t.Error("a timestamp encoding/json refuses was written")
	}
}
