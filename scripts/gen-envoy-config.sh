#!/usr/bin/env bash
# Builds build/envoy-config.binpb: a descriptor set of the Envoy config API that envoy/*.yaml
# (and the Envoy config that deploy/k8s embeds) are checked against by
# test/helpers/envoy-validate.ts.
#
# It is separate from scripts/gen-proto.sh on purpose: the service descriptor set
# (src/protocol/generated/keycard.binpb) builds with the validate.proto that @grpc/grpc-js-xds
# ships, but envoy/config/bootstrap/v3 needs the newer one in proto/validate-compat (see its
# header). Both cannot be modules of one buf workspace (same file name twice), so this script
# builds in a workspace of its own under build/, leaving proto/buf.yaml and keycard.binpb as they are.
#
# Add a proto here when a config starts using a new typed_config (@type): the test then fails
# with "... is not in the type registry" until it is listed.
set -euo pipefail
cd "$(dirname "$0")/.."

deps=node_modules/@grpc/grpc-js-xds/deps
out=build/envoy-config.binpb

protos=(
  envoy/config/bootstrap/v3/bootstrap.proto
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
  envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto
  envoy/extensions/filters/http/jwt_authn/v3/config.proto
  envoy/extensions/filters/http/router/v3/router.proto
  envoy/extensions/filters/http/health_check/v3/health_check.proto
  envoy/extensions/upstreams/http/v3/http_protocol_options.proto
  envoy/extensions/access_loggers/stream/v3/stream.proto
  envoy/extensions/transport_sockets/tls/v3/tls.proto
  envoy/extensions/resource_monitors/fixed_heap/v3/fixed_heap.proto
  envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.proto
)

mkdir -p build
# A private workspace per run, so that concurrent runs (two test workers) never share files.
workspace=$(mktemp -d build/envoy-config-protos.XXXXXX)
trap 'rm -rf "$workspace"' EXIT
for module in envoy-api xds googleapis; do
  ln -s "../../$deps/$module" "$workspace/$module"
done
ln -s ../../proto/validate-compat "$workspace/validate-compat"
cat >"$workspace/buf.yaml" <<'EOF'
version: v2
modules:
  - path: envoy-api
  - path: xds
  - path: googleapis
  - path: validate-compat
EOF

args=()
for proto in "${protos[@]}"; do args+=(--path "envoy-api/$proto"); done
( cd "$workspace" && ../../node_modules/.bin/buf build -o envoy-config.binpb "${args[@]}" )
mv -f "$workspace/envoy-config.binpb" "$out"
