#!/usr/bin/env bash
# RELION 3.1 from Debian for the RELION runner's tests and benchmark (src/processing/relion/). Not a
# server: `start` only checks that the programs the runner calls are installed and run.
# ghostscript: RELION's MotionCorr calls `gs` to turn its plots into logfile.pdf (without it the job
# still succeeds but leaves an empty PDF and an error line in run.err).
# csh: RELION's CtfFind runs CTFFIND through a generated `csh` script per micrograph; without csh
# every micrograph is skipped and the job still "succeeds". (CTFFIND itself is not in Debian.)
# Verbs: packages | install | start | stop | env
set -euo pipefail
PACKAGES=(relion ghostscript csh)
PROGRAMS=(relion_pipeliner relion_import relion_run_motioncorr relion_run_ctffind)

start() {
  local p
  for p in "${PROGRAMS[@]}"; do
    command -v "$p" >/dev/null || { echo "relion.sh: $p not found (Debian package relion; run: $0 install)" >&2; exit 1; }
    # Some programs exit non-zero after printing the version (they miss their other arguments).
    grep -q '^RELION version: 3\.1' <<<"$("$p" --version 2>&1 || true)" || { echo "relion.sh: $p does not run or is not RELION 3.1" >&2; exit 1; }
  done
  command -v gs >/dev/null || { echo "relion.sh: gs not found (Debian package ghostscript; run: $0 install)" >&2; exit 1; }
  command -v csh >/dev/null || { echo "relion.sh: csh not found (Debian package csh; run: $0 install)" >&2; exit 1; }
  echo "relion.sh: $(relion_pipeliner --version 2>&1 | head -1 | sed 's/ *$//') in $(dirname "$(command -v relion_pipeliner)")"
}

case "${1:-}" in
  packages) printf '%s\n' "${PACKAGES[@]}" ;;
  install) DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade "${PACKAGES[@]}" >/dev/null ;;
  start) start ;;
  stop) ;;
  env) echo "export FERRY_RELION_BIN=$(dirname "$(command -v relion_pipeliner || echo /usr/bin/relion_pipeliner)")" ;;
  *)
    echo "usage: $0 packages|install|start|stop|env" >&2
    exit 2
    ;;
esac
