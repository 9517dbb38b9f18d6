#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer at DATABASE_URL and REDIS_URL (defaults: the local
# ones). A local service that is down is started; one that is not installed is installed from
# Debian's packages first. A remote one is only waited for.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/tally}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
WAIT_SECONDS=${TALLY_SERVICE_WAIT_SECONDS:-30}

# host and port of a URL, via Node (always present) rather than fragile shell parsing.
url_part() { node -e 'const u = new URL(process.argv[1]); console.log(process.argv[2] === "host" ? u.hostname.replace(/^\[|\]$/g, "") : (u.port || process.argv[3]))' "$1" "$2" "${3:-}"; }
is_local() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() { # name host port
  local i
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    if tcp_open "$2" "$3"; then return 0; fi
    sleep 1
  done
  die "$1 did not answer at $2:$3 within ${WAIT_SECONDS}s"
}

ensure_postgres() {
  local host port
  host=$(url_part "$DATABASE_URL" host); port=$(url_part "$DATABASE_URL" port 5432)
  if tcp_open "$host" "$port"; then return 0; fi
  is_local "$host" || { log "waiting for PostgreSQL at $host:$port"; wait_for PostgreSQL "$host" "$port"; return 0; }
  if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    log "creating PostgreSQL $version cluster 'main' on port $port"
    as_root pg_createcluster --port "$port" "$version" main >/dev/null
    # A cluster we made ourselves is a local development one: trust local TCP connections so
    # the default DATABASE_URL (user postgres, no password) works, as on the CI machines.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL "$host" "$port"
}

ensure_redis() {
  local host port
  host=$(url_part "$REDIS_URL" host); port=$(url_part "$REDIS_URL" port 6379)
  if tcp_open "$host" "$port"; then return 0; fi
  is_local "$host" || { log "waiting for Redis at $host:$port"; wait_for Redis "$host" "$port"; return 0; }
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  log "starting Redis on port $port"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/tally.log
  wait_for Redis "$host" "$port"
}

ensure_postgres
ensure_redis
log "PostgreSQL and Redis are up"
