#!/usr/bin/env bash
# End-to-end checks against the kind cluster that scripts/kind/up.sh set up: requests through
# Envoy (allowed, denied, unauthenticated), a policy change rolled out through the ConfigMap and
# picked up by hot reload, and with the Redis store (prod overlay) a role grant and a token
# revocation that take effect at once.
# Usage: scripts/kind/test.sh [dev|prod|shared]   (default: the overlay found in the cluster)
# Environment: KIND_CLUSTER (default keycard), KIND_TEST_PORT (18080), KIND_TEST_ADMIN_PORT (19090).
set -euo pipefail
SCRIPT=kind-test
HERE=${BASH_SOURCE[0]%/*}
[ "$HERE" = "${BASH_SOURCE[0]}" ] && HERE=.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

require_tools docker kind kubectl node curl
require_docker_engine
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
[ -f dist/cli.js ] || die "dist/cli.js is missing: run 'make build' first (tokens are minted with it)"
require_cluster

overlay=${1:-$(detect_overlay)}
check_overlay "$overlay"
port=${KIND_TEST_PORT:-18080}
admin_port=${KIND_TEST_ADMIN_PORT:-19090}
keycard_at=$(keycard_workload "$overlay")
keycard_ns=${keycard_at%%/*}
keycard_resource=${keycard_at#*/}

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

forward() { # forward NAMESPACE RESOURCE LOCAL:REMOTE
  kc -n "$1" port-forward "$2" "$3" >"$work/port-forward-${3%%:*}.log" 2>&1 &
  pids+=($!)
}
if [ "$overlay" = shared ]; then
  # Through the gateway's TLS listener, as a client of shop.example.com would come.
  forward gateway service/gateway "$port:443"
  kc -n gateway get secret gateway-tls -o jsonpath='{.data.tls\.crt}' | base64 -d >"$work/ca.crt"
  base=https://shop.example.com:$port
  tls=(--resolve "shop.example.com:$port:127.0.0.1" --cacert "$work/ca.crt")
  open_path=/products/1
else
  forward shop service/orders "$port:80"
  base=http://127.0.0.1:$port
  tls=()
  open_path=/healthz
fi
forward "$keycard_ns" "$keycard_resource" "$admin_port:9090"
reachable=
for _ in $(seq 1 30); do
  if curl -fsS -o /dev/null ${tls[@]+"${tls[@]}"} "$base$open_path" 2>/dev/null; then reachable=yes; break; fi
  sleep 1
done
[ -n "$reachable" ] || die "nothing answers $base$open_path through the port-forward: $(cat "$work"/port-forward-*.log 2>/dev/null | tail -n 5)"

