#!/usr/bin/env bash
# Installs Ferry's npm dependencies, Node 24 among them (the npm package `node`), from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
