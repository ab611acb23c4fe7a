#!/usr/bin/env bash
# Sends an allowed and a denied Check to a keycard started by `make run`, then shows the counts.
set -euo pipefail
cd "$(dirname "$0")/.."
grpc=${KEYCARD_GRPC:-127.0.0.1:9001}
admin=${KEYCARD_ADMIN:-http://127.0.0.1:9090}
keycard="node dist/cli.js"

token=$($keycard token --key examples/keys/dev-rs256.private.jwk.json \
  --issuer https://idp.example.test/ --audience shop --sub alice)

echo "# alice (role customer) reads order 42: allowed"
$keycard check --server "$grpc" --service orders --path /orders/42 --token "$token" || true
echo
echo "# alice asks for a refund (needs role finance): denied, 403"
$keycard check --server "$grpc" --service orders --method POST --path /orders/42/refund --token "$token" || true
echo
echo "# no credential on a protected path: denied, 401"
$keycard check --server "$grpc" --service orders --path /orders/42 || true
echo
echo "# decision counts from $admin/metrics"
curl -fsS "$admin/metrics" | grep '^keycard_decisions_total'
