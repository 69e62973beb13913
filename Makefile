# Run `make help` for the list of targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

MOTO_PORT ?= 5055
TF_MIRROR ?= /opt/tf-plugins
VENV      ?= .venv
PYTHON    ?= python3

# Lambda functions (binary names); each becomes a bootstrap.zip.
FUNCTIONS ?= notes users tenants token-claims

# The emulator as seen by the SDKs, tests and Terraform.
EMULATOR_ENV := AWS_ENDPOINT_URL=http://127.0.0.1:$(MOTO_PORT) AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true

# AWS deploys (make deploy): environment, S3 backend file. Function packages
# default to target/lambda/<fn>/bootstrap.zip; override one with NOTES_PACKAGE,
# USERS_PACKAGE, TENANTS_PACKAGE or TOKEN_CLAIMS_PACKAGE. SERVICE=<root> (or
# ROOTS="a b") limits up/plan-local/deploy to those roots (platform, notes,
# users, tenants).
DEPLOY_ENV    ?= dev
BACKEND       ?= terraform/backend/$(DEPLOY_ENV).s3.tfbackend

export MOTO_PORT TF_MIRROR
STACK := MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python local/stack.sh
VENV_STAMP := $(VENV)/.requirements-installed
BUILD_TOOLS_STAMP := $(VENV)/.build-tools-installed

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
build: $(BUILD_TOOLS_STAMP) ## Release Lambda zips (arm64, provided.al2023) under target/lambda/<fn>/bootstrap.zip
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH cargo lambda build --release --arm64 --output-format zip \
	  $(foreach fn,$(FUNCTIONS),--bin $(fn))

package-local: ## Debug build of every function, zipped for the local stack (target/lambda-local)
	cargo build $(foreach fn,$(FUNCTIONS),--bin $(fn))
	local/package.sh target/debug target/lambda-local $(FUNCTIONS)

# --- Local stack (moto + Terraform) ------------------------------------------

.PHONY: up down status plan-local
up: $(VENV_STAMP) package-local ## Start moto on MOTO_PORT and apply every root to it (idempotent)
	$(STACK) up

down: ## Stop the local stack (idempotent)
	$(STACK) down

status: ## Show whether the local stack is up
	$(STACK) status

plan-local: ## Plan every root against the local stack; fails if anything would change
	$(STACK) plan

# --- Terraform checks --------------------------------------------------------

.PHONY: tf-fmt-check tf-validate
tf-fmt-check: ## terraform fmt -check over terraform/
	terraform fmt -check -recursive terraform

tf-validate: ## terraform init -backend=false + validate in every root
	local/stack.sh validate

# --- Tests -------------------------------------------------------------------

.PHONY: test lint test-unit test-emulator test-infra
test: $(VENV_STAMP) ## Everything CI runs: lint, unit tests, emulator tests, Terraform apply + clean plan, infra checks
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory package-local
	trap '$(STACK) down' EXIT; \
	  $(STACK) up && \
	  $(MAKE) --no-print-directory test-emulator && \
	  $(EMULATOR_ENV) MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python $(VENV)/bin/pytest tests/infra -q

lint: $(VENV_STAMP) ## cargo fmt --check, clippy -D warnings, terraform fmt -check and validate
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory tf-fmt-check tf-validate

test-unit: ## Unit and handler tests only (no emulator)
	cargo test --workspace

test-emulator: ## Every Rust test, the emulator ones included (needs `make up`)
	$(EMULATOR_ENV) cargo test --workspace -- --include-ignored

test-infra: up ## Bring the local stack up (converge), run tests/infra; the stack stays up (make down)
	$(EMULATOR_ENV) MOTO_PYTHON=$(CURDIR)/$(VENV)/bin/python $(VENV)/bin/pytest tests/infra -q

# --- Deploy --------------------------------------------------------------------

.PHONY: deploy
deploy: ## Apply platform, notes, users, tenants to AWS (DEPLOY_ENV, BACKEND, *_PACKAGE, SERVICE); LOCAL=1: to the local stack
ifdef LOCAL
	$(MAKE) up
else
	DEPLOY_ENV=$(DEPLOY_ENV) BACKEND=$(BACKEND) local/stack.sh deploy
endif
