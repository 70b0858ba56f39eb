#!/usr/bin/env bash
# Throw-away RabbitMQ (Debian's rabbitmq-server, AMQP 0-9-1) for the Zocalo tests: one node with its
# own epmd, everything under $FERRY_SERVICES_DIR/rabbitmq, 127.0.0.1 only, non-default ports, no
# systemd, fresh at every start. The vhost `zocalo` is the one Zocalo and SynchWeb use.
# Verbs: packages | install | start | stop | env
set -euo pipefail
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/rabbitmq
PORT=${FERRY_RABBITMQ_PORT:-55672}
DIST_PORT=${FERRY_RABBITMQ_DIST_PORT:-55682}
EPMD_PORT=${FERRY_RABBITMQ_EPMD_PORT:-54369}
VHOST=zocalo
USER_NAME=ferry
PASSWORD=ferrypw
log() { echo "rabbitmq.sh: $*"; }

# Every rabbitmq command (server and CLI tools) reads these: a private node name, config, data,
# cookie ($HOME) and epmd, so a system RabbitMQ or another Erlang node on this machine is never touched.
node_env() {
  export HOME=$DIR/home
  export RABBITMQ_CONF_ENV_FILE=$DIR/etc/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$DIR/etc/rabbitmq.conf
  export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/etc/enabled_plugins
  export RABBITMQ_NODENAME=ferry-test@localhost
  export RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_MNESIA_BASE=$DIR/mnesia
  export RABBITMQ_LOG_BASE=$DIR/log
  export RABBITMQ_PID_FILE=$DIR/run/rabbitmq.pid
  export RABBITMQ_DIST_PORT=$DIST_PORT
  export ERL_EPMD_PORT=$EPMD_PORT
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# The tools under /usr/sbin switch to /var/lib/rabbitmq (and its cookie); these read $HOME.
RMQ_BIN=/usr/lib/rabbitmq/bin
as_rabbit() { runuser -u rabbitmq --preserve-environment -- "$@"; }
ctl() { as_rabbit "$RMQ_BIN/rabbitmqctl" "$@"; }

wait_for() { # wait_for <seconds> <cmd...>
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || { log "timed out waiting for: $*"; return 1; }
    sleep 0.5
  done
}

start() {
  [ -x "$RMQ_BIN/rabbitmq-server" ] || { log "no RabbitMQ server (run: $0 install)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
  mkdir -p "$DIR"/{etc,home,mnesia,log,run}
  : >"$DIR/etc/rabbitmq-env.conf"
  echo '[].' >"$DIR/etc/enabled_plugins"
  cat >"$DIR/etc/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$PORT
loopback_users = none
log.file.level = warning
log.console = false
CONF
  # The Erlang cookie must be private to its owner, or every node and CLI tool refuses it.
  head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$DIR/home/.erlang.cookie"
  chmod 0400 "$DIR/home/.erlang.cookie"
  chown -R rabbitmq:rabbitmq "$DIR"; chmod 0755 "$DIR"
  runuser -u rabbitmq -- test -x "$DIR" || { log "user rabbitmq cannot reach $DIR: set FERRY_SERVICES_DIR to a folder every user can traverse (e.g. under /tmp)" >&2; exit 1; }
  node_env
  # epmd first, as its own process on its own port, so that `stop` can end exactly this one.
  as_rabbit setsid epmd -port "$EPMD_PORT" -address 127.0.0.1 </dev/null >"$DIR/log/epmd.log" 2>&1 &
  wait_for 20 epmd -port "$EPMD_PORT" -names
  as_rabbit setsid "$RMQ_BIN/rabbitmq-server" </dev/null >"$DIR/log/server.out" 2>&1 &
  if ! wait_for 120 ctl -q await_startup; then
    tail -30 "$DIR/log/server.out" >&2 || true
    exit 1
  fi
  ctl -q add_vhost "$VHOST"
  ctl -q add_user "$USER_NAME" "$PASSWORD" >/dev/null
  ctl -q set_user_tags "$USER_NAME" administrator
  ctl -q set_permissions -p "$VHOST" "$USER_NAME" '.*' '.*' '.*'
  log "RabbitMQ $(ctl -q version) ready on 127.0.0.1:$PORT, vhost $VHOST (data in $DIR)"
}

stop() {
  [ -d "$DIR" ] || return 0
  node_env
  if [ -s "$RABBITMQ_PID_FILE" ]; then
    # `stop <pidfile>` returns once the node's OS process has exited.
    ctl -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || {
      kill -KILL "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null || true
    }
    rm -f "$RABBITMQ_PID_FILE"
  fi
  # epmd ends itself on -kill once no node is registered with it.
  epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
  wait_for 20 bash -c "! epmd -port $EPMD_PORT -names"
}

case "${1:-}" in
  packages) printf '%s\n' rabbitmq-server ;;
  install) apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade rabbitmq-server >/dev/null ;;
  start) start ;;
  stop) stop ;;
  env)
    echo "export FERRY_TEST_ZOCALO_URL=amqp://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$VHOST"
    ;;
  *) echo "usage: $0 packages|install|start|stop|env" >&2; exit 2 ;;
esac
