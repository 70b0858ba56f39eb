#!/usr/bin/env bash
# Single-node Slurm for the submission tests: munged, slurmctld and slurmd started directly (no
# systemd, no cgroups), everything under $FERRY_SERVICES_DIR/slurm, on 127.0.0.1 and non-default
# ports so that it cannot clash with a real cluster. Verbs: packages | install | start | stop | env
set -euo pipefail
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services}/slurm
CTLD_PORT=${FERRY_SLURMCTLD_PORT:-16817}
SLURMD_PORT=${FERRY_SLURMD_PORT:-16818}
# More slots than cores, so that a test array of several workers runs at once on a 2-core machine.
CPUS=${FERRY_SLURM_CPUS:-8}
NODE=$(hostname -s)
export SLURM_CONF=$DIR/etc/slurm.conf
MUNGE_SOCK=$DIR/munge/run/munge.socket
log() { echo "slurm.sh: $*"; }

wait_for() { # wait_for <seconds> <cmd...>
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || { log "timed out waiting for: $*"; return 1; }
    sleep 0.25
  done
}

write_conf() {
  mkdir -p "$DIR"/{etc,state,spool,log,run,munge/run}
  chown munge:munge "$DIR/munge" "$DIR/munge/run"
  # munged requires every client to be able to traverse to its socket.
  chmod 0711 "$DIR/munge"; chmod 0755 "$DIR/munge/run" "$DIR"
  dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  chown munge:munge "$DIR/munge/munge.key"; chmod 0400 "$DIR/munge/munge.key"
  chown slurm:slurm "$DIR/state" "$DIR/log" "$DIR/run"
  chmod 0755 "$DIR/log" "$DIR/run"
  local mem_mb; mem_mb=$(awk '/MemTotal/{printf "%d", $2/1024*0.9}' /proc/meminfo)
  cat >"$SLURM_CONF" <<CONF
ClusterName=ferrytest
SlurmctldHost=${NODE}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${MUNGE_SOCK}
StateSaveLocation=${DIR}/state
SlurmdSpoolDir=${DIR}/spool
SlurmctldPidFile=${DIR}/run/slurmctld.pid
SlurmdPidFile=${DIR}/run/slurmd.pid
SlurmctldLogFile=${DIR}/log/slurmctld.log
SlurmdLogFile=${DIR}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=256
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
MailProg=/bin/true
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
CONF
  chmod 0644 "$SLURM_CONF"
}

start() {
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
  write_conf
  runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_SOCK" --key-file="$DIR/munge/munge.key" \
    --pid-file="$DIR/munge/run/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
  wait_for 20 bash -c "munge -S '$MUNGE_SOCK' -n | unmunge -S '$MUNGE_SOCK'"
  /usr/sbin/slurmctld -f "$SLURM_CONF" -i
  /usr/sbin/slurmd -f "$SLURM_CONF" -N "$NODE"
  wait_for 60 bash -c "sinfo -h -N -o '%N %T' | grep -qE '^${NODE} idle\$'" || {
    sinfo -N -l || true; tail -n 30 "$DIR"/log/*.log; exit 1; }
  log "node $NODE idle (SLURM_CONF=$SLURM_CONF)"
}

stop() {
  # slurmd exiting does not kill running job steps: cancel leftover jobs first.
  if [ -s "$DIR/run/slurmctld.pid" ] && squeue -h -o %i >/dev/null 2>&1; then
    squeue -h -o %i | xargs -r scancel || true
    for _ in $(seq 1 40); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.25; done
  fi
  for f in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/run/munged.pid"; do
    [ -s "$f" ] || continue
    local p; p=$(cat "$f")
    # Only the daemon we started (pid files can outlive their process).
    if [[ "$(ps -o comm= -p "$p" 2>/dev/null)" =~ ^(slurmd|slurmctld|munged)$ ]]; then
      kill -TERM "$p"
      for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$p" 2>/dev/null && kill -KILL "$p"
    fi
    rm -f "$f"
  done
}

case "${1:-}" in
  packages) printf '%s\n' slurmctld slurmd slurm-client munge ;;
  install) apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null ;;
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$SLURM_CONF" ;;
  *) echo "usage: $0 packages|install|start|stop|env" >&2; exit 2 ;;
esac
