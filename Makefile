# keycard — one entry point for every task. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export npm_config_nodedir ?= /usr

NODE_MODULES := node_modules/.package-lock.json
PROTO_OUT    := src/protocol/generated/keycard.binpb
CONFIG       ?= examples/keycard.yaml

# Debian packages the tests use: an independent gRPC client (python grpcio), redis-server, nginx.
SYSTEM_PACKAGES := py:grpc=python3-grpcio py:grpc_tools=python3-grpc-tools redis-server=redis-server nginx=nginx

.PHONY: help install system-deps proto build run try test typecheck lint unit bench-micro clean

help:
	@echo "make run       build and start keycard on the embedded default ($(CONFIG))"
	@echo "make test      install what is missing, type-check, lint and run every test"
	@echo "make try       with \`make run\` going: send an allowed and a denied Check, show the counts"
	@echo "make build     build dist/ (protos, TypeScript)"
	@echo "make lint | typecheck | unit | clean"

$(NODE_MODULES): package.json package-lock.json
	@# npm install, not npm ci: the registry here lacks the optional non-Linux buf binaries that npm ci insists on.
	npm install --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES)

system-deps:
	@scripts/ensure-system-packages.sh $(SYSTEM_PACKAGES)

$(PROTO_OUT): $(NODE_MODULES) proto/buf.yaml scripts/gen-proto.sh
	scripts/gen-proto.sh

proto: $(PROTO_OUT)

build: $(PROTO_OUT)
	rm -rf dist
	node_modules/.bin/tsc -p tsconfig.json
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

unit: build
	node_modules/.bin/vitest run

test: system-deps build typecheck lint
	node_modules/.bin/vitest run
	node dist/cli.js test --config examples/keycard.yaml

# Micro-benchmarks of the pipeline phases (vitest bench); compare rows within one run only.
bench-micro: build
	node_modules/.bin/vitest bench --run

clean:
	rm -rf dist build src/protocol/generated proto/vendor
