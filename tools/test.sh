#!/usr/bin/env bash
# `npm test`: the whole suite, from a fresh clone. Installs what is missing, starts the
# services, checks the contracts, lints (module boundaries included) and type-checks every
# project, then runs every vitest project (unit, integration and end-to-end) against the real
# PostgreSQL and Redis. Ends with one summary line: `tests: N passed, N failed`.
#
# `npm run test:quick` (`tools/test.sh --quick`) is the inner loop: the same services, build
# and summary line, without the contracts check, lint and typecheck, and without the vitest
# project @tally/e2e-slow (the fault, bench, consistency and property suites).
# Arguments after --quick go to vitest, e.g. `npm run test:quick -- test/watch.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

quick=false
if [ "${1:-}" = "--quick" ]; then
  quick=true
  shift
fi

prepare_environment
bash tools/ensure-browser.sh # Chromium for the browser suites (console, CORS)
vitest_args=()
if [ "$quick" = false ]; then
  log "contracts"
  bash tools/check-contracts.sh
  log "lint and typecheck (nx run-many)"
  npx nx run-many -t lint typecheck --output-style=static --verbose=false
  log "build (the fault suites run the built server as users do)"
  npx nx run-many -t build --output-style=static --verbose=false
else
  # Only what a quick suite runs as built: worker.test.ts, the requeue tool (apps/server/dist).
  # Nx's cache skips it when nothing changed.
  log "build (@tally/server)"
  npx nx run-many -t build --projects=@tally/server --output-style=static --verbose=false
  vitest_args+=(--project '!@tally/e2e-slow')
fi
log "tests (vitest${vitest_args[*]:+ ${vitest_args[*]}})"
mkdir -p tmp
# A report left by an earlier run must not be summed up as this one's.
rm -f tmp/vitest-report.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile=tmp/vitest-report.json "${vitest_args[@]}" "$@" || status=$?
if [ -f tmp/vitest-report.json ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$PWD/tmp/vitest-report.json"
fi
exit "$status"
