#!/usr/bin/env bash
# Builds the stage-folder lister of the FIB-SEM tab check, the listdir Node-API addon, into
# native/listdir/build/Release/listdir_addon.node. Nothing is downloaded: a C toolchain comes from
# Debian (build-essential, python3 for node-gyp), node-gyp from npm, Node's headers from the Node 24
# that `npm ci` installed in node_modules (the npm package `node`). It needs no library.
#
#   bash native/listdir/build.sh                  builds, or fails saying what is missing
#   bash native/listdir/build.sh --if-possible    (npm's postinstall) builds when the headers and
#        tools are there, and otherwise says so and exits 0: the check then lists with fs.readdir
set -euo pipefail
cd "$(dirname "$0")"
name=listdir what=lister packages='build-essential python3'
without='the FIB-SEM check lists folders with fs.readdir'
. ../gyp.sh "$@"

[ "$(uname -s)" = Linux ] || skip "it reads folders with Linux's getdents64"
gyp_rebuild
# It must list a folder once here, in a child, or it is removed and the check keeps fs.readdir.
addon=build/Release/listdir_addon.node
node -e 'require(process.argv[1]).listCores(process.argv[2], ".gyp").then((s) => process.exit(s === "binding\0" ? 0 : 1), () => process.exit(1))' "$PWD/$addon" "$PWD" >"$log" 2>&1 \
  || { cat "$log" >&2; rm -rf build; skip "the addon built but does not list this folder (output above)"; }
echo "ferry: built the listdir addon (native/listdir/build/Release/listdir_addon.node)" >&2
