#!/usr/bin/env bash
# Throw-away MariaDB (Debian's mariadb-server) for the ISPyB tests: its own data folder under
# $FERRY_SERVICES_DIR/mariadb, 127.0.0.1:53306 only, no systemd, fresh at every start.
# Tests create their own databases in it (src/testing/ispyb.ts loads ISPyB's tables).
# Verbs: packages | install | start | stop | env
set -euo pipefail
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/mariadb
PORT=${FERRY_MARIADB_PORT:-53306}
DB=ispyb
USER_NAME=ferry
PASSWORD=ferrypw
SOCK=$DIR/run/mariadbd.sock
PIDFILE=$DIR/run/mariadbd.pid
log() { echo "mariadb.sh: $*"; }

wait_for() { # wait_for <seconds> <cmd...>
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || { log "timed out waiting for: $*"; return 1; }
    sleep 0.2
  done
}

start() {
  [ -x /usr/sbin/mariadbd ] || { log "no MariaDB server binaries (run: $0 install)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"; mkdir -p "$DIR"; chmod 0755 "$DIR"
  runuser -u mysql -- test -x "$DIR" || { log "user mysql cannot reach $DIR: set FERRY_SERVICES_DIR to a folder every user can traverse (e.g. under /tmp)" >&2; exit 1; }
  install -d -o mysql -g mysql -m 0750 "$DIR/data"
  install -d -o mysql -g mysql -m 0755 "$DIR/run" "$DIR/log"
  # --no-defaults everywhere: the machine's /etc/mysql settings (a system server's socket, port,
  # datadir) must not leak into this private one.
  mariadb-install-db --no-defaults --user=mysql --datadir="$DIR/data" --auth-root-authentication-method=socket \
    --skip-test-db >"$DIR/log/install-db.log" 2>&1 || { cat "$DIR/log/install-db.log" >&2; exit 1; }
  setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DIR/data" --port="$PORT" \
    --bind-address=127.0.0.1 --socket="$SOCK" --pid-file="$PIDFILE" --log-error="$DIR/log/mariadbd.err" \
    --max-connections=300 --character-set-server=utf8mb4 </dev/null >/dev/null 2>&1 &
  if ! wait_for 60 mariadb-admin --no-defaults --socket="$SOCK" -u root ping; then
    tail -20 "$DIR/log/mariadbd.err" >&2 || true
    exit 1
  fi
  mariadb --no-defaults --socket="$SOCK" -u root <<SQL
CREATE USER '$USER_NAME'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
CREATE USER '$USER_NAME'@'localhost' IDENTIFIED BY '$PASSWORD';
-- Tests create and drop one database each, and ISPyB's schema defines routines.
GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'localhost' WITH GRANT OPTION;
CREATE DATABASE $DB;
SQL
  log "MariaDB $(mariadbd --version | awk '{print $3}') ready on 127.0.0.1:$PORT (data in $DIR/data)"
}

stop() {
  [ -s "$PIDFILE" ] || return 0
  local pid; pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || true
  # mariadbd removes its pid file last, after InnoDB has shut down cleanly.
  local end=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < end)) || { kill -KILL "$pid" 2>/dev/null || true; break; }
    sleep 0.2
  done
  rm -f "$PIDFILE"
}

case "${1:-}" in
  packages) printf '%s\n' mariadb-server mariadb-client ;;
  install) apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade mariadb-server mariadb-client >/dev/null ;;
  start) start ;;
  stop) stop ;;
  env)
    echo "export FERRY_TEST_ISPYB_URL=mysql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
    ;;
  *) echo "usage: $0 packages|install|start|stop|env" >&2; exit 2 ;;
esac
