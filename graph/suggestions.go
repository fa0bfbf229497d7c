package graph

import (
	"regexp"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// schemaHiding keeps the messages of refused documents from telling what turning introspection
// off hides (production): no rule suggests a name ("Did you mean ...?": fields, arguments, input
// fields, enum values, types), and no message names one of the schema's own types; each is shown
// as its kind (INPUT_OBJECT, ENUM, ...). The built-in scalars and the root types stay: they are
// no secret, and a caller needs them to read the message.
type schemaHiding struct {
	kinds map[string]string
}

func newSchemaHiding(schema *ast.Schema) *schemaHiding {
	h := &schemaHiding{kinds: map[string]string{}}
	roots := map[*ast.Definition]bool{schema.Query: true, schema.Mutation: true, schema.Subscription: true}
	for name, def := range schema.Types {
		if def.BuiltIn || roots[def] || strings.HasPrefix(name, "__") {
			continue
		}
		h.kinds[name] = string(def.Kind)
	}
	return h
}

// rules are gqlparser's validation rules with every suggestion dropped. gqlgen swaps its own
// suggestion-free FieldsOnCorrectType and ScalarLeafs in after these (SetDisableSuggestion);
// this covers the others: KnownArgumentNames, ValuesOfCorrectType (input fields, enum values),
// KnownTypeNames, and whatever a later gqlparser suggests with.
func (h *schemaHiding) rules() *rules.Rules {
	r := rules.NewDefaultRules()
	inner := r.GetInner()
	names := make([]string, 0, len(inner))
	for name := range inner {
		names = append(names, name)
	}
	for _, name := range names {
		r.ReplaceRule(name, withoutSuggestions(inner[name]))
	}
	return r
}

// withoutSuggestions drops the options of an error that only add a suggestion: every
// suggestion helper of gqlparser (SuggestListQuoted, SuggestListUnquoted, Suggestf) is an
// option of its own that appends " ... Did you mean ...?" to the message.
func withoutSuggestions(rule core.RuleFunc) core.RuleFunc {
	return func(observers *core.Events, addError core.AddErrFunc) {
		rule(observers, func(options ...core.ErrorOption) {
			kept := make([]core.ErrorOption, 0, len(options))
			for _, o := range options {
				var probe gqlerror.Error
				o(&probe)
				if s := strings.TrimSpace(probe.Message); s != "" && strings.Contains(s, "Did you mean") &&
					strings.HasPrefix(probe.Message, " ") {
					continue
				}
				kept = append(kept, o)
			}
			addError(kept...)
		})
	}
}

var graphQLName = regexp.MustCompile(`[_A-Za-z][_0-9A-Za-z]*`)

// redact replaces the schema's type names in a refused document's message by their kinds
// ("Expected value of type \"INPUT_OBJECT!\"", "X is not a valid ENUM"), which covers the
// variables' messages too (gqlparser's validator.VariableValues, not a rule).
func (h *schemaHiding) redact(err *gqlerror.Error) {
	err.Message = graphQLName.ReplaceAllStringFunc(err.Message, func(name string) string {
		if kind, ok := h.kinds[name]; ok {
			return kind
		}
		return name
	})
}
