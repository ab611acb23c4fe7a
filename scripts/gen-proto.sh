#!/usr/bin/env bash
# Builds the Envoy/gRPC API descriptor set with buf and generates the TypeScript message types.
# Sources are the protos that npm packages ship (see proto/buf.yaml); output is build output.
set -euo pipefail
cd "$(dirname "$0")/.."

deps=node_modules/@grpc/grpc-js-xds/deps
out=src/protocol/generated

# buf modules must live inside the workspace: link the npm-shipped trees into proto/vendor.
mkdir -p proto/vendor
for module in envoy-api xds googleapis protoc-gen-validate; do
  ln -sfn "../../$deps/$module" "proto/vendor/$module"
done
ln -sfn ../../node_modules/grpc-health-check/proto proto/vendor/grpc-health

rm -rf "$out" && mkdir -p "$out"
( cd proto && ../node_modules/.bin/buf build -o "../$out/keycard.binpb" \
    --path vendor/envoy-api/envoy/service/auth/v3/external_auth.proto \
    --path vendor/grpc-health/health/v1/health.proto )

# Types match how the descriptor set is loaded: snake_case field names (keepCase), string enums.
node_modules/.bin/proto-loader-gen-types --keepCase --longs=String --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js --outDir="$out" \
  envoy/service/auth/v3/external_auth.proto health/v1/health.proto \
  -I "$deps/envoy-api" "$deps/xds" "$deps/googleapis" "$deps/protoc-gen-validate" node_modules/grpc-health-check/proto \
  >/dev/null
