// Command fastpath runs after gqlgen and seqlists (go generate ./graph/). It gives two of
// gqlgen's per-value steps a shorter path, for pages of records (issue 15):
//
//   - Every field that gqlgen reads straight from a record (a struct field or a method without
//     arguments, a scalar or an enum, no resolver) is first asked of graph's scalarField. For
//     each such value of each record gqlgen builds a field context, a context value and four
//     closures (graphql.ResolveField) only to run the authorization hook and read the field:
//     most of the allocations of a page of 1,000 persons. scalarField asks authz.ScalarField,
//     the hook's own decision, with the record itself; where only the hook can decide, gqlgen's
//     code runs as generated.
//   - Every object is written by graph's marshalObject instead of graphql.FieldSet's MarshalGQL,
//     which copies each field to the heap and keeps a map of the names it wrote, and starts an
//     @defer group (graph's deferredGroup) only when one of its fields is deferred.
//
// It fails when generated.go does not look as expected, so that a gqlgen upgrade cannot silently
// undo it, and a second run changes nothing.
package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

var (
	// fieldFuncRe is gqlgen's function for a field read from a struct field or a method without
	// arguments (not a resolver) with no directives: its middleware chain is nil.
	fieldFuncRe = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(?P<object>[A-Za-z0-9]+)_(?P<field>\w+)\(ctx context\.Context, field graphql\.CollectedField, obj (?P<objtype>\*[\w.]+)\) \(ret graphql\.Marshaler\) \{\n` +
		`\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
		`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.fieldContext_(?P<fcobject>[A-Za-z0-9]+)_(?P<fcfield>\w+)\(ctx, field\)\n\t\t\},\n` +
		`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn obj\.(?P<member>[A-Z]\w*(?:\(\))?), nil\n\t\t\},\n` +
		`\t\tnil,\n` +
		`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v (?P<vtype>\S+)\) graphql\.Marshaler \{\n\t\t\treturn (?P<marshal>ec\.marshal[^(\s]+)\(ctx, selections, v\)\n\t\t\},\n` +
		`\t\ttrue,\n\t\t(?P<nonnull>true|false),\n\t\)\n\}\n`)
	// scalarContextRe is the field context of a scalar or enum field without arguments.
	scalarContextRe = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) fieldContext_([A-Za-z0-9]+)_(\w+)\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{\n\treturn graphql\.NewScalarFieldContext\("([A-Za-z0-9]+)", field, (?:true|false), false, "\w+"\)\n\}\n`)
)

// neverNull are the Go types whose gqlgen marshalers (String, ID, Int, Boolean and enums)
// never return null.
var neverNull = map[string]bool{"string": true, "int": true, "int32": true, "int64": true, "bool": true}

const (
	marker      = "scalarField(ctx, ec.Resolvers, "
	deferredOld = "\tout := graphql.NewFieldSet(fields)\n\tdeferred := graphql.NewDeferredGroup(ctx)\n"
	deferredNew = "\tout := graphql.NewFieldSet(fields)\n\tdeferred := deferredGroup(ctx, fields)\n"
	returnOld   = "\n\treturn out\n}\n"
	returnNew   = "\n\treturn marshalObject(fields, out.Values)\n}\n"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fastpath generated.go")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "fastpath:", err)
		os.Exit(1)
	}
}

func run(generated string) error {
	src, err := os.ReadFile(generated)
	if err != nil {
		return err
	}
	text := string(src)
	if strings.Contains(text, marker) {
		return nil // rewritten already
	}
	scalar := map[string]bool{}
	for _, m := range scalarContextRe.FindAllStringSubmatch(text, -1) {
		if m[1] == m[3] {
			scalar[m[1]+"."+m[2]] = true
		}
	}
	if len(scalar) == 0 {
		return fmt.Errorf("%s has no scalar field contexts in the form this command knows (gqlgen upgraded?)", generated)
	}
	names := fieldFuncRe.SubexpNames()
	rewritten := 0
	text = fieldFuncRe.ReplaceAllStringFunc(text, func(fn string) string {
		m := fieldFuncRe.FindStringSubmatch(fn)
		g := map[string]string{}
		for i, n := range names {
			g[n] = m[i]
		}
		if g["object"] != g["fcobject"] || g["field"] != g["fcfield"] || !scalar[g["object"]+"."+g["field"]] {
			return fn // an object-valued field, or one with arguments: the hook decides
		}
		v := g["vtype"]
		if strings.HasPrefix(v, "[]") || strings.HasPrefix(v, "map[") {
			return fn // lists: gqlgen's path
		}
		if g["nonnull"] == "true" && !neverNull[v] {
			// A non-null value that its marshaler may refuse (a nil pointer, a zero time):
			// gqlgen reports it at the field's path, which only its own path has.
			return fn
		}
		rewritten++
		head, body, _ := strings.Cut(fn, "\n")
		fast := fmt.Sprintf("\tif v, done, fast := %s%q, field, obj, obj.%s); fast {\n\t\tif done != nil {\n\t\t\treturn done\n\t\t}\n\t\treturn %s(ctx, field.Selections, v)\n\t}\n",
			marker, g["object"], g["member"], g["marshal"])
		return head + "\n" + fast + body
	})
	if rewritten == 0 {
		return fmt.Errorf("%s has no scalar struct field in the form this command knows (gqlgen upgraded?)", generated)
	}
	objects := strings.Count(text, deferredOld)
	if objects == 0 || strings.Count(text, "graphql.NewDeferredGroup(") != objects ||
		strings.Count(text, "graphql.NewFieldSet(fields)") != objects || strings.Count(text, returnOld) != objects {
		return fmt.Errorf("%s marshals objects in a form this command does not know (gqlgen upgraded?)", generated)
	}
	text = strings.ReplaceAll(text, deferredOld, deferredNew)
	text = strings.ReplaceAll(text, returnOld, returnNew)
	return os.WriteFile(generated, []byte(text), 0o644)
}
