#!/usr/bin/env bash
# The prebuilt Neuroglancer viewer (npm package @janelia-flyem/neuroglancer, folder dist/min) for
# the browser test, unpacked under $FERRY_SERVICES_DIR/neuroglancer; never committed. `npm
# install` of the package fails here (a dependency hosted elsewhere), `npm pack` and tar work.
set -euo pipefail
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/neuroglancer
PACKAGE=@janelia-flyem/neuroglancer@${FERRY_NEUROGLANCER_VERSION:-2.37.5}

packages() { :; }

start() {
  [ -f "$DIR/package/dist/min/index.html" ] && return
  rm -rf "$DIR" && mkdir -p "$DIR"
  (cd "$DIR" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz)
  [ -f "$DIR/package/dist/min/index.html" ] || { echo "no dist/min/index.html in $PACKAGE" >&2; exit 1; }
}

case "${1:-}" in
  packages) packages ;;
  # shellcheck disable=SC2046
  install) DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $(packages) ;;
  start) start ;;
  stop) ;;
  env) echo "export FERRY_TEST_NEUROGLANCER_DIR=$DIR/package/dist/min" ;;
  *)
    echo "usage: $0 packages|install|start|stop|env" >&2
    exit 2
    ;;
esac
