#!/usr/bin/env bash
# Throw-away PostgreSQL 15 for the ledger tests: its own cluster under $FERRY_SERVICES_DIR/pg,
# 127.0.0.1:55432 only, no systemd. Verbs: packages | install | start | stop | env | resume
# (start makes a fresh cluster; stop keeps the data, and resume starts the server on it again: the
# restart test stops it, lets the workers find the ledger down, then resumes it).
set -euo pipefail
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/pg
PORT=${FERRY_PG_PORT:-55432}
DB=ferry
USER_NAME=ferry
PASSWORD=ferrypw
PGDATA=$DIR/data
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_pg() { runuser -u postgres -- "$@"; }

# Durable commits stay on (fsync, synchronous_commit): the benchmark measures the real cost.
serve() {
  local BIN; BIN=$(pgbin)
  as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$DIR/log/postgres.log" -w -t 60 \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$DIR/run -c max_connections=200" start >/dev/null
  until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; do sleep 0.2; done
}

start() {
  local BIN; BIN=$(pgbin)
  [ -x "$BIN/initdb" ] || { echo "pg.sh: no PostgreSQL server binaries (run: $0 install)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"; mkdir -p "$DIR"; chmod 0755 "$DIR"
  install -d -o postgres -g postgres -m 0755 "$DIR/run" "$DIR/log"
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  as_pg "$BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >"$DIR/initdb.log"
  serve
  as_pg psql -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$PORT" -d postgres \
    -c "CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$PASSWORD'" \
    -c "CREATE DATABASE $DB OWNER $USER_NAME"
  echo "pg.sh: PostgreSQL ready on 127.0.0.1:$PORT (data in $PGDATA)"
}

stop() {
  local BIN; BIN=$(pgbin)
  if [ -s "$PGDATA/postmaster.pid" ]; then as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
  packages) printf '%s\n' postgresql-15 postgresql-client-15 ;;
  install) apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade postgresql-15 postgresql-client-15 >/dev/null ;;
  start) start ;;
  stop) stop ;;
  env)
    echo "export FERRY_TEST_PG_URL=postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
    # The restart test drives the server through this script.
    echo "export FERRY_TEST_PG_CTL=$(cd "$(dirname "$0")" && pwd)/pg.sh"
    ;;
  resume) serve ;;
  *) echo "usage: $0 packages|install|start|stop|env|resume" >&2; exit 2 ;;
esac
