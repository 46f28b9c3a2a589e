# Pulso — `make help` lists the targets. The two that matter on a fresh
# machine: `make run` (the demo at http://localhost:8080) and `make test`.

SHELL := bash
.DEFAULT_GOAL := help
GO ?= go
BIN := bin/pulso
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Tests clone databases from this server (pgtestdb); override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@localhost:5432/postgres?sslmode=disable
export TEST_DATABASE_URL

HTMX_VERSION    := 2.0.11
HTMX_WS_VERSION := 2.0.4
SORTABLE_VERSION := 1.15.7
SIGPAD_VERSION   := 5.1.4
UPLOT_VERSION    := 1.6.32
VENDOR_DIR      ?= static/vendor

.PHONY: help
help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_\/-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: build ## Run Pulso with demo data at http://localhost:8080 (finds or starts PostgreSQL)
	./$(BIN) dev

.PHONY: build
build: ## Build bin/pulso
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pulso

.PHONY: test
# The browser tests (cmd/pulso) are the longest package: listed first, they
# start first and the other packages fill the cores around them. Packages
# mostly wait (on PostgreSQL, Chromium, timers), so TEST_PACKAGES of them run
# at once: twice the cores, at most 8, keeps two cores busy (7m21 → 5m15 on
# two cores, BENCHMARKS.md) without running PostgreSQL out of connections.
TEST_PACKAGES ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( 2*n < 8 ? 2*n : 8 )))
test: ## Run every test against real PostgreSQL ($$TEST_DATABASE_URL); includes browser tests when chromium is installed
	$(GO) test -count=1 -p $(TEST_PACKAGES) ./cmd/pulso/ ./...

.PHONY: e2e
e2e: ## Browser tests only: real Chromium against a real pulso serve (a screenshot of every step in .e2e/)
	PULSO_E2E_SHOTS=all $(GO) test -count=1 -run 'E2E' -v ./cmd/pulso/

.PHONY: generate
generate: ## Regenerate sqlc and templ code (commit the result)
	$(GO) tool sqlc generate
	$(GO) tool templ generate -path views

.PHONY: verify
verify: ## Fail if generated code is stale, code is unformatted or go vet complains
	@$(GO) tool sqlc diff || { echo "sqlc output is stale: run make generate and commit"; exit 1; }
	@before=$$(find views -name '*_templ.go' -print0 | sort -z | xargs -0 sha256sum); \
	$(GO) tool templ generate -path views >/dev/null; \
	after=$$(find views -name '*_templ.go' -print0 | sort -z | xargs -0 sha256sum); \
	[ "$$before" = "$$after" ] || { echo "templ output was stale (now regenerated): commit it"; exit 1; }
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); \
	[ -z "$$unformatted" ] || { echo "gofmt needed: $$unformatted"; exit 1; }
	@$(GO) tool templ fmt -fail views >/dev/null || { echo "templ fmt needed: run go tool templ fmt views"; exit 1; }
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum not tidy: run go mod tidy"; exit 1; }
	@echo "verify: ok"

.PHONY: lint
lint: verify ## Alias of verify

.PHONY: migrate
migrate: build ## Apply app and River migrations to $$DATABASE_URL (default: local pulso database)
	./$(BIN) migrate

.PHONY: seed
seed: build ## Create the demo orgs and users (idempotent)
	./$(BIN) seed --demo

.PHONY: db/stop
db/stop: build ## Stop the private PostgreSQL cluster that make run may have started under .pulso/pg
	./$(BIN) devdb stop

.PHONY: bench
bench: ## Measure page cost, sockets, write path, jobs, lead search, imports, the board, quotes, invoicing, the stats engine, store sync and the subscription page against in-run baselines (~16 min, plus ~13 min the first time the 1M-deal stats org is built; see BENCHMARKS.md)
	@mkdir -p .pulso
	@echo "machine: $$(nproc) cores, $$(awk '/MemTotal/ {printf "%.0f GiB", $$2/1048576}' /proc/meminfo), $$(go version | cut -d' ' -f3), PostgreSQL $$(psql -V 2>/dev/null | awk '{print $$3}')" | tee .pulso/bench.txt
	set -o pipefail; $(GO) test -run '^$$' -bench 'PageCost|WritePath|Sockets|Jobs|LeadSearch|Import|Board|QuotePDF|ClientLinkTiming|InvoiceIssuing|InvoicePDF|BenchmarkStats|DashboardFanout|StoreSync' -benchtime=1x -count=1 -timeout 60m \
		./app/ ./app/live/ ./app/leads/ ./app/imports/engine/ ./app/pipeline/ ./app/quotes/ ./app/printing/ ./app/invoices/ ./app/stats/ ./app/stats/dashboardweb/ ./app/store/ ./cmd/pulso/ ./workers/ | tee -a .pulso/bench.txt
	@echo; echo "== summary (also in .pulso/bench.txt)"; grep -E '^(SUMMARY|sockets n=)' .pulso/bench.txt

