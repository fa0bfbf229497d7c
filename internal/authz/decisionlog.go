package authz

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// DecisionPath names the field decisions in the log as OPA names a query's path; RowsPath the
// row filters (which tenants' rows of a type a request read or wrote, and the rule that said so).
const (
	DecisionPath = "wvsoft/authz/decision"
	RowsPath     = "wvsoft/authz/rows"
)

// erasedSubjectID is the part of the input that never reaches the decision log, in OPA's mask
// convention (a JSON pointer below /input, listed in the event's "erased"). The input holds no
// field values, only types, categories, roles and ids; the caller's own id identifies a person
// and is erased: the request id ties an event to the request, whose caller only the server's
// own log knows. No rule reads it, so a replay decides the same without it.
const erasedSubjectID = "/input/subject/id"

// DecisionEvent is one distinct decision of a request in the shape of OPA's decision-log events:
// decision_id, path, input, result, revision, timestamp, labels and erased mean what they mean
// in OPA. request_id, operation, count and records are this server's: which request, which
// GraphQL operation, how many values the decision was applied to, and which records of the type
// the request returned (global ids, never values).
type DecisionEvent struct {
	DecisionID string            `json:"decision_id"`
	Path       string            `json:"path"`
	Input      map[string]any    `json:"input"`
	Result     Decision          `json:"result"`
	Revision   string            `json:"revision"`
	Timestamp  time.Time         `json:"timestamp"`
	Labels     map[string]string `json:"labels"`
	Erased     []string          `json:"erased,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	Operation  string            `json:"operation,omitempty"`
	Count      int64             `json:"count"`
	Records    *RecordsNote      `json:"records,omitempty"`
	// inputJSON is Input as encoded once for every request that applied the decision in the
	// same second (compiled.loggedInput); an event made by DecisionEvents has it instead of Input.
	inputJSON json.RawMessage
}

// MarshalJSON writes the event as its fields say, the input from inputJSON when it has one:
// spliced in as it is, not validated and compacted again (it is encoding/json's own output).
// The rest is written by hand as encoding/json writes it (a test compares the two): a request
// logs an event per distinct decision, and reflection over each of them was a tenth of a small
// request's CPU. The input comes last.
func (e DecisionEvent) MarshalJSON() ([]byte, error) {
	return e.appendJSON(make([]byte, 0, 512+len(e.inputJSON)))
}

func (e DecisionEvent) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"decision_id":`...)
	b = appendJSONString(b, e.DecisionID)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.Path)
	b = append(b, `,"result":{"effect":`...)
	b = appendJSONString(b, e.Result.Effect)
	for _, f := range [...]struct{ name, value string }{{`,"mask":`, e.Result.Mask}, {`,"reason":`, e.Result.Reason},
		{`,"rule":`, e.Result.Rule}, {`,"grant":`, e.Result.Grant}} {
		if f.value != "" {
			b = appendJSONString(append(b, f.name...), f.value)
		}
	}
	b = append(b, `},"revision":`...)
	b = appendJSONString(b, e.Revision)
	b = append(b, `,"timestamp":`...)
	if y := e.Timestamp.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("decision event: timestamp year %d outside [0,9999]", y)
	}
	b = append(e.Timestamp.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
	b = append(b, `,"labels":`...)
	if e.Labels == nil {
		b = append(b, "null"...)
	} else {
		keys := make([]string, 0, len(e.Labels))
		for k := range e.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(append(appendJSONString(b, k), ':'), e.Labels[k])
		}
		b = append(b, '}')
	}
	if len(e.Erased) > 0 {
		b = appendJSONStrings(append(b, `,"erased":`...), e.Erased)
	}
	if e.RequestID != "" {
		b = appendJSONString(append(b, `,"request_id":`...), e.RequestID)
	}
	if e.Operation != "" {
		b = appendJSONString(append(b, `,"operation":`...), e.Operation)
	}
	b = strconv.AppendInt(append(b, `,"count":`...), e.Count, 10)
	if e.Records != nil {
		b = strconv.AppendInt(append(b, `,"records":{"count":`...), int64(e.Records.Count), 10)
		b = append(b, `,"ids":`...)
		if e.Records.IDs == nil {
			b = append(b, "null"...)
		} else {
			b = appendJSONStrings(b, e.Records.IDs)
		}
		b = append(b, '}')
	}
	b = append(b, `,"input":`...)
	if e.inputJSON != nil {
		b = append(b, e.inputJSON...)
	} else {
		var in []byte
		if in, err = json.Marshal(e.Input); err != nil {
			return nil, err
		}
		b = append(b, in...)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s quoted as encoding/json quotes it: plain printable ASCII as it
// is, anything else (escapes, HTML's <, > and &, any byte beyond ASCII) through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

func appendJSONStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// RecordsNote says which records of a type a request returned: all of them counted, the first
// maxLoggedRecords named.
type RecordsNote struct {
	Count int      `json:"count"`
	IDs   []string `json:"ids"`
}

// maxLoggedRecords bounds the record ids of one event; the count is always whole.
const maxLoggedRecords = 100

// DecisionEvents are the request's distinct applied decisions as decision-log events, one per
// (type, field, action, tenant and record class). The records a request returned go with the
// first event of their type.
func (r *Request) DecisionEvents(requestID, operation string, labels map[string]string, at time.Time) []DecisionEvent {
	seen := map[*FieldDecision]bool{}
	var list []*FieldDecision
	r.decisions.each(func(_ fieldKey, d *FieldDecision) {
		if !seen[d] && d.count.load() > 0 {
			seen[d] = true
			list = append(list, d)
		}
	})
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		return a.field+a.action < b.field+b.action
	})
	r.accessMu.Lock()
	records := make(map[string][]uuid.UUID, len(r.records))
	for k, v := range r.records {
		records[k] = v
	}
	r.accessMu.Unlock()
	out := make([]DecisionEvent, 0, len(list))
	for _, d := range list {
		ev := DecisionEvent{DecisionID: uuid.NewString(), Path: DecisionPath, Result: d.Decision,
			Revision: r.policy.revision, Timestamp: at, Labels: labels, Erased: []string{erasedSubjectID}, RequestID: requestID,
			Operation: operation, Count: d.count.load()}
		if ev.inputJSON = r.policy.loggedInput(d.input); ev.inputJSON == nil {
			input := d.input.value()
			if s, ok := input["subject"].(map[string]any); ok {
				delete(s, "id")
			}
			ev.Input = input
		}
		if ids, ok := records[d.typ]; ok {
			shown := ids[:min(len(ids), maxLoggedRecords)]
			note := &RecordsNote{Count: len(ids), IDs: make([]string, len(shown))}
			for i, id := range shown {
				note.IDs[i] = wvsoft.GlobalID(d.typ, id)
			}
			ev.Records = note
			delete(records, d.typ)
		}
		out = append(out, ev)
	}
	return append(out, r.rowEvents(requestID, operation, labels, at)...)
}

