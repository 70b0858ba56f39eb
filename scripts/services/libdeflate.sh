#!/usr/bin/env bash
# Not a service: Ferry's gzip engine, the libdeflate Node-API addon (native/libdeflate), needs
# Debian's libdeflate-dev (headers and the static library it links), a C toolchain and python3 for
# node-gyp. Listed here so that scripts/test-all.sh installs them before `npm ci`, whose postinstall
# then builds the addon (native/libdeflate/build.sh --if-possible: on a machine without them Ferry
# gzips with Node's zlib instead). `start` builds it if it is still missing, e.g. when the packages
# came after `npm ci`. Verbs: packages | install | start | stop | env
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKAGES=(libdeflate-dev build-essential python3)
ADDON=native/libdeflate/build/Release/deflate_addon.node

case "${1:-}" in
  packages) printf '%s\n' "${PACKAGES[@]}" ;;
  install)
    apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade "${PACKAGES[@]}" >/dev/null
    bash native/libdeflate/build.sh
    ;;
  start) [ -f "$ADDON" ] || bash native/libdeflate/build.sh ;;
  stop | env) ;;
  *) echo "usage: $0 packages|install|start|stop|env" >&2; exit 2 ;;
esac
