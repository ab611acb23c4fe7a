# shellcheck shell=bash
# Shared by scripts/kind/{up,test,down}.sh: settings, fail-fast checks and messages.
# Sourced, never run. The tool checks use bash builtins only, so they work on any PATH.

KIND_CLUSTER=${KIND_CLUSTER:-keycard}
KUBE_CONTEXT="kind-$KIND_CLUSTER"
OVERLAYS="dev prod shared"

say() { printf '%s: %s\n' "$SCRIPT" "$*"; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

install_hint() {
  case "$1" in
    docker) echo "install Docker (a running Docker engine is needed: kind runs the cluster in containers)" ;;
    kind) echo "install kind, e.g. 'go install sigs.k8s.io/kind@latest' (https://kind.sigs.k8s.io)" ;;
    kubectl) echo "install kubectl 1.27 or later (it includes kustomize)" ;;
    node) echo "install Node.js 20.19 or later (tokens are minted with node dist/cli.js token)" ;;
    curl) echo "install curl (requests go through Envoy with it)" ;;
    *) echo "install $1" ;;
  esac
}

# require_tools TOOL...: exits 2 naming every missing tool, before anything is changed.
require_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  printf '%s: error: missing required tool%s: %s\n' "$SCRIPT" "$([ ${#missing[@]} -gt 1 ] && echo s)" "${missing[*]}" >&2
  for tool in "${missing[@]}"; do
    printf '  %s: %s\n' "$tool" "$(install_hint "$tool")" >&2
  done
  exit 2
}

# The docker client alone is not enough: kind needs a Docker engine it can reach.
require_docker_engine() {
  local out
  if ! out=$(docker info --format '{{.ServerVersion}}' 2>&1); then
    printf '%s: error: docker is installed but no Docker engine answers (is the daemon running, and may this user use it?)\n' "$SCRIPT" >&2
    printf '  docker info: %s\n' "$(printf '%s' "$out" | head -n 3)" >&2
    exit 2
  fi
}

require_cluster() {
  kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER" \
    || die "no kind cluster \"$KIND_CLUSTER\": run 'make kind-up' (scripts/kind/up.sh) first"
}

check_overlay() {
  case " $OVERLAYS " in
    *" $1 "*) ;;
    *) die "unknown overlay \"$1\": choose one of: $OVERLAYS" ;;
  esac
}

# The image tag is the package version: keycard:<version>, as deploy/k8s/base/kustomization.yaml says.
keycard_image() {
  local version
  version=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/package.json" | head -n 1)
  [ -n "$version" ] || die "cannot read the version from package.json"
  echo "keycard:$version"
}

# kubectl on the kind cluster's context: kc [-n NAMESPACE] ARGS...
kc() { kubectl --context "$KUBE_CONTEXT" "$@"; }

# The overlay now applied, from what runs in the cluster.
detect_overlay() {
  if kc -n keycard get deployment keycard >/dev/null 2>&1; then echo shared
  elif kc -n shop get statefulset redis >/dev/null 2>&1; then echo prod
  else echo dev
  fi
}

# The workloads each overlay runs, as NAMESPACE/KIND/NAME (a test checks them against the render).
workloads() {
  case "$1" in
    dev) echo "shop/deployment/orders" ;;
    prod) echo "shop/statefulset/redis shop/deployment/orders" ;;
    shared) echo "keycard/deployment/keycard shop/deployment/orders shop/deployment/catalog gateway/deployment/gateway" ;;
  esac
}

# Where keycard runs in each overlay, as NAMESPACE/KIND/NAME.
keycard_workload() {
  case "$1" in
    shared) echo "keycard/deployment/keycard" ;;
    *) echo "shop/deployment/orders" ;;
  esac
}