// rowEvents are the request's row filters as decision-log events (RowsPath): for each type and
// action the store asked about, the tenants' rows it let through, as an allow (some rows) or a
// deny (none), with the rule of the policy's branch.
func (r *Request) rowEvents(requestID, operation string, labels map[string]string, at time.Time) []DecisionEvent {
	type row struct {
		k filterKey
		f wvsoft.TenantFilter
	}
	var rows []row
	r.filters.each(func(k filterKey, f wvsoft.TenantFilter) { rows = append(rows, row{k, f}) })
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].k.typ+" "+rows[i].k.action < rows[j].k.typ+" "+rows[j].k.action
	})
	out := make([]DecisionEvent, 0, len(rows))
	for _, rw := range rows {
		input := Input{Subject: r.subject, Action: rw.k.action, Resource: Resource{Type: rw.k.typ}, Time: r.now}.value()
		if s, ok := input["subject"].(map[string]any); ok {
			delete(s, "id")
		}
		result := Decision{Effect: Deny, Rule: rw.f.Rule}
		if rw.f.All || len(rw.f.Tenants) > 0 {
			result.Effect = Allow
		}
		out = append(out, DecisionEvent{DecisionID: uuid.NewString(), Path: RowsPath, Input: input, Result: result,
			Revision: r.policy.revision, Timestamp: at, Labels: labels, Erased: []string{erasedSubjectID}, RequestID: requestID,
			Operation: operation, Count: 1})
	}
	return out
}

// DecisionSink receives batches of events; it is called from one goroutine at a time.
type DecisionSink interface {
	Write(ctx context.Context, events []DecisionEvent) error
}

