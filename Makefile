# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
ENSURE_PG := internal/devdb/ensure-postgres.sh
OPA := $(GO) tool opa

.PHONY: run test test-long fuzz test-go test-rego build generate playground bench lint clean

build:
	$(GO) build -o bin/wvsoft ./cmd/wvsoft

## run: find or start PostgreSQL, migrate, seed the demo data and serve on 127.0.0.1:8080.
run: build
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	./bin/wvsoft seed; \
	echo; echo "Demo tokens (valid 12 hours), paste as  Authorization: Bearer <token>"; \
	for who in admin@bakkerij-de-vries.example member@bakkerij-de-vries.example \
	           admin@jansen-installatie.example member@jansen-installatie.example \
	           director@wvsoft.example support@wvsoft.example billing@wvsoft.example accountant@wvsoft.example; do \
	  echo "  $$who"; echo "    $$(./bin/wvsoft token $$who)"; done; echo; \
	exec ./bin/wvsoft serve

## test: every test, Go and Rego, against a real PostgreSQL.
test:
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	psql "$$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $${WVSOFT_TEST_TEMPLATE:-wvsoft_test_template} WITH (FORCE)" >/dev/null; \
	$(GO) vet ./...; \
	$(OPA) fmt --fail --list policy/; $(OPA) check --strict policy/; $(OPA) test policy/; \
	$(GO) test -count=1 ./...

## fuzz: each fuzz target for FUZZTIME (default 30s); what it finds lands in testdata/fuzz/ and
## then runs with every `make test`.
FUZZTIME ?= 30s
fuzz:
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	$(GO) test -run '^$$' -fuzz '^FuzzParseGlobalID$$' -fuzztime $(FUZZTIME) ./internal/wvsoft/; \
	$(GO) test -run '^$$' -fuzz '^FuzzValidators$$' -fuzztime $(FUZZTIME) ./internal/validate/; \
	$(GO) test -run '^$$' -fuzz '^FuzzGraphQLHandler$$' -fuzztime $(FUZZTIME) ./graph/

## test-long: the large runs: the cross-tenant leak search to depth 5 with every harvested id.
test-long:
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	WVSOFT_LEAK_SEARCH=long $(GO) test -count=1 -timeout 60m -run '^TestCrossTenantLeakSearch$$' -v ./graph/

## bench: the authorization benchmarks (see BENCHMARKS.md).
bench:
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	$(GO) test -run '^$$' -bench . -benchmem -count 6 -timeout 60m ./graph/ | tee bench.txt

## generate: regenerate gqlgen's code from schema.graphql.
generate:
	$(GO) generate ./graph/

## playground: rebuild the embedded GraphiQL from the npm registry (lock file pinned).
playground:
	cd internal/playground/web && npm ci && npm run build

## lint: policy format and strictness, go vet.
lint:
	$(OPA) fmt --fail --list policy/
	$(OPA) check --strict policy/
	$(GO) vet ./...

clean:
	rm -rf bin
