#!/usr/bin/env bash
# Generates Python (grpcio) stubs for the ext_authz and health services into OUT, for the
# independent-client integration test. Sources are the protos that npm packages ship.
# Usage: gen-python-stubs.sh OUT
set -euo pipefail
out=${1:?usage: gen-python-stubs.sh OUT}
root="$(cd "$(dirname "$0")/.." && pwd)"
deps="$root/node_modules/@grpc/grpc-js-xds/deps"
roots=("$deps/envoy-api" "$deps/xds" "$deps/googleapis" "$deps/protoc-gen-validate" "$root/node_modules/grpc-health-check/proto")
wkt=/usr/lib/python3/dist-packages/grpc_tools/_proto

locate() {
  local dir
  for dir in "${roots[@]}"; do [ -f "$dir/$1" ] && { echo "$dir/$1"; return; }; done
  echo "gen-python-stubs: $1 not found in any proto root" >&2
  return 1
}

# Import closure of the two service protos; google/protobuf/* comes from grpc_tools.
declare -A seen=()
queue=(envoy/service/auth/v3/external_auth.proto health/v1/health.proto)
while [ ${#queue[@]} -gt 0 ]; do
  file=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${seen[$file]:-}" ] && continue
  seen[$file]=1
  path=$(locate "$file")
  while IFS= read -r dep; do
    [[ $dep == google/protobuf/* ]] || queue+=("$dep")
  done < <(sed -nE 's/^import( public| weak)? "([^"]+)";.*/\2/p' "$path")
done

mkdir -p "$out"
includes=()
for dir in "${roots[@]}"; do includes+=("-I$dir"); done
/usr/bin/python3 -m grpc_tools.protoc "${includes[@]}" "-I$wkt" \
  --python_out="$out" --grpc_python_out="$out" "${!seen[@]}"
