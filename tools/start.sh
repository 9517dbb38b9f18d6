#!/usr/bin/env bash
# `npm start`: dependencies, services, build, then the server in the foreground (API and,
# once it exists, the worker, in one process). Migrations run at start-up.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

prepare_environment
log "building (cached when nothing changed)"
npx nx run-many -t build --projects=@tally/server --output-style=static --verbose=false >/dev/null || {
  npx nx run-many -t build --projects=@tally/server --output-style=static --skip-nx-cache
  die "build failed"
}
log "starting Tally"
exec node apps/server/dist/main.js
