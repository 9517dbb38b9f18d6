#!/usr/bin/env bash
# `npm start`: dependencies, services, build, then Tally in the foreground (API and worker in
# one process; migrations run at start-up) next to the mock exchange-rate provider, until
# Ctrl-C or SIGTERM. With TALLY_RATES_URL set, Tally uses that provider and no mock starts.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

prepare_environment
log "building (cached when nothing changed)"
if ! npx nx run-many -t build --projects=@tally/server,@tally/worker,@tally/rates-mock,@tally/console --output-style=static --verbose=false >/dev/null; then
  npx nx run-many -t build --projects=@tally/server,@tally/worker,@tally/rates-mock,@tally/console --output-style=static --skip-nx-cache
  die "build failed"
fi

if [ -z "${TALLY_RATES_URL:-}" ]; then
  log "starting the mock rate provider on http://127.0.0.1:${RATES_MOCK_PORT:-8090} (set TALLY_RATES_URL to use another)"
  node apps/rates-mock/dist/main.js &
  mock=$!
  trap 'kill "$mock" 2>/dev/null || true' EXIT
  export TALLY_RATES_URL="http://127.0.0.1:${RATES_MOCK_PORT:-8090}"
fi

log "starting Tally"
node apps/server/dist/main.js &
server=$!
# Forward a stop request to Tally and wait for it to finish shutting down.
trap 'kill -TERM "$server" 2>/dev/null || true' INT TERM
status=0
wait "$server" || status=$?
if kill -0 "$server" 2>/dev/null; then wait "$server" || status=$?; fi
exit "$status"
