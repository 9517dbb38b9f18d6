#!/usr/bin/env bash
# The contracts gate: buf lint, no breaking change against the frozen v1 baseline, and the
# generated code in libs/contracts matches proto/ (run `npm run gen` to regenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

npx buf lint
npx buf breaking --against tools/api/baseline.binpb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx buf generate --output "$tmp"
if ! diff -r "$tmp/libs/contracts/src/gen" libs/contracts/src/gen >/dev/null; then
  diff -r "$tmp/libs/contracts/src/gen" libs/contracts/src/gen | head -20 >&2 || true
  die "libs/contracts/src/gen is stale: run 'npm run gen' and commit the result"
fi
log "contracts: lint, breaking and generated code OK"