.PHONY: vendor
vendor: ## Refresh the pinned front-end files in static/vendor from npm (bump the versions above)
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	npm pack --silent --pack-destination "$$tmp" \
		htmx.org@$(HTMX_VERSION) htmx-ext-ws@$(HTMX_WS_VERSION) sortablejs@$(SORTABLE_VERSION) signature_pad@$(SIGPAD_VERSION) uplot@$(UPLOT_VERSION) >/dev/null; \
	sri() { echo "sha512-$$(openssl dgst -sha512 -binary "$$1" | base64 | tr -d '\n')"; }; \
	mkdir -p "$$tmp/htmx" "$$tmp/ws" "$$tmp/sortable" "$$tmp/sigpad" "$$tmp/uplot" $(VENDOR_DIR)/htmx $(VENDOR_DIR)/htmx-ext-ws $(VENDOR_DIR)/sortablejs $(VENDOR_DIR)/signature_pad $(VENDOR_DIR)/uplot; \
	tar -xzf "$$tmp/htmx.org-$(HTMX_VERSION).tgz" -C "$$tmp/htmx"; \
	tar -xzf "$$tmp/htmx-ext-ws-$(HTMX_WS_VERSION).tgz" -C "$$tmp/ws"; \
	tar -xzf "$$tmp/sortablejs-$(SORTABLE_VERSION).tgz" -C "$$tmp/sortable"; \
	tar -xzf "$$tmp/signature_pad-$(SIGPAD_VERSION).tgz" -C "$$tmp/sigpad"; \
	tar -xzf "$$tmp/uplot-$(UPLOT_VERSION).tgz" -C "$$tmp/uplot"; \
	cp "$$tmp/uplot/package/dist/uPlot.iife.min.js" "$$tmp/uplot/package/dist/uPlot.min.css" "$$tmp/uplot/package/LICENSE" $(VENDOR_DIR)/uplot/; \
	cp "$$tmp/sigpad/package/dist/signature_pad.umd.min.js" "$$tmp/sigpad/package/LICENSE" $(VENDOR_DIR)/signature_pad/; \
	cp "$$tmp/sortable/package/Sortable.min.js" "$$tmp/sortable/package/LICENSE" $(VENDOR_DIR)/sortablejs/; \
	cp "$$tmp/htmx/package/dist/htmx.min.js" "$$tmp/htmx/package/LICENSE" $(VENDOR_DIR)/htmx/; \
	ws=ws.js; [ -f "$$tmp/ws/package/dist/ws.min.js" ] && ws=ws.min.js; \
	rm -f $(VENDOR_DIR)/htmx-ext-ws/ws.js $(VENDOR_DIR)/htmx-ext-ws/ws.min.js; \
	cp "$$tmp/ws/package/dist/$$ws" "$$tmp/ws/package/LICENSE" $(VENDOR_DIR)/htmx-ext-ws/; \
	{ echo "# name version file(s) source integrity (written by make vendor)"; \
	  echo "htmx.org $(HTMX_VERSION) htmx/htmx.min.js,htmx/LICENSE npm:htmx.org@$(HTMX_VERSION) $$(sri "$$tmp/htmx.org-$(HTMX_VERSION).tgz")"; \
	  echo "htmx-ext-ws $(HTMX_WS_VERSION) htmx-ext-ws/$$ws,htmx-ext-ws/LICENSE npm:htmx-ext-ws@$(HTMX_WS_VERSION) $$(sri "$$tmp/htmx-ext-ws-$(HTMX_WS_VERSION).tgz")"; \
	  echo "sortablejs $(SORTABLE_VERSION) sortablejs/Sortable.min.js,sortablejs/LICENSE npm:sortablejs@$(SORTABLE_VERSION) $$(sri "$$tmp/sortablejs-$(SORTABLE_VERSION).tgz")"; \
	  echo "signature_pad $(SIGPAD_VERSION) signature_pad/signature_pad.umd.min.js,signature_pad/LICENSE npm:signature_pad@$(SIGPAD_VERSION) $$(sri "$$tmp/signature_pad-$(SIGPAD_VERSION).tgz")"; \
	  echo "uplot $(UPLOT_VERSION) uplot/uPlot.iife.min.js,uplot/uPlot.min.css,uplot/LICENSE npm:uplot@$(UPLOT_VERSION) $$(sri "$$tmp/uplot-$(UPLOT_VERSION).tgz")"; \
	} > $(VENDOR_DIR)/VERSIONS; \
	echo "vendored htmx.org@$(HTMX_VERSION) htmx-ext-ws@$(HTMX_WS_VERSION) sortablejs@$(SORTABLE_VERSION) signature_pad@$(SIGPAD_VERSION) uplot@$(UPLOT_VERSION) into $(VENDOR_DIR)"
