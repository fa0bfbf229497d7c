package authz

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/wvsoft/privacy/internal/wvsoft"
)

// Effects of a decision.
const (
	Allow = "allow"
	Deny  = "deny"
	Mask  = "mask"
)

// Actions a subject takes.
const (
	ActionRead  = "read"
	ActionWrite = "write"
)

// Decision is the policy's answer about one field.
type Decision struct {
	Effect string `json:"effect"`
	// Mask names the masking of a masked field (see masker).
	Mask   string `json:"mask,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Rule is the stable id of the policy rule that decided (policy/README.md lists them).
	Rule string `json:"rule,omitempty"`
	// Grant is the support-access grant an allow rests on; the access log records the read.
	Grant string `json:"grant,omitempty"`
}

// Resource is the object and field a decision is about.
type Resource struct {
	Type     string    `json:"type"`
	Field    string    `json:"field,omitempty"`
	Category string    `json:"category,omitempty"`
	Purposes []string  `json:"purposes,omitempty"`
	TenantID uuid.UUID `json:"-"`
	// State is the record's privacy state (input.resource.record).
	State wvsoft.RecordState `json:"-"`
}

// Input is the policy input, documented for policy authors in policy/README.md.
type Input struct {
	Subject  *wvsoft.Subject
	Action   string
	Resource Resource
	Time     time.Time
}

// value builds the input document the Rego reads.
func (in Input) value() map[string]any {
	s := in.Subject
	subject := map[string]any{
		"kind": s.Kind, "id": s.ID.String(), "role": s.Role,
		"can_write": s.CanWrite, "special_categories": s.SpecialCategories,
	}
	if s.TenantID != uuid.Nil {
		subject["tenant_id"] = s.TenantID.String()
	}
	if s.DeclarationExpiresAt != nil {
		subject["declaration_expires_at"] = s.DeclarationExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	resource := map[string]any{"type": in.Resource.Type}
	if in.Resource.Field != "" {
		resource["field"] = in.Resource.Field
	}
	if in.Resource.Category != "" {
		resource["category"] = in.Resource.Category
		purposes := make([]any, len(in.Resource.Purposes))
		for i, p := range in.Resource.Purposes {
			purposes[i] = p
		}
		resource["purposes"] = purposes
	}
	if in.Resource.TenantID != uuid.Nil {
		resource["tenant_id"] = in.Resource.TenantID.String()
	}
	resource["record"] = recordValue(in.Resource.State)
	grants := make([]any, len(s.Grants))
	for i, g := range s.Grants {
		types := make([]any, len(g.Types))
		for j, t := range g.Types {
			types[j] = t
		}
		grants[i] = map[string]any{"id": g.ID.String(), "tenant_id": g.TenantID.String(), "types": types,
			"special": g.Special, "write": g.Write, "expires_at": g.ExpiresAt.UTC().Format(time.RFC3339Nano)}
	}
	return map[string]any{
		"subject":  subject,
		"action":   in.Action,
		"resource": resource,
		"context":  map[string]any{"time_ns": in.Time.UnixNano(), "grants": grants},
	}
}

// recordValue is the record state as the policy reads it (input.resource.record): one member per
// field of wvsoft.RecordState, named by its policy tag, with its name where it is a number with
// names (fmt.Stringer). Only cache misses build it.
func recordValue(s wvsoft.RecordState) map[string]any {
	v := reflect.ValueOf(s)
	t := v.Type()
	out := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("policy"); name != "" {
			value := v.Field(i).Interface()
			if named, ok := value.(fmt.Stringer); ok {
				value = named.String()
			}
			out[name] = value
		}
	}
	return out
}

// denyOnError is what any evaluation problem decides: the field is denied.
func denyOnError(reason string) Decision {
	return Decision{Effect: Deny, Reason: reason, Rule: "server.policy_error"}
}

// Decide is the one place where a field decision is evaluated. An undefined result, an
// unknown effect or an evaluation error denies.
func (e *Engine) Decide(ctx context.Context, in Input) Decision {
	return e.current.Load().decide(ctx, in)
}

func (c *compiled) decide(ctx context.Context, in Input) Decision {
	rs, err := c.decision.Eval(ctx, rego.EvalInput(in.value()))
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return denyOnError("policy evaluation failed")
	}
	return decisionOf(rs[0].Expressions[0].Value)
}

// decisionOf reads the policy's answer; anything but a well-formed allow, mask or deny denies.
func decisionOf(value any) Decision {
	obj, ok := value.(map[string]any)
	if !ok {
		return denyOnError("policy returned no decision object")
	}
	d := Decision{}
	d.Effect, _ = obj["effect"].(string)
	d.Mask, _ = obj["mask"].(string)
	d.Reason, _ = obj["reason"].(string)
	d.Grant, _ = obj["grant"].(string)
	d.Rule, _ = obj["rule"].(string)
	switch d.Effect {
	case Allow:
		return d
	case Mask:
		if _, known := masker(d.Mask); known {
			return d
		}
		return denyOnError(fmt.Sprintf("unknown mask %q", d.Mask))
	case Deny:
		return d
	}
	return denyOnError("policy returned an unknown effect")
}

// Rows evaluates which tenants' rows of a type the subject reaches for an action.
func (e *Engine) Rows(ctx context.Context, in Input) (wvsoft.TenantFilter, error) {
	return e.current.Load().rowsFor(ctx, in)
}

func (c *compiled) rowsFor(ctx context.Context, in Input) (wvsoft.TenantFilter, error) {
	rs, err := c.rows.Eval(ctx, rego.EvalInput(in.value()))
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EFORBIDDEN, "no access (policy evaluation failed)")
	}
	obj, _ := rs[0].Expressions[0].Value.(map[string]any)
	f, err := filterOf(obj)
	f.Rule, _ = obj["rule"].(string)
	return f, err
}

// filterOf reads a rows answer: {"all": true} or {"tenants": [...]}, with an optional condition
// on the rows' record state ("data_of") and a refusal ("refusal") to tell the caller.
func filterOf(obj map[string]any) (wvsoft.TenantFilter, error) {
	if refusal, _ := obj["refusal"].(string); refusal != "" {
		return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EFORBIDDEN, "%s", refusal)
	}
	var dataOf []wvsoft.DataOf
	if raw, present := obj["data_of"]; present {
		if _, ok := raw.([]any); !ok {
			return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EFORBIDDEN, "no access (policy returned a data_of that is not a list)")
		}
	}
	if names, ok := obj["data_of"].([]any); ok {
		for _, n := range names {
			s, _ := n.(string)
			d, ok := wvsoft.ParseDataOf(s)
			if !ok {
				return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EFORBIDDEN, "no access (policy returned an unknown data_of)")
			}
			dataOf = append(dataOf, d)
		}
		if len(dataOf) == 0 {
			// A condition that lets nothing through, not none at all.
			return wvsoft.TenantFilter{}, nil
		}
	}
	if all, _ := obj["all"].(bool); all {
		return wvsoft.TenantFilter{All: true, DataOf: dataOf}, nil
	}
	list, _ := obj["tenants"].([]any)
	f := wvsoft.TenantFilter{Tenants: make([]uuid.UUID, 0, len(list)), DataOf: dataOf}
	for _, t := range list {
		s, _ := t.(string)
		id, err := uuid.Parse(s)
		if err != nil {
			return wvsoft.TenantFilter{}, wvsoft.Errorf(wvsoft.EFORBIDDEN, "no access (policy returned a bad tenant)")
		}
		f.Tenants = append(f.Tenants, id)
	}
	return f, nil
}

// DecideInput evaluates the decision for an input document as the decision log recorded it
// (an event's input), for replaying recorded traffic against a policy (`wvsoft policy impact`).
// Like Decide, anything but a well-formed answer denies.
func (e *Engine) DecideInput(ctx context.Context, input map[string]any) Decision {
	c := e.current.Load()
	rs, err := c.decision.Eval(ctx, rego.EvalInput(input))
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return denyOnError("policy evaluation failed")
	}
	return decisionOf(rs[0].Expressions[0].Value)
}
