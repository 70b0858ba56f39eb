# Sourced by an addon's build.sh, in the addon's folder, after it has set $root and defined skip():
# builds the addon with node-gyp against the headers of the Node 24 that `npm ci` put in
# node_modules (the npm package `node`), or calls skip saying what is missing. Leaves $log, a
# scratch file for the addon's own check.
nodedir=$(ls -d "$root"/node_modules/node/node_modules/node-linux-*/ 2>/dev/null | head -n1)
[ -n "$nodedir" ] && [ -f "$nodedir/include/node/node_api.h" ] || skip "no Node headers under node_modules/node: run npm ci first"
for tool in cc c++ make python3; do command -v "$tool" >/dev/null || skip "no $tool (Debian packages build-essential, python3)"; done
# npm names its own node-gyp to the scripts it runs; outside npm, take the one npm bundles.
gyp=${npm_config_node_gyp:-}
[ -f "$gyp" ] || gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || skip "no node-gyp (it comes with npm)"
export PATH="$root/node_modules/.bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
node "$gyp" rebuild --nodedir="$nodedir" --loglevel=warn >"$log" 2>&1 || { cat "$log" >&2; skip "node-gyp failed (output above)"; }