passed=0 failed=0
pass() { passed=$((passed + 1)); printf '  ✓ %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf '  ✗ %s\n' "$1"; }

# request METHOD PATH [TOKEN] [EXTRA CURL ARGS...]: sets $status and the body in $work/body.
request() {
  local method=$1 path=$2 token=${3:-}
  shift 3 2>/dev/null || shift $#
  local auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  status=$(curl -sS -o "$work/body" -w '%{http_code}' -X "$method" ${tls[@]+"${tls[@]}"} ${auth[@]+"${auth[@]}"} "$@" "$base$path" || echo 000)
}

# expect NAME STATUS METHOD PATH [TOKEN] [EXTRA CURL ARGS...]
expect() {
  local name=$1 want=$2
  shift 2
  request "$@"
  if [ "$status" = "$want" ]; then pass "$name ($status)"; else fail "$name: expected $want, got $status: $(head -c 300 "$work/body")"; fi
}

# eventually NAME STATUS TIMEOUT_S METHOD PATH [TOKEN]: polls until the answer has STATUS.
eventually() {
  local name=$1 want=$2 timeout=$3 start=$SECONDS
  shift 3
  while :; do
    request "$@"
    if [ "$status" = "$want" ]; then pass "$name ($status after $((SECONDS - start))s)"; return 0; fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      fail "$name: still $status after ${timeout}s, expected $want: $(head -c 300 "$work/body")"
      return 1
    fi
    sleep 2
  done
}

mint() { # mint SUBJECT: a token from the development issuer (examples/keys)
  node dist/cli.js token --key examples/keys/dev-rs256.private.jwk.json \
    --issuer https://idp.example.test/ --audience shop --sub "$1" --ttl 15m
}
jti_of() { node -e 'console.log(JSON.parse(Buffer.from(process.argv[1].split(".")[1], "base64url")).jti)' "$1"; }
keycard() { kc -n "$keycard_ns" exec "$keycard_resource" -c keycard -- node dist/cli.js "$@" --config /etc/keycard/keycard.yaml --actor kind-test; }
reloads() { curl -fsS "http://127.0.0.1:$admin_port/metrics" 2>/dev/null | sed -n 's/^keycard_policy_reloads_total{result="ok"} //p' | head -n 1; }

alice=$(mint alice)
say "overlay $overlay: requests to $base (port-forward to 127.0.0.1:$port)"

echo "requests through Envoy"
if [ "$overlay" = shared ]; then
  expect "anyone browses the catalog (anonymous rule)" 200 GET /products/1
  expect "catalog writes need the admin role" 403 POST /products/1 "$alice"
else
  expect "probes reach /healthz without a credential" 200 GET /healthz
fi
expect "alice (customer) reads order 42" 200 GET /orders/42 "$alice"
if grep -qi '^x-keycard-subject: alice' "$work/body"; then pass "the app sees the verified subject"; else fail "the app did not get x-keycard-subject: alice: $(head -c 300 "$work/body")"; fi
expect "a spoofed identity header is replaced" 200 GET /orders/42 "$alice" -H "X-Keycard-Subject: root"
if grep -qi '^x-keycard-subject: root' "$work/body"; then fail "the spoofed x-keycard-subject reached the app"; else pass "the spoofed x-keycard-subject never reaches the app"; fi
expect "alice may not refund (needs finance)" 403 POST /orders/42/refund "$alice"
expect "no credential on a protected path" 401 GET /orders/42
expect "a token with a forged signature" 401 GET /orders/42 "${alice%.*}.c2lnbmF0dXJl"

echo "policy change through the ConfigMap (hot reload, no restart)"
before_reloads=$(reloads)
kc -n "$keycard_ns" get configmap keycard-policies -o jsonpath='{.data.orders\.yaml}' >"$work/orders.yaml"
grep -q '^rules:$' "$work/orders.yaml" || die "the deployed orders policy has no top-level 'rules:' line to add a rule after"
awk '{ print } /^rules:$/ { print "  - id: kind-test-freeze"; print "    effect: deny"; print "    match: { methods: [GET], paths: [\"/orders/42\"] }" }' \
  "$work/orders.yaml" >"$work/orders-frozen.yaml"
patch_policy() { # patch_policy FILE: the ConfigMap's orders.yaml becomes FILE
  kc -n "$keycard_ns" patch configmap keycard-policies --type merge \
    -p "$(node -e 'console.log(JSON.stringify({ data: { "orders.yaml": require("fs").readFileSync(process.argv[1], "utf8") } }))' "$1")" >/dev/null
}
restarts_before=$(kc -n "$keycard_ns" get pods -o jsonpath='{range .items[*]}{.status.containerStatuses[*].restartCount}{" "}{end}')
patch_policy "$work/orders-frozen.yaml"
# The kubelet refreshes ConfigMap volumes on its sync period (about a minute), then keycard reloads.
if eventually "a new deny rule takes effect" 403 180 GET /orders/42 "$alice"; then
  if grep -q 'explicit_deny' "$work/body"; then pass "denied by the new rule (explicit_deny)"; else fail "denied, but not by the new rule: $(head -c 300 "$work/body")"; fi
fi
patch_policy "$work/orders.yaml"
eventually "the restored policy allows again" 200 180 GET /orders/42 "$alice" || true
after_reloads=$(reloads)
say "keycard_policy_reloads_total{result=\"ok\"} on one pod: ${before_reloads:-?} → ${after_reloads:-?}"
restarts_after=$(kc -n "$keycard_ns" get pods -o jsonpath='{range .items[*]}{.status.containerStatuses[*].restartCount}{" "}{end}')
if [ "$restarts_before" = "$restarts_after" ]; then pass "no container restarted for the policy change"; else fail "containers restarted: $restarts_before → $restarts_after"; fi

if [ "$overlay" = prod ]; then
  echo "live state in Redis (every pod sees a change at once)"
  bob=$(mint bob)
  keycard roles revoke bob customer >/dev/null 2>&1 || true
  expect "bob (no role) may not read orders" 403 GET /orders/42 "$bob"
  keycard roles grant bob customer
  eventually "after 'keycard roles grant bob customer' bob reads orders" 200 15 GET /orders/42 "$bob" || true
  keycard roles revoke bob customer
  eventually "after 'keycard roles revoke' bob is denied again" 403 15 GET /orders/42 "$bob" || true

  victim=$(mint alice)
  expect "a fresh token of alice is accepted" 200 GET /orders/42 "$victim"
  keycard revoke token "$(jti_of "$victim")"
  eventually "after 'keycard revoke token JTI' that token is rejected" 401 15 GET /orders/42 "$victim" || true
  if grep -q 'token_revoked' "$work/body"; then pass "rejected as token_revoked"; else fail "not token_revoked: $(head -c 300 "$work/body")"; fi
  expect "alice's other tokens still work" 200 GET /orders/42 "$alice"
else
  say "role grants and revocations need the Redis store: run the prod overlay (make kind-up KIND_OVERLAY=prod) to check them"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
