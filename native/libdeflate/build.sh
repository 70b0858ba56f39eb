#!/usr/bin/env bash
# Builds Ferry's gzip engine, the libdeflate Node-API addon, into
# native/libdeflate/build/Release/deflate_addon.node. Nothing is downloaded: libdeflate and a C
# toolchain come from Debian (scripts/services/libdeflate.sh names them: libdeflate-dev,
# build-essential, python3 for node-gyp), node-gyp from npm, and Node's headers from the Node 24
# that `npm ci` installed in node_modules (the npm package `node`). The addon uses Node-API only.
#
#   bash native/libdeflate/build.sh                  builds, or fails saying what is missing
#   bash native/libdeflate/build.sh --if-possible    (npm's postinstall) builds when the headers
#        and tools are there, and otherwise says so and exits 0: Ferry then gzips with Node's zlib
set -euo pipefail
cd "$(dirname "$0")"
name=libdeflate what=engine packages='libdeflate-dev build-essential python3'
without="Ferry gzips with Node's zlib"
. ../gyp.sh "$@"

[ -f /usr/include/libdeflate.h ] || skip "no libdeflate.h (Debian package libdeflate-dev)"
gyp_rebuild
# A shared object links with symbols left undefined, and Node binds them at their first call: an
# addon built without libdeflate's code would load, then end the process mid-ingest. So it must
# compress once here, in a child, or it is removed and Ferry keeps Node's zlib.
addon=build/Release/deflate_addon.node
node -e 'const a = require(process.argv[1]); const o = new Uint8Array(a.gzipBound(3)); if (!(a.gzipSync(new Uint8Array([1, 2, 3]), 1, o) > 0)) process.exit(1)' "$PWD/$addon" >"$log" 2>&1 \
  || { cat "$log" >&2; rm -rf build; skip "the addon built but does not compress (output above)"; }
echo "ferry: built the libdeflate addon (native/libdeflate/build/Release/deflate_addon.node)" >&2
