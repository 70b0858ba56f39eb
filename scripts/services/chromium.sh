#!/usr/bin/env bash
# Headless Chromium for the browser tests (Neuroglancer's own viewer opening what Ferry wrote),
# driven by playwright-core with executablePath. Not a server: the tests launch it themselves.
set -euo pipefail
BIN=${FERRY_CHROMIUM:-/usr/bin/chromium}

packages() { printf '%s\n' chromium; }

case "${1:-}" in
  packages) packages ;;
  # shellcheck disable=SC2046
  install) DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $(packages) ;;
  start) "$BIN" --version >/dev/null ;;
  stop) ;;
  env) echo "export FERRY_TEST_CHROMIUM=$BIN" ;;
  *)
    echo "usage: $0 packages|install|start|stop|env" >&2
    exit 2
    ;;
esac
