#!/usr/bin/env bash
# The one command that proves Ferry works on a fresh machine: installs Ferry and every service the
# tests need (from Debian and npm only), starts the services on 127.0.0.1, runs the type check and
# every test, and stops the services whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export FERRY_SERVICES_DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}
mkdir -p "$FERRY_SERVICES_DIR"
log() { echo "[test-all $(date +%T)] $*"; }

services=()
for f in scripts/services/*.sh; do services+=("$(basename "$f" .sh)"); done

# 1. Packages: one apt transaction for every service, then Ferry's own npm install.
pkgs=$(for s in "${services[@]}"; do bash "scripts/services/$s.sh" packages; done | sort -u | tr '\n' ' ')
missing=$(for p in $pkgs; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done | tr '\n' ' ')
if [ -n "${missing// }" ]; then
  log "installing Debian packages: $missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null
fi
log "installing Ferry (npm ci)"
bash scripts/install.sh
export PATH=$ROOT/node_modules/.bin:$PATH

# 2. Services: started in the background of this script, stopped on any exit.
stop_all() {
  for s in "${services[@]}"; do bash "scripts/services/$s.sh" stop >/dev/null 2>&1 || true; done
}
trap stop_all EXIT
for s in "${services[@]}"; do
  log "starting $s"
  bash "scripts/services/$s.sh" start
  eval "$(bash "scripts/services/$s.sh" env)"
done

# 3. Tests.
log "type check"
npm run --silent typecheck
log "tests"
npm test
