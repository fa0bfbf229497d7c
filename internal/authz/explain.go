package authz

import (
	"fmt"
	"sort"
	"strings"
)

// Explanation is one distinct decision of a request as a policy author reads it: which field of
// which type, for reading or writing, in which class of records (the record state the policy
// saw), with which effect and by which rule, and to how many values it was applied. It names no
// record and holds no value.
type Explanation struct {
	Type     string         `json:"type"`
	Field    string         `json:"field"`
	Action   string         `json:"action"`
	Effect   string         `json:"effect"`
	Rule     string         `json:"rule"`
	Mask     string         `json:"mask,omitempty"`
	Grant    string         `json:"grant,omitempty"`
	Category string         `json:"category,omitempty"`
	Record   map[string]any `json:"record"`
	Count    int64          `json:"count"`
}

// WithPolicyAuthors names, by login e-mail address, the callers who may ask for explanations
// in production (POLICY_AUTHORS). everyone gives them to every caller: development only.
func WithPolicyAuthors(everyone bool, emails ...string) Option {
	return func(e *Engine) {
		e.explainAll = everyone
		e.authors = map[string]bool{}
		for _, m := range emails {
			if m = strings.ToLower(strings.TrimSpace(m)); m != "" {
				e.authors[m] = true
			}
		}
	}
}

// mayExplain reports whether the subject may see the decisions of its requests.
func (e *Engine) mayExplain(email *string) bool {
	if e.explainAll {
		return true
	}
	return email != nil && e.authors[strings.ToLower(*email)]
}

// MayExplain reports whether the caller may see the decisions of its requests: a policy author
// named in configuration, or anyone on a development server. Customers and integrators are not
// authors unless configuration says so.
func (r *Request) MayExplain() bool { return r.explain }

// Explain lists the request's distinct applied decisions, ordered by type, field and action, and
// the revision of the policy that made them. Decisions that differ only by the record's tenant
// are one line: an author asks which rule decided, not for whom.
func (r *Request) Explain() (revision string, list []Explanation) {
	type line struct{ typ, field, action, record, effect, rule, mask, grant string }
	index := map[line]int{}
	seen := map[*FieldDecision]bool{}
	r.decisions.each(func(_ fieldKey, d *FieldDecision) {
		n := d.count.load()
		if seen[d] || n == 0 {
			return
		}
		seen[d] = true
		record := recordValue(d.input.Resource.State)
		k := line{d.typ, d.field, d.action, fmt.Sprint(record), d.Effect, d.Rule, d.Mask, d.Grant}
		if i, ok := index[k]; ok {
			list[i].Count += n
			return
		}
		index[k] = len(list)
		list = append(list, Explanation{Type: d.typ, Field: d.field, Action: d.action, Effect: d.Effect, Rule: d.Rule,
			Mask: d.Mask, Grant: d.Grant, Category: d.category, Record: record, Count: n})
	})
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return fmt.Sprint(a.Record) < fmt.Sprint(b.Record)
	})
	return r.policy.revision, list
}
