#!/usr/bin/env bash
# TensorStore (Python), the independent implementation of Neuroglancer precomputed that Ferry's
# format tests check against (src/formats/precomputed/tensorstore.test.ts). Not a server: `start`
# only makes sure python3 can import it, installing it from the machine's pip index if needed.
set -euo pipefail
PYTHON=${FERRY_PYTHON:-python3}

install() {
  "$PYTHON" -m pip install --quiet --disable-pip-version-check tensorstore numpy
}

case "${1:-}" in
  packages) ;; # nothing from Debian: the wheel comes through pip
  install) install ;;
  start)
    "$PYTHON" -c 'import tensorstore' 2>/dev/null || install
    "$PYTHON" -c 'import tensorstore'
    ;;
  stop) ;;
  env) echo "export FERRY_PYTHON=$(command -v "$PYTHON")" ;;
  *)
    echo "usage: $0 packages|install|start|stop|env" >&2
    exit 2
    ;;
esac
