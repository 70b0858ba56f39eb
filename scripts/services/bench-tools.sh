#!/usr/bin/env bash
# Not a service: the Debian tools the benchmarks compare Ferry against (NumPy/Pillow for the InLens
# conversion, rsync, rclone and the AWS CLI for transfers, zarr-python with boto3 for volume ingest,
# GNU time for CPU and memory), listed here
# so that scripts/test-all.sh installs them on a fresh machine. Verbs: packages | install | start | stop | env
set -euo pipefail
PACKAGES=(python3-numpy python3-pil python3-zarr python3-boto3 rsync rclone awscli time)

case "${1:-}" in
  packages) printf '%s\n' "${PACKAGES[@]}" ;;
  install) apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade "${PACKAGES[@]}" >/dev/null ;;
  start | stop | env) ;;
  *) echo "usage: $0 packages|install|start|stop|env" >&2; exit 2 ;;
esac
