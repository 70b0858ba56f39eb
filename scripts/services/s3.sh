#!/usr/bin/env bash
# A real S3 server for the tests and benchmarks: throw-away single-node Ceph (one mon, one OSD on a
# sparse bluestore file, RADOS Gateway) from Debian packages, listening on 127.0.0.1 only. No
# systemd, no cephadm; everything lives under $FERRY_SERVICES_DIR/s3 and is wiped on each start.
# Daemons talk to each other without auth; S3 clients still sign every request with SigV4.
#
#   s3.sh packages      Debian packages it needs, one per line
#   s3.sh install       apt-get install them (run 'apt-get update' once before)
#   s3.sh start         fresh cluster, started and proven ready by a signed S3 round trip
#   s3.sh stop          stop every daemon started from the data folder (by pid file)
#   s3.sh restart-rgw   stop and start radosgw only (the data stays), for the server-restart tests
#   s3.sh env           export lines the tests read (FERRY_TEST_S3_*)
#   s3.sh status        ceph -s
# Env: FERRY_S3_PORT (7480; the mon uses port+10), FERRY_S3_STORE (bluestore|memstore),
#      FERRY_S3_SIZE (bytes of the sparse bluestore file or the memstore RAM cap).
set -euo pipefail
PORT=${FERRY_S3_PORT:-7480}
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/s3
STORE=${FERRY_S3_STORE:-bluestore}
if [ "$STORE" = memstore ]; then SIZE=${FERRY_S3_SIZE:-8589934592}; else SIZE=${FERRY_S3_SIZE:-53687091200}; fi
MON_PORT=$((PORT + 10))
AK=ferrytestkey SK=ferrytestsecret
C=$DIR/ceph.conf
export CEPH_CONF=$C

packages() { printf '%s\n' ceph-mon ceph-osd radosgw ceph-common ceph-base libtcmalloc-minimal4 curl iproute2; }

install() {
  # shellcheck disable=SC2046
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $(packages)
}

configure() {
  rm -rf "$DIR"; mkdir -p "$DIR"/{mon.a,osd.0,rgw.a,run,log}
  local fsid; fsid=$(cat /proc/sys/kernel/random/uuid)
  cat > "$C" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
ms bind ipv4 = true
ms bind ipv6 = false
# Ceph keeps recent debug lines in memory at every level above 0/0: that costs CPU on every
# request, and on these 2 cores the client and the server share it.
debug ms = 0/0
debug rgw = 0/0
debug osd = 0/0
debug bluestore = 0/0
debug bluefs = 0/0
debug bdev = 0/0
debug rocksdb = 0/0
debug objecter = 0/0
debug rados = 0/0
debug monc = 0/0
debug auth = 0/0
debug filestore = 0/0
debug journal = 0/0
debug paxos = 0/0
debug mon = 0/0
debug asok = 0/0
debug throttle = 0/0
debug refs = 0/0
debug crush = 0/0
debug objclass = 0/0
debug finisher = 0/0
debug heartbeatmap = 0/0
debug perfcounter = 0/0
debug optracker = 0/0
debug objectcacher = 0/0
debug client = 0/0
debug memstore = 0/0
debug context = 0/0
debug lockdep = 0/0
debug buffer = 0/0
debug timer = 0/0
debug tp = 0/0
debug prioritycache = 0/0
# The server shares 2 cores with the client under test: per-request bookkeeping that a throw-away
# single-node test server does not need (in-flight op history, CRCs on loopback messages) is off.
osd enable op tracker = false
ms crc data = false
ms crc header = false
[mon]
mon data = $DIR/mon.\$id
mon initial members = a
mon cluster log file = $DIR/log/cluster.log
[osd]
osd data = $DIR/osd.\$id
# At start-up an OSD asks the mon to set its device class and to place it in the CRUSH map, and
# exits if either is refused; both can be refused for a zero fsid (see mon_command below). The
# script places the OSD in the CRUSH map itself; no pool here needs a device class.
osd crush update on start = false
osd class update on start = false
osd objectstore = $STORE
memstore device bytes = $SIZE
bluestore block path = $DIR/osd.\$id/block.file
bluestore block create = true
bluestore block size = $SIZE
bluestore fsck on mount = false
osd class dir = /usr/lib/x86_64-linux-gnu/rados-classes
# A test server on a busy machine must be slow, never dead: with the disk starved (seen at load
# 120 on 2 cores) a commit took 186 s and the OSD's own watchdog aborted it, taking every S3 test
# with it. The watchdogs that end a thread or the OSD for slowness are off; the warnings stay.
osd op thread suicide timeout = 0
osd recovery thread suicide timeout = 0
filestore op thread suicide timeout = 0
[client.rgw.a]
rgw data = $DIR/rgw.a
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
# One bucket-index shard (Ceph's default is 11): a listing then reads one index object instead of
# merging eleven, which is what a test bucket of at most ~100,000 keys wants. Dynamic resharding
# still splits a bucket that grows past rgw_max_objs_per_shard.
rgw override bucket index max shards = 1
EOF
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$DIR/monmap" -c "$C"
}

