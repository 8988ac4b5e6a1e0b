# Tollgate — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
FUZZTIME ?= 10s
BENCHCOUNT ?= 6

.PHONY: help build test test-short lint fuzz bench demo clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/tollgate and the emulator, fake provider and test plugins
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/tollgate ./cmd/tollgate
	$(GO) build -o $(BIN)/kongemu ./spec/cmd/kongemu
	$(GO) build -o $(BIN)/fakellm ./spec/cmd/fakellm
	$(GO) build -o $(BIN)/tollgatetest ./spec/testplugins/tollgatetest

lint: ## gofmt, go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: lint ## the whole suite: unit, fuzz seeds, e2e through the Kong emulator, with -race
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: ## unit tests only, no race detector
	$(GO) test -short -count=1 ./...

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

bench: ## benchmarks (median over BENCHCOUNT runs), see docs/benchmarks.md
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./... | tee bench.out
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da bench.out

demo: build ## tollgate serve + Kong emulator (decks/demo.yaml) + mock provider, memory state
	@./spec/demo.sh

clean: ## remove build output
	rm -rf $(BIN) bench.out
