#!/usr/bin/env bash
# TensorStore (Python), the independent implementation of Neuroglancer precomputed that Ferry's
# format tests check against (src/formats/precomputed/tensorstore.test.ts), and h5py (native
# libhdf5), which writes the HDF5 sections the volume tests ingest. Not a server: `start` only makes
# sure python3 can import both, installing them from the machine's pip index if needed.
set -euo pipefail
PYTHON=${FERRY_PYTHON:-python3}

install() {
  "$PYTHON" -m pip install --quiet --disable-pip-version-check tensorstore numpy h5py
}

case "${1:-}" in
  packages) ;; # nothing from Debian: the wheel comes through pip
  install) install ;;
  start)
    "$PYTHON" -c 'import tensorstore, h5py' 2>/dev/null || install
    "$PYTHON" -c 'import tensorstore, h5py'
    ;;
  stop) ;;
  env) echo "export FERRY_PYTHON=$(command -v "$PYTHON")" ;;
  *)
    echo "usage: $0 packages|install|start|stop|env" >&2
    exit 2
    ;;
esac