# A Ceph 16 client (the ceph command, an OSD) first fetches the monmap and config, then starts its
# mon client again from the mon addresses alone: that map has a zero fsid until the mon's monmap
# arrives. With auth none the session is ready before it does, so a first command can leave with
# the zero fsid, and the mon refuses it ("wrong fsid"; the ceph command says "problem getting
# command descriptions", EPERM). Seen in the client's log (debug monc 20) and the mon's
# ("handle_command on fsid 00000000-..."): lost at one start in three here, two in three with the
# machine loaded. A refused command did nothing, so it is sent again; any other failure is final.
mon_command() {
  local try err=$DIR/log/mon-command.err
  for try in 1 2 3 4 5; do
    ceph "$@" 2>"$err" && return 0
    grep -q 'problem getting command descriptions\|wrong fsid' "$err" || break
  done
  cat "$err" >&2
  return 1
}

# A SigV4-signed request with plain curl, so that readiness needs no S3 client.
s3curl() {
  curl -fsS -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" -u "$AK:$SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X "$1" "http://127.0.0.1:$PORT/$2"
}

# Ceph is built for tcmalloc, but Debian's daemons run on glibc's malloc, which took an eighth of
# the server's CPU on small PUTs (buffers allocated and freed for every request); with tcmalloc the
# server spends ~10% less CPU per PUT on these shared cores.
TCMALLOC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
with_tcmalloc() { if [ -f "$TCMALLOC" ]; then LD_PRELOAD=$TCMALLOC "$@"; else "$@"; fi; }

start_rgw() {
  local i
  with_tcmalloc radosgw -n client.rgw.a -c "$C"
  for i in $(seq 1 240); do curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "radosgw did not answer on port $PORT, see $DIR/log" >&2; return 1
}

wait_s3_ready() {
  local i
  for i in $(seq 1 120); do
    if s3curl PUT ready-probe 2>/dev/null && s3curl DELETE ready-probe 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "radosgw not ready, see $DIR/log" >&2; return 1
}

start() {
  # A safety net: each attempt starts the whole cluster from scratch (in a child process so that
  # set -e applies inside). A failed attempt's logs are kept beside the data folder.
  local attempt
  stop   # daemons left over from an earlier run in the same folder (a crash, a killed script)
  rm -rf "$DIR".attempt-*-log
  for attempt in 1 2 3; do
    if bash "$0" start-once; then return 0; fi
    [ -d "$DIR/log" ] && mv "$DIR/log" "$DIR.attempt-$attempt-log"
    echo "ceph start attempt $attempt failed (logs: $DIR.attempt-$attempt-log); retrying from scratch" >&2
    stop; sleep 1
  done
  return 1
}

start_once() {
  local p i up=0
  for p in "$PORT" "$MON_PORT"; do
    if ss -Hltn "sport = :$p" | grep -q .; then echo "port $p already in use" >&2; return 1; fi
  done
  configure
  ceph-mon -i a -c "$C"
  mon_command --connect-timeout 120 -s >/dev/null
  local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_command osd new "$uuid" >/dev/null
  # What the OSD would do at start-up (see "osd crush update on start" above), done before it starts.
  mon_command osd crush add osd.0 1 host=localhost root=default
  ceph-osd -i 0 --mkfs --osd-uuid "$uuid" -c "$C" 2>>"$DIR/log/mkfs.log"
  with_tcmalloc ceph-osd -i 0 -c "$C" 2>>"$DIR/log/osd-start.log" || { echo "osd.0 did not start, see $DIR/log/osd-start.log and osd.0.log" >&2; return 1; }
  for i in $(seq 1 240); do ceph osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1' && { up=1; break; }; sleep 0.5; done
  [ $up = 1 ] || { echo "osd.0 not up after 120 s, see $DIR/log/osd.0.log" >&2; return 1; }
  start_rgw
  radosgw-admin user create --uid=ferry-test --display-name=ferry-test --access-key="$AK" --secret="$SK" >/dev/null
  wait_s3_ready
  echo "ceph radosgw ($STORE) ready on http://127.0.0.1:$PORT"
}

# Sends SIGTERM to the pids, waits up to ~3 s, then SIGKILL: the data is throw-away.
stop_pids() {
  local p i
  [ -n "$*" ] || return 0
  kill "$@" 2>/dev/null || true
  for i in $(seq 1 12); do
    for p in "$@"; do kill -0 "$p" 2>/dev/null && break; p=""; done
    [ -z "$p" ] && return 0
    sleep 0.25
  done
  kill -9 "$@" 2>/dev/null || true
}

stop() {
  local f pids=()
  [ -d "$DIR/run" ] || return 0
  for f in "$DIR"/run/*.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); rm -f "$f"; done
  stop_pids "${pids[@]}"
}

restart_rgw() {
  local f=$DIR/run/client.rgw.a.pid i
  [ -f "$f" ] || { echo "radosgw is not running from $DIR" >&2; return 1; }
  stop_pids "$(cat "$f")"; rm -f "$f"
  for i in $(seq 1 40); do ss -Hltn "sport = :$PORT" | grep -q . || break; sleep 0.25; done
  start_rgw
  wait_s3_ready
}

envvars() {
  echo "export FERRY_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT FERRY_TEST_S3_ACCESS_KEY=$AK FERRY_TEST_S3_SECRET_KEY=$SK FERRY_TEST_S3_DIR=$DIR"
}

case "${1:-}" in
  packages) packages ;; install) install ;; start) start ;; start-once) start_once ;; stop) stop ;;
  restart-rgw) restart_rgw ;; env) envvars ;; status) ceph -s ;;
  *) echo "usage: $0 packages|install|start|stop|restart-rgw|env|status" >&2; exit 2 ;;
esac
