# Shared by the tools/*.sh scripts: logging and privilege for installs.
log() { printf '[tally] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# Package installs need root; use sudo when we are not root and it exists.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root to run: $*"; fi
}
apt_install() {
  log "installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# What `npm start` and `npm test` both need first: dependencies and running services.
prepare_environment() {
  export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
  bash tools/ensure-deps.sh
  bash tools/ensure-services.sh
}
