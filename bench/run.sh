#!/usr/bin/env bash
# Runs one benchmark by name (bench/NAME.ts), or all of them: npm run bench -- [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls bench/*.ts | xargs -n1 basename | sed 's/\.ts$//' | grep -vxE 'lib|trees|upload-breakdown|upload-trace'))
for n in "${names[@]}"; do
  echo "## bench/$n"
  node "bench/$n.ts"
done
