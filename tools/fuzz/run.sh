#!/usr/bin/env bash
# `npm run fuzz -- --count 100000 [--seed N]`: the long form of the fuzz suite (test/fuzz.test.ts,
# generators and runner in test/fuzz/). Builds the server, starts the services, then fuzzes a
# Tally process of its own (database tally_test_fuzz, Redis index 13) with N generated requests
# over native gRPC, Connect JSON and Connect binary, with the connection-level scenarios beside
# them. Prints progress and a summary (requests by transport, answers by code, crashes,
# INTERNALs, refusals that do not name their field, memory); the summary is also written as JSON
# to tmp/fuzz-report.json. Exits non-zero when anything the suite checks did not hold; the seed
# to replay it is in the test's title.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/lib.sh

count=3000
seed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="${2:?--count needs a number}"; shift 2 ;;
    --seed) seed="${2:?--seed needs a number}"; shift 2 ;;
    *) die "usage: npm run fuzz -- [--count N] [--seed N]" ;;
  esac
done
[[ "$count" =~ ^[0-9]+$ ]] && [ "$count" -gt 0 ] || die "--count must be a positive whole number, got $count"

prepare_environment
log "build (the fuzz runs the built server, as users run it)"
npx nx run-many -t build --projects=@tally/server,@tally/rates-mock --output-style=static --verbose=false >/dev/null
mkdir -p tmp
log "fuzz: $count requests${seed:+, seed $seed}"
env FUZZ_COUNT="$count" FUZZ_REPORT=tmp/fuzz-report.json ${seed:+TALLY_TEST_SEED="$seed"} \
  npx vitest run test/fuzz.test.ts --reporter=verbose
