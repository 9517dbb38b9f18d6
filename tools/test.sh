#!/usr/bin/env bash
# `npm test`: the whole suite, from a fresh clone. Installs what is missing, starts the
# services, checks the contracts, lints (module boundaries included) and type-checks every
# project, then runs every vitest project (unit, integration and end-to-end) against the real
# PostgreSQL and Redis. Ends with one summary line: `tests: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

prepare_environment
log "contracts"
bash tools/check-contracts.sh
log "lint and typecheck (nx run-many)"
npx nx run-many -t lint typecheck --output-style=static --verbose=false
log "build (the fault suites run the built server as users do)"
npx nx run-many -t build --output-style=static --verbose=false
log "tests (vitest)"
mkdir -p tmp
status=0
npx vitest run --reporter=default --reporter=json --outputFile=tmp/vitest-report.json "$@" || status=$?
if [ -f tmp/vitest-report.json ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$PWD/tmp/vitest-report.json"
fi
exit "$status"