// JSONLines writes one event per line: the form `opa` and `jq` read, and what `wvsoft policy
// impact --log` replays.
type JSONLines struct{ W io.Writer }

func (j JSONLines) Write(_ context.Context, events []DecisionEvent) error {
	var buf bytes.Buffer
	for _, e := range events {
		// MarshalJSON directly: an Encoder would validate and compact its output once more.
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	_, err := j.W.Write(buf.Bytes())
	return err
}

// HTTPUpload posts batches as OPA's decision-log plugin does: a gzipped JSON array of events,
// POST with Content-Encoding: gzip, so that a service that takes OPA's uploads takes these.
type HTTPUpload struct {
	URL    string
	Client *http.Client
}

func (h HTTPUpload) Write(ctx context.Context, events []DecisionEvent) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(events); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, &buf)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("decision log upload: %s", resp.Status)
	}
	return nil
}

// DecisionLog buffers events and hands them to a sink in batches, from a goroutine of its own,
// so that a request never waits for the log. The buffer is bounded: when it is full, events are
// dropped and counted (Dropped), never queued without end.
type DecisionLog struct {
	sink     DecisionSink
	labels   map[string]string
	logger   *slog.Logger
	buffer   chan DecisionEvent
	batch    int
	interval time.Duration

	dropped atomic.Int64
	failed  atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// DecisionLogOption configures a DecisionLog.
type DecisionLogOption func(*DecisionLog)

// WithBuffer sets how many events wait at most (default 10,000).
func WithBuffer(n int) DecisionLogOption {
	return func(l *DecisionLog) { l.buffer = make(chan DecisionEvent, n) }
}

// WithBatch sets the largest batch and how long a partial batch waits (default 500, 1 s).
func WithBatch(n int, every time.Duration) DecisionLogOption {
	return func(l *DecisionLog) { l.batch, l.interval = n, every }
}

// WithLabels sets the events' labels (OPA's labels: the server's id and version).
func WithLabels(labels map[string]string) DecisionLogOption {
	return func(l *DecisionLog) { l.labels = labels }
}

// WithDecisionLogLogger sets where failures of the sink are reported.
func WithDecisionLogLogger(logger *slog.Logger) DecisionLogOption {
	return func(l *DecisionLog) { l.logger = logger }
}

// NewDecisionLog starts a decision log writing to sink; Close flushes and stops it.
func NewDecisionLog(sink DecisionSink, opts ...DecisionLogOption) *DecisionLog {
	l := &DecisionLog{sink: sink, buffer: make(chan DecisionEvent, 10_000), batch: 500, interval: time.Second,
		logger: slog.New(slog.DiscardHandler), stop: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	go l.run()
	return l
}

// Labels are the labels the log's events carry.
func (l *DecisionLog) Labels() map[string]string { return l.labels }

// Enqueue hands events to the log without waiting; what does not fit is dropped and counted.
func (l *DecisionLog) Enqueue(events []DecisionEvent) {
	for i, e := range events {
		select {
		case l.buffer <- e:
		default:
			l.dropped.Add(int64(len(events) - i))
			return
		}
	}
}

// Dropped is how many events the full buffer refused; Failed how many a failing sink lost.
func (l *DecisionLog) Dropped() int64 { return l.dropped.Load() }

// Failed is how many events were lost because the sink failed.
func (l *DecisionLog) Failed() int64 { return l.failed.Load() }

// Close writes what is buffered and stops the log's goroutine.
func (l *DecisionLog) Close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

func (l *DecisionLog) run() {
	defer close(l.done)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	batch := make([]DecisionEvent, 0, l.batch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := l.sink.Write(ctx, batch); err != nil {
			l.failed.Add(int64(len(batch)))
			l.logger.Error("decision log: a batch was lost", "events", len(batch), "error", err.Error())
		}
		cancel()
		batch = batch[:0]
	}
	add := func(e DecisionEvent) {
		if batch = append(batch, e); len(batch) >= l.batch {
			flush()
		}
	}
	for {
		select {
		case e := <-l.buffer:
			add(e)
		case <-tick.C:
			flush()
		case <-l.stop:
			for { // what is buffered still goes out
				select {
				case e := <-l.buffer:
					add(e)
				default:
					flush()
					return
				}
			}
		}
	}
}
