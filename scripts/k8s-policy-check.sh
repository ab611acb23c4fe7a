#!/usr/bin/env bash
# Checks the cluster's keycard configuration before `kubectl apply -k`: lays out the settings,
# seed, policies and (development) keys as the keycard container sees them under /etc/keycard,
# then runs `keycard lint --strict` and the policy unit tests (*.test.yaml beside the policies).
# Usage: scripts/k8s-policy-check.sh      (make k8s-policy-check; needs dist/, i.e. make build)
set -euo pipefail
cd "$(dirname "$0")/.."
config=deploy/k8s/config

etc=$(mktemp -d)
trap 'rm -rf "$etc"' EXIT
mkdir -p "$etc/keys"
cp "$config/keycard.yaml" "$config/seed.yaml" "$etc/"
cp -R "$config/policies" "$etc/policies"
cp deploy/k8s/components/dev-keys/jwks.json "$etc/keys/jwks.json"

node dist/cli.js lint --strict --config "$etc/keycard.yaml"
node dist/cli.js test --config "$etc/keycard.yaml"
