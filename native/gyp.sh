# Sourced by an addon's build.sh, in the addon's folder, with the script's arguments, after it has
# set `name` (its folder), `without` (what Ferry does without it), `what` (what it is) and
# `packages` (the Debian packages it needs). Gives skip MESSAGE, which fails (exit 2) or, with
# --if-possible (npm's postinstall), says what is missing and exits 0, and gyp_rebuild, which builds
# the addon with node-gyp against the headers of the Node 24 that `npm ci` put in node_modules (the
# npm package `node`) and leaves $log, a scratch file for the addon's own check.
root=$(cd ../.. && pwd)
optional=false
[ "${1:-}" = --if-possible ] && optional=true

skip() {
  if $optional; then
    echo "ferry: $name addon not built ($1); $without. For the faster $what: apt-get install -y $packages, then bash native/$name/build.sh" >&2
    exit 0
  fi
  echo "cannot build the $name addon: $1" >&2
  exit 2
}

gyp_rebuild() {
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
}
