// Command codegen is the generation of graph (go generate ./graph/, make generate): first what
// the schema's declarations drive (declare.go: the records of @table types, the service's inputs
// and their checks, the Go table of every field's declaration, the policy tests' copy of the
// schema and the policy README's tables), then gqlgen's generate from gqlgen.yml and
// schema.graphql, then three rewrites of graph/generated.go that give gqlgen's per-value steps a
// shorter path for pages of records, and graph/lists_gen.go.
//
//   - Every field read straight from a record (a struct field or a method without arguments, a
//     scalar or an enum, no resolver) is first asked of graph's scalarField. For each such value
//     of each record gqlgen builds a field context, a context value and four closures
//     (graphql.ResolveField) only to run the authorization hook and read the field: most of the
//     allocations of a page of 1,000 persons. scalarField asks graph's scalarDecision, the hook's own
//     decision, with the record itself; where only the hook can decide, gqlgen's code runs as
//     generated.
//   - Every object is written by graph's marshalObject instead of graphql.FieldSet's MarshalGQL,
//     which copies each field to the heap and keeps a map of the names it wrote, and starts an
//     @defer group (graph's deferredGroup) only when one of its fields is deferred.
//   - Every list that gqlgen marshals with a goroutine per element
//     (graphql.MarshalSliceConcurrently) calls graph's marshalList, which keeps that only when
//     the elements' selection reaches a field resolved concurrently (a resolver, which a
//     dataloader batches across the elements); lists_gen.go lists those fields.
//
// Which functions are rewritten, and what each reads and marshals, comes from gqlgen's own data
// (a plugin receives it); the rewrite works on the syntax tree of generated.go and fails, naming
// each function, when gqlgen's code does not have the shape it rewrites, so that a gqlgen
// upgrade cannot silently undo it.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/99designs/gqlgen/api"
	gqlcodegen "github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

func main() {
	if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: codegen (in the module, which has gqlgen.yml)")
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "codegen:", err)
		os.Exit(1)
	}
}

// dataPlugin is a gqlgen plugin that keeps the data gqlgen generates the code from.
type dataPlugin struct {
	data *gqlcodegen.Data
}

func (*dataPlugin) Name() string { return "wvsoft-codegen" }

func (p *dataPlugin) GenerateCode(d *gqlcodegen.Data) error {
	p.data = d
	return nil
}

func run() error {
	// As gqlgen generate: its log is what it would show with --verbose only.
	log.SetOutput(io.Discard)
	// In the directory of gqlgen.yml, as gqlgen generate.
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		return err
	}
	return generate(cfg)
}

// generate runs gqlgen, rewrites its generated.go, writes lists_gen.go next to it and builds
// the package.
func generate(cfg *config.Config) error {
	// gqlgen would build the packages before the rewrite; they are built once, after it.
	validate := !cfg.SkipValidation
	cfg.SkipValidation = true
	// The Go types gqlgen binds to come first: the records and inputs the schema declares.
	if err := cfg.LoadSchema(); err != nil {
		return err
	}
	if cfg.Schema.Directives["table"] != nil { // a schema that declares records
		if err := declare(cfg.Schema, "."); err != nil {
			return err
		}
	}
	p, err := gqlgen(cfg)
	if err != nil {
		return err
	}
	generated := cfg.Exec.Filename
	src, err := os.ReadFile(generated)
	if err != nil {
		return err
	}
	out, err := rewrite(src, p)
	if err != nil {
		return err
	}
	lists, err := listsSource(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(generated, out, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(generated), "lists_gen.go"), lists, 0o644); err != nil {
		return err
	}
	if !validate {
		return nil
	}
	// As gqlgen's validation: the package and those below it (the models).
	build := exec.Command("go", "build", "./...")
	build.Dir = cfg.Exec.Dir()
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("the generated code does not build: %w", err)
	}
	return nil
}

// gqlgen runs gqlgen's generate and returns the plan of the rewrite from gqlgen's data.
func gqlgen(cfg *config.Config) (*plan, error) {
	keep := &dataPlugin{}
	if err := api.Generate(cfg, api.AddPlugin(keep)); err != nil {
		return nil, err
	}
	if keep.data == nil {
		return nil, errors.New("gqlgen gave its plugins no data")
	}
	return planOf(keep.data)
}
