# keycard — one entry point for every task. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export npm_config_nodedir ?= /usr

NODE_MODULES := node_modules/.package-lock.json
PROTO_OUT    := src/protocol/generated/keycard.binpb
ENVOY_CONFIG_SET := build/envoy-config.binpb
CONFIG       ?= examples/keycard.yaml

# Debian packages the tests use: an independent gRPC client (python grpcio), redis-server, nginx, shellcheck (scripts/kind),
# promtool (Debian's prometheus package) for deploy/observability's alerting rules, chromium (the decision explorer's browser tests).
SYSTEM_PACKAGES := py:grpc=python3-grpcio py:grpc_tools=python3-grpc-tools redis-server=redis-server nginx=nginx shellcheck=shellcheck promtool=prometheus chromium=chromium
# The load benchmark: h2load, taskset to pin processes, redis-server for the Redis variant. `make test` runs its smoke mode.
BENCH_PACKAGES  := h2load=nghttp2-client taskset=util-linux redis-server=redis-server

.PHONY: help install system-deps proto envoy-config build run try test typecheck lint unit bench-micro clean
.PHONY: bench bench-smoke bench-build bench-deps bench-dist bench-github
.PHONY: image k8s-sync k8s-render k8s-policy-check kind-up kind-test kind-down

help:
	@echo "make run       build and start keycard on the embedded default ($(CONFIG))"
	@echo "make test      install what is missing, type-check, lint and run every test"
	@echo "make try       with \`make run\` going: send an allowed and a denied Check, show the counts"
	@echo "make build     build dist/ (protos, TypeScript)"
	@echo "make lint | typecheck | unit | clean"
	@echo "make bench     load benchmark (h2load): keycard vs a bare Check handler and a bare AuthZEN handler, and the micro-benchmarks -> bench/results/latest.md"
	@echo "make bench-smoke   the load benchmark in a few seconds (make test runs it)"
	@echo "make bench-github  load, coverage and evaluation at the scale of GitHub's REST API -> bench/results/github-scale.md"
	@echo "make image     build the container image $(IMAGE) (needs a Docker engine)"
	@echo "make kind-up | kind-test | kind-down   run deploy/k8s in a kind cluster (KIND_OVERLAY=dev|prod|shared)"

$(NODE_MODULES): package.json package-lock.json
	@# npm install, not npm ci: the registry here lacks the optional non-Linux buf binaries that npm ci insists on.
	npm install --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES)

system-deps:
	@scripts/ensure-system-packages.sh $(SYSTEM_PACKAGES) $(BENCH_PACKAGES)

$(PROTO_OUT): $(NODE_MODULES) proto/buf.yaml scripts/gen-proto.sh
	scripts/gen-proto.sh

proto: $(PROTO_OUT)

# Envoy's config API (bootstrap, ext_authz, ...) for test/envoy and test/deploy, which validate
# envoy/*.yaml strictly. Separate from the service protos above; see the script. About 0.3 s.
$(ENVOY_CONFIG_SET): $(NODE_MODULES) scripts/gen-envoy-config.sh proto/validate-compat/validate/validate.proto
	scripts/gen-envoy-config.sh

envoy-config: $(ENVOY_CONFIG_SET)

build: $(PROTO_OUT)
	rm -rf dist
	node_modules/.bin/tsc -p tsconfig.json
	@# keycard/client (package.json exports) ships with its type declarations.
	node_modules/.bin/tsc -p tsconfig.client.json
	mkdir -p dist/protocol/generated && cp $(PROTO_OUT) dist/protocol/generated/
	chmod +x dist/cli.js

run: build
	@echo "keycard: gRPC ext_authz on 127.0.0.1:9001, admin (metrics, healthz, readyz) on http://127.0.0.1:9090"
	@echo "          try it from another terminal: make try   (Ctrl-C stops keycard)"
	node dist/cli.js serve --config $(CONFIG)

# Sends an allowed and a denied Check to the keycard that `make run` started.
try:
	scripts/try.sh

typecheck: $(PROTO_OUT)
	node_modules/.bin/tsc -p tsconfig.test.json

lint: $(NODE_MODULES)
	node_modules/.bin/eslint .

unit: build envoy-config
	node_modules/.bin/vitest run

test: system-deps build typecheck lint envoy-config bench-build
	node_modules/.bin/vitest run
	node dist/cli.js test --config examples/keycard.yaml
	@# The example policies against the example service's OpenAPI: errors fail the build, warnings are shown.
	node dist/cli.js coverage --config examples/keycard.yaml
	node build/bench/bench/load/run.js --smoke

