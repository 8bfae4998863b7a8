# mcpauthz development tasks. `make test` runs every test of every module
# (and the interop suite); `make lint` runs the CI linters.
SHELL := /bin/bash
MODULES := . adapters/chi adapters/fiber adapters/gin bench examples stores/redis stores/postgres scripts/modproxy oteltest stores/clustertest interop/browser
GO ?= go
STATICCHECK ?= staticcheck

.PHONY: test test-go test-interop test-install lint tidy-check bench quickstart fuzz

test: test-go test-interop test-install

# test-go also runs the allocation tests once without -race: their counts
# are exact only then (-race drops pooled objects at random).
test-go:
	@set -e; for m in $(MODULES); do \
		echo "== go test -race $$m"; \
		(cd $$m && $(GO) test -race -count=1 -shuffle=on ./...); \
	done
	@echo "== go test (no -race) allocation tests"; $(GO) test -count=1 -run 'AllocsExact|HandOffAllocs' ./coretest

# Fuzzing beyond the seed corpus (make test runs every seed as a plain
# subtest, with no fuzz worker): each Fuzz target of every module for
# FUZZTIME. One worker (-parallel 1) and no -race: the fuzz engine kills a
# worker whose single input runs longer than 10 s and reports "fuzzing
# process hung or terminated unexpectedly" (golang/go#56238), which two
# -race workers per core on a loaded 2-core VM reach while gathering the
# baseline coverage of the seeds; that is load, not a finding.
FUZZTIME ?= 30s
fuzz:
	@set -e; for m in $(MODULES); do \
		for p in $$(cd $$m && $(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
			for f in $$(cd $$m && $(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
				echo "== fuzz $$p $$f"; \
				(cd $$m && $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -parallel 1 $$p); \
			done; \
		done; \
	done

test-interop:
	@if [ -x interop/run.sh ]; then interop/run.sh; else echo "interop: no suite yet"; fi

# The modules install like any dependency: a file module proxy built from the
# working tree, go get + the README's snippets + go install in a fresh module.
test-install:
	scripts/installcheck.sh

lint: tidy-check
	@set -e; bad=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		echo "== vet/staticcheck $$m"; \
		(cd $$m && $(GO) vet ./... && $(STATICCHECK) ./...); \
	done
	@echo "== no tracked file over 1 MiB (built binaries belong in .gitignore)"
	@set -e; big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk '$$1 > 1048576 {print $$2}'); \
	if [ -n "$$big" ]; then echo "tracked files over 1 MiB:"; echo "$$big"; exit 1; fi
	@echo "== API hygiene over MODULES: no exported vars but Err…, no internal/ types in public APIs"
	$(GO) test -count=1 -run 'TestTree|TestPlanted' ./internal/treecheck
	@echo "== root module must not import web frameworks"
	@! $(GO) list -deps ./... | grep -E 'gin-gonic|gofiber|valyala|go-chi'

tidy-check:
	@set -e; for m in $(MODULES); do \
		echo "== go mod tidy -diff $$m"; \
		(cd $$m && GOWORK=off $(GO) mod tidy -diff); \
	done

bench:
	./scripts/bench.sh

quickstart:
	$(GO) run ./examples/quickstart
