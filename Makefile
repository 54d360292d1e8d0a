# Two commands: `make dev` runs the whole API locally, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
NODE_DIR := infra/local/node_modules
CONSOLE_NODE_DIR := console/node_modules

FUNCTIONS := list assign change revoke tokens scim entitlements webhooks provision notify remind deliver

.PHONY: help setup system dev test lint fmt clean build-arm64 bench deploy-console

help:
	@echo "make dev    run the licence API locally (DynamoDB Local, cargo lambda watch, demo data)"
	@echo "make test   run every test (fmt, clippy, unit, property, DynamoDB Local, SES emulator, end to end, OpenAPI, template)"
	@echo "make build-arm64   release build of every function for Lambda arm64 (cargo lambda + zig), with sizes"
	@echo "make bench  cold start, RSS, warm latency, DynamoDB round trips, scaling, sizes; PASS/FAIL budgets (BENCH_QUICK=1: fewer iterations)"
	@echo "make deploy-console STACK=<name>   the console onto a stack deployed with HostConsole=true (S3 + CloudFront)"

## setup: install what the local stack needs into the project (idempotent)
setup: $(VENV)/.installed $(NODE_DIR)/.installed $(CONSOLE_NODE_DIR)/.installed

## system: Debian packages the tests need (qemu-aarch64 and an arm64 libc, to run the
## release binaries in tests/tests/release.rs; chromium, for the console's browser suite in
## tests/tests/console.rs); apt-get installs them when run as root.
SYSTEM_PACKAGES := qemu-user libc6-arm64-cross chromium
system:
	@if ! command -v qemu-aarch64 >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else \
	    echo "make test needs Debian's $(SYSTEM_PACKAGES): sudo apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; \
	  fi; \
	fi

$(VENV)/.installed: infra/local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
	touch $@

$(NODE_DIR)/.installed: infra/local/package.json infra/local/package-lock.json
	cd infra/local && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_NODE_DIR)/.installed: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	touch $@

dev: setup
	bash infra/local/dev.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet --features licensing/local -- -D warnings
	# Without local mode, as the release build for Lambda compiles the crate.
	cargo clippy --workspace --lib --bins --quiet -- -D warnings

# tests/tests/release.rs checks the release binaries for Lambda: built here when
# missing or older than the sources (CI builds them first with `make build-arm64`).
ARM64_BINARIES := $(foreach f,$(FUNCTIONS),target/lambda/$(f)/bootstrap)
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find shared/src functions -name '*.rs' -o -name Cargo.toml)

$(ARM64_BINARIES) &: $(RUST_SOURCES)
	$(MAKE) build-arm64

test: setup system lint $(ARM64_BINARIES)
	bash infra/local/test.sh

## build-arm64: the release build for Lambda arm64 (cargo lambda + zig), every function in one
## `cargo lambda build --release --arm64 -p <function> ...`: its dependencies are built once and
## the functions' long LTO links run side by side. `sam build` (BuildMethod rust-cargolambda)
## builds one function at a time, and one build of all of them unifies their dependencies'
## features, so its binaries can differ from these by a few KB; `make build-arm64 EACH=1` builds
## them that way (slower: twelve links one after another). Prints each binary's size.
build-arm64: setup
	rustup target add aarch64-unknown-linux-gnu
	$(if $(filter-out 0,$(EACH)), \
	  for f in $(FUNCTIONS); do \
	    PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 --bin $$f || exit 1; \
	  done, \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 $(addprefix -p ,$(FUNCTIONS)))
	@for f in $(FUNCTIONS); do \
	  printf '%-12s %8d bytes\n' "$$f" "$$(stat -c %s target/lambda/$$f/bootstrap)"; \
	done

## bench: the performance budgets against DynamoDB Local (JSON in .local/bench.json).
## Sizes are read from target/lambda (run `make build-arm64` first to include them).
bench: setup
	cargo build --release $(addprefix -p ,$(FUNCTIONS))
	cargo run --release -p bench -- $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

## deploy-console: the console onto a stack deployed with HostConsole=true. Builds it for the
## site's root into .local/console-site (console/dist stays the local build under /console/),
## writes its config.json from the stack's outputs, uploads the hashed assets (cached for a
## year), then index.html and config.json (revalidated), then removes what the build no
## longer has, and invalidates CloudFront's cache. Needs the AWS CLI and the stack's account.
CONSOLE_SITE := .local/console-site
stack_output = Outputs[?OutputKey=='$(1)'].OutputValue | [0]
deploy-console: $(CONSOLE_NODE_DIR)/.installed
	$(if $(STACK),,$(error usage: make deploy-console STACK=<stack name>))
	cd console && npm run build -- --base=/ --outDir=../$(CONSOLE_SITE)
	set -euo pipefail; \
	output() { aws cloudformation describe-stacks --stack-name $(STACK) --output text --query "Stacks[0].$(call stack_output,$$1)"; }; \
	bucket=$$(output ConsoleBucketName); distribution=$$(output ConsoleDistributionId); \
	if [ "$$bucket" = None ]; then echo "$(STACK) does not host the console: deploy it with HostConsole=true" >&2; exit 1; fi; \
	aws cloudformation describe-stacks --stack-name $(STACK) --output json --query "Stacks[0].{apiUrl: $(call stack_output,ApiUrl), \
	  oidc: {authority: $(call stack_output,OidcAuthority), clientId: $(call stack_output,OidcClientId), scope: 'openid email profile'}}" \
	  > $(CONSOLE_SITE)/config.json; \
	aws s3 sync $(CONSOLE_SITE) s3://$$bucket --exclude index.html --exclude config.json --cache-control 'public, max-age=31536000, immutable'; \
	aws s3 sync $(CONSOLE_SITE) s3://$$bucket --exclude 'assets/*' --cache-control no-cache; \
	aws s3 sync $(CONSOLE_SITE) s3://$$bucket --delete; \
	aws cloudfront create-invalidation --distribution-id $$distribution --paths '/*' --query Invalidation.Id --output text; \
	echo "the console: $$(output ConsoleUrl)"

fmt:
	cargo fmt --all

## clean: removes .local (logs, bench results, the console site), but not while `make dev`
## runs: its pid files are there, and without them the next `make dev` cannot stop it.
clean:
	@for f in .local/dynamodb.pid .local/ses.pid .local/watch.pid .local/gateway.pid .local/relay.pid; do \
	  if [ -f "$$f" ] && kill -0 "$$(cat "$$f")" 2>/dev/null; then \
	    echo "make dev is still running ($$f: pid $$(cat "$$f")): stop it first (Ctrl-C where it runs), then make clean" >&2; \
	    exit 1; \
	  fi; \
	done
	rm -rf .local