# Micro-benchmarks of the pipeline phases (vitest bench); compare rows within one run only.
# One file at a time, so that the benchmarks do not compete for the CPUs.
bench-micro: build
	node_modules/.bin/vitest bench --run --no-file-parallelism

# The load benchmark (bench/load, see README "Performance"): h2load against a bare grpc-js Check
# handler and keycard, then against a bare AuthZEN handler and keycard's AuthZEN listener, pinned
# with taskset. Compiled with its own tsconfig into build/bench.
# One part alone, shorter: node build/bench/bench/load/run.js --part authzen --seconds 2 --rounds 2
bench-deps:
	@scripts/ensure-system-packages.sh $(BENCH_PACKAGES)

bench-build: $(PROTO_OUT)
	node_modules/.bin/tsc -p tsconfig.bench.json
	mkdir -p build/bench/src/protocol/generated && cp $(PROTO_OUT) build/bench/src/protocol/generated/

# dist/ refreshed in place: a benchmark never removes files that running processes may load.
bench-dist: $(PROTO_OUT)
	node_modules/.bin/tsc -p tsconfig.json
	mkdir -p dist/protocol/generated && cp $(PROTO_OUT) dist/protocol/generated/
	chmod +x dist/cli.js

bench: bench-deps bench-dist bench-build
	node_modules/.bin/vitest bench --run --no-file-parallelism --outputJson build/bench/micro.json
	node --expose-gc build/bench/bench/load/memory.js --out build/bench/memory.json
	node build/bench/bench/load/cold-jwt.js --out build/bench/cold-jwt.json
	node build/bench/bench/load/run.js --micro build/bench/micro.json --memory build/bench/memory.json --jwt build/bench/cold-jwt.json

# A few seconds: bare handler and keycard at 1x10 connections x streams, and the AuthZEN part (keycard
# on Redis vs a bare AuthZEN handler, one evaluation and a batch of 100), every run verified.
bench-smoke: bench-deps bench-dist bench-build
	node build/bench/bench/load/run.js --smoke

# GitHub's REST API description (@octokit/openapi, about 385 MB installed) is a benchmark-only
# dependency: installed here into build/octokit, never by `npm install`, `make test` or `make run`.
OCTOKIT_OPENAPI_VERSION := 23.0.2
OCTOKIT_DIR      := build/octokit
OCTOKIT_STAMP    := $(OCTOKIT_DIR)/.installed-$(OCTOKIT_OPENAPI_VERSION)
OCTOKIT_DOCUMENT := $(OCTOKIT_DIR)/node_modules/@octokit/openapi/generated/api.github.com.json

$(OCTOKIT_STAMP):
	npm install --no-save --no-package-lock --no-audit --no-fund --prefix $(OCTOKIT_DIR) @octokit/openapi@$(OCTOKIT_OPENAPI_VERSION)
	@touch $@

# keycard at the scale of GitHub's API (bench/github): a policy set generated for its 1,222
# operations, its cold load and hot reload, `keycard coverage` over it, and evaluation per request,
# each checked against the generated rules. A few minutes; writes bench/results/github-scale.md.
bench-github: bench-dist bench-build $(OCTOKIT_STAMP)
	node build/bench/bench/github/generate.js --document $(OCTOKIT_DOCUMENT)
	node build/bench/bench/github/run.js

clean:
	rm -rf dist build src/protocol/generated proto/vendor

# ---- Container image and Kubernetes (deploy/k8s) ------------------------------------------
VERSION      := $(shell sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' package.json | head -n 1)
IMAGE        := keycard:$(VERSION)
KIND_OVERLAY ?= dev

image:
	docker build -t $(IMAGE) .

# kustomize may only read files below a kustomization: these copies are what the manifests
# embed. `make test` fails (test/deploy) while a copy differs from its source.
k8s-sync:
	cp envoy/sidecar.yaml deploy/k8s/base/files/envoy/sidecar.yaml
	cp envoy/gateway.yaml deploy/k8s/overlays/shared/gateway/files/envoy/gateway.yaml
	cp examples/keys/jwks.json deploy/k8s/components/dev-keys/jwks.json

# Prints the manifests of one overlay: make k8s-render KIND_OVERLAY=prod
k8s-render:
	@kubectl kustomize deploy/k8s/overlays/$(KIND_OVERLAY)

# Before `kubectl apply -k`: the cluster's policies lint clean and pass their unit tests.
k8s-policy-check: build
	scripts/k8s-policy-check.sh

kind-up:
	scripts/kind/up.sh $(KIND_OVERLAY)

kind-test: build
	scripts/kind/test.sh

kind-down:
	scripts/kind/down.sh
