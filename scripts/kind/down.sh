#!/usr/bin/env bash
# Deletes the kind cluster that scripts/kind/up.sh created.
# Usage: scripts/kind/down.sh      (make kind-down)     Environment: KIND_CLUSTER (default keycard).
set -euo pipefail
SCRIPT=kind-down
HERE=${BASH_SOURCE[0]%/*}
[ "$HERE" = "${BASH_SOURCE[0]}" ] && HERE=.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

require_tools docker kind
require_docker_engine

if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
  kind delete cluster --name "$KIND_CLUSTER"
else
  say "no kind cluster \"$KIND_CLUSTER\": nothing to delete"
fi
