#!/usr/bin/env bash
# Creates a kind cluster (if needed), builds the keycard image, loads it into the cluster,
# applies an overlay of deploy/k8s and waits for the rollout.
# Usage: scripts/kind/up.sh [dev|prod|shared]      (make kind-up [KIND_OVERLAY=prod])
# Environment: KIND_CLUSTER (default keycard), KIND_OVERLAY (default dev).
set -euo pipefail
SCRIPT=kind-up
HERE=${BASH_SOURCE[0]%/*}
[ "$HERE" = "${BASH_SOURCE[0]}" ] && HERE=.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

require_tools docker kind kubectl
overlay=${1:-${KIND_OVERLAY:-dev}}
check_overlay "$overlay"
[ "$overlay" = shared ] && require_tools openssl   # the gateway's self-signed TLS certificate
require_docker_engine
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
image=$(keycard_image)

if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
  say "kind cluster \"$KIND_CLUSTER\" exists"
else
  say "creating kind cluster \"$KIND_CLUSTER\""
  kind create cluster --name "$KIND_CLUSTER" --wait 180s
fi

say "building $image"
docker build -t "$image" .
say "loading $image into the cluster"
kind load docker-image "$image" --name "$KIND_CLUSTER"

ensure_namespace() {
  kc create namespace "$1" --dry-run=client -o yaml | kc apply -f - >/dev/null
}

# Secrets that production creates outside kustomize; made up here, for kind only.
case "$overlay" in
  prod)
    ensure_namespace shop
    if ! kc -n shop get secret redis-auth >/dev/null 2>&1; then
      say "creating Secret shop/redis-auth with a random password"
      password=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
      kc -n shop create secret generic redis-auth --from-literal=password="$password" >/dev/null
    fi
    say "creating Secret shop/keycard-jwks from examples/keys/jwks.json (development keys: kind only)"
    kc -n shop create secret generic keycard-jwks --from-file=jwks.json=examples/keys/jwks.json --dry-run=client -o yaml \
      | kc apply -f - >/dev/null
    ;;
  shared)
    ensure_namespace gateway
    if ! kc -n gateway get secret gateway-tls >/dev/null 2>&1; then
      say "creating Secret gateway/gateway-tls (self-signed for shop.example.com and catalog.example.com)"
      tls=$(mktemp -d)
      openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=shop.example.com \
        -addext subjectAltName=DNS:shop.example.com,DNS:catalog.example.com \
        -keyout "$tls/tls.key" -out "$tls/tls.crt" 2>/dev/null
      kc -n gateway create secret tls gateway-tls --cert "$tls/tls.crt" --key "$tls/tls.key" >/dev/null
      rm -rf "$tls"
    fi
    ;;
esac

keycard_at=$(keycard_workload "$overlay")
existed=$(kc -n "${keycard_at%%/*}" get "${keycard_at#*/}" -o name 2>/dev/null || true)
say "applying deploy/k8s/overlays/$overlay"
kc apply -k "deploy/k8s/overlays/$overlay"
# Same tag, new image: restart the keycard that was already running so that it picks it up.
if [ -n "$existed" ]; then
  kc -n "${keycard_at%%/*}" rollout restart "${keycard_at#*/}" >/dev/null
fi

for workload in $(workloads "$overlay"); do
  namespace=${workload%%/*}
  resource=${workload#*/}
  say "waiting for $namespace/$resource"
  if ! kc -n "$namespace" rollout status "$resource" --timeout=300s; then
    kc -n "$namespace" get pods -o wide >&2 || true
    kc -n "$namespace" describe "$resource" >&2 || true
    kc -n "$namespace" logs "$resource" --all-containers --tail=50 >&2 || true
    die "$namespace/$resource did not become ready"
  fi
done
say "ready: overlay $overlay (context $KUBE_CONTEXT). Next: make kind-test"
