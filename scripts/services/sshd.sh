#!/usr/bin/env bash
# A real OpenSSH server standing in for the microscope PC in the FIB-SEM tests: 127.0.0.1:2222 only,
# its own host key, a generated ed25519 user key authorised for the dedicated account `ferryscope`,
# and a client config with the alias `scope1` written the way users write ~/.ssh/config. No systemd:
# sshd runs directly from this script. Verbs: packages | install | start | stop | env
set -euo pipefail
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/sshd
PORT=${FERRY_SSHD_PORT:-2222}
SCOPE_USER=ferryscope
SSHD=/usr/sbin/sshd

start() {
  [ -x "$SSHD" ] || { echo "sshd.sh: no $SSHD (run: $0 install)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
  mkdir -p "$DIR/server" "$DIR/client"
  chmod 0755 "$DIR" "$DIR/server"
  # sshd's privilege-separation directory; Debian creates it from systemd, which is not running here.
  mkdir -p /run/sshd && chmod 0755 /run/sshd
  if ! id -u "$SCOPE_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$SCOPE_USER"
  fi
  # useradd leaves the password as "!", which sshd (without PAM) treats as a locked account.
  usermod -p '*' "$SCOPE_USER"

  ssh-keygen -q -t ed25519 -N '' -C ferry-sshd-host -f "$DIR/server/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C ferry-test-user -f "$DIR/client/id_ed25519"
  install -m 0644 "$DIR/client/id_ed25519.pub" "$DIR/server/authorized_keys"
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$DIR/server/host_ed25519.pub")" >"$DIR/client/known_hosts"

  # StrictModes off: the key files live under the services folder (often below the world-writable
  # /tmp), which sshd's ownership walk up to / would otherwise reject.
  cat >"$DIR/server/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/server/host_ed25519
PidFile $DIR/server/sshd.pid
AuthorizedKeysFile $DIR/server/authorized_keys
AllowUsers $SCOPE_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 64:30:128
MaxSessions 64
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF

  cat >"$DIR/client/ssh_config" <<EOF
Host scope1
  HostName 127.0.0.1
  Port $PORT
  User $SCOPE_USER
  IdentityFile $DIR/client/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/client/known_hosts
  StrictHostKeyChecking yes
EOF

  "$SSHD" -t -f "$DIR/server/sshd_config"
  "$SSHD" -f "$DIR/server/sshd_config" -E "$DIR/server/sshd.log"
  # Ready means a real login works, not just an open port.
  for _ in $(seq 1 100); do
    if ssh -F "$DIR/client/ssh_config" -o BatchMode=yes -o ConnectTimeout=2 scope1 true 2>/dev/null; then
      echo "sshd.sh: OpenSSH ready on 127.0.0.1:$PORT (user $SCOPE_USER, client config $DIR/client/ssh_config)"
      return 0
    fi
    sleep 0.1
  done
  echo "sshd.sh: sshd did not accept a login within 10 s; see $DIR/server/sshd.log" >&2
  exit 1
}

stop() {
  local pidfile=$DIR/server/sshd.pid
  if [ -s "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    # Wait for the port to be released (a container's init may leave the process as a zombie).
    for _ in $(seq 1 50); do
      grep -qs '^State:[[:space:]]*[^Z]' "/proc/$pid/status" || break
      sleep 0.1
    done
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  packages) printf '%s\n' openssh-server openssh-client ;;
  install) apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends --no-upgrade openssh-server openssh-client >/dev/null ;;
  start) start ;;
  stop) stop ;;
  env)
    echo "export FERRY_TEST_SSH_HOST=127.0.0.1"
    echo "export FERRY_TEST_SSH_PORT=$PORT"
    echo "export FERRY_TEST_SSH_USER=$SCOPE_USER"
    echo "export FERRY_TEST_SSH_KEY=$DIR/client/id_ed25519"
    echo "export FERRY_TEST_SSH_KNOWN_HOSTS=$DIR/client/known_hosts"
    echo "export FERRY_TEST_SSH_CONFIG=$DIR/client/ssh_config"
    echo "export FERRY_TEST_SSH_ALIAS=scope1"
    ;;
  *) echo "usage: $0 packages|install|start|stop|env" >&2; exit 2 ;;
esac
