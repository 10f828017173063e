#!/usr/bin/env bash
# A single-node Slurm cluster on this host, for the sweep-submission test and for trying
# `vlsae sweep submit` without a cluster. Debian/Ubuntu packages (Slurm 22.05 on Debian 12), no
# systemd, no cgroups: munged runs as the munge user with a key, socket and logs of its own;
# slurmctld and slurmd run as root daemons with a minimal slurm.conf naming this host as the only
# node. Everything lives in $SLURM_LOCAL_DIR (default .build/slurm-local in the checkout) except
# munged's key, socket and log, which live in /run/vlsae-slurm-local/<hash of that folder> (the
# munge user must reach them); `down` removes both. Nothing is written to /etc or /tmp.
#
#   scripts/slurm-local.sh up       install the packages when missing (root or sudo), start the daemons
#                                   (again: starts only what is not running), wait until the node is idle
#   scripts/slurm-local.sh down     stop every daemon `up` started and remove the folder
#   scripts/slurm-local.sh env      print `export SLURM_CONF=…` for the client commands (sbatch, squeue)
#
# The config is not in the default place (/etc/slurm/slurm.conf), so clients need SLURM_CONF:
#   eval "$(scripts/slurm-local.sh env)"
# `up` prints "slurm-local: started" when it started a daemon and "slurm-local: already up" when
# all were running; exit status 0 when the node accepts jobs, 1 otherwise (with the reason).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${SLURM_LOCAL_DIR:-$ROOT/.build/slurm-local}
CONF=$DIR/slurm.conf
# munged runs as the munge user, which may not be able to reach $DIR (a checkout under a
# `mktemp -d` folder sits behind a 0700 directory), so its key, socket and log live under /run in a
# folder named after $DIR; `down` removes it.
MUNGE=${SLURM_LOCAL_MUNGE_DIR:-/run/vlsae-slurm-local/$(printf '%s' "$DIR" | sha256sum | cut -c1-16)}
PACKAGES="slurmctld slurmd slurm-client munge"
# The daemons and what they start never see the caller's TMPDIR (make test points it at a folder
# it checks for leftovers).
export TMPDIR=$DIR/tmp

say() { echo "slurm-local: $*"; }
fail() { echo "slurm-local: error: $*" >&2; exit 1; }

# The daemons must inherit none of the caller's descriptors beyond stdin/out/err, which they replace
# with /dev/null: a caller that waits for a pipe or socket to close (Foundation's Process does, for
# the child's exit) would otherwise wait as long as the daemons live. 255 is bash reading this file.
close_inherited() {
  local fd
  for fd in $(ls /proc/$$/fd); do
    case "$fd" in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
  done
}

# Starts a daemon with its early messages in $DIR/daemons.out; fails naming the log on error.
daemon() {
  local log=$1
  shift
  "$@" </dev/null >>"$DIR/daemons.out" 2>&1 || { tail -5 "$DIR/daemons.out" >&2; fail "$1 did not start; see $log"; }
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null || fail "missing packages:$missing, and no apt-get to install them"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || fail "missing packages:$missing; need root or sudo to install them"
    sudo="sudo -n"
  fi
  say "installing$missing"
  $sudo apt-get update -qq >/dev/null
  # policy-rc.d-less containers would try to start the services: the packages' own init scripts
  # are not used here, and without systemd they fail harmlessly.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

write_config() {
  local host cpus
  host=$(hostname -s)
  cpus=$(nproc)
  cat >"$CONF.tmp" <<EOF
# Written by scripts/slurm-local.sh: one node (this host), no cgroups, no accounting.
ClusterName=vlsae-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE/munge.socket
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

start_munge() {
  alive "$MUNGE/munged.pid" && return 1
  mkdir -p "$MUNGE"
  chmod 0755 "$(dirname "$MUNGE")"
  chown munge:munge "$MUNGE"
  chmod 0700 "$MUNGE"
  if [ ! -s "$MUNGE/munge.key" ]; then
    dd if=/dev/urandom of="$MUNGE/munge.key" bs=1024 count=1 status=none
  fi
  chown munge:munge "$MUNGE/munge.key"
  chmod 0400 "$MUNGE/munge.key"
  rm -f "$MUNGE/munge.socket" "$MUNGE/munge.socket.lock"
  daemon "$MUNGE/munged.log" runuser -u munge -- /usr/sbin/munged --force --key-file="$MUNGE/munge.key" --socket="$MUNGE/munge.socket" \
    --pid-file="$MUNGE/munged.pid" --log-file="$MUNGE/munged.log" --seed-file="$MUNGE/munged.seed"
  return 0
}

up() {
  close_inherited
  install_packages
  mkdir -p "$DIR/ctld" "$DIR/d" "$TMPDIR"
  chmod 0755 "$DIR"
  write_config
  export SLURM_CONF=$CONF
  local started=0
  if start_munge; then started=1; fi
  if ! alive "$DIR/slurmctld.pid"; then
    daemon "$DIR/slurmctld.log" /usr/sbin/slurmctld -f "$CONF"
    started=1
  fi
  if ! alive "$DIR/slurmd.pid"; then
    daemon "$DIR/slurmd.log" /usr/sbin/slurmd -f "$CONF"
    started=1
  fi
  # Wait (at most 60 s) until the node is idle or mixed, i.e. accepts jobs.
  local state=""
  for _ in $(seq 120); do
    state=$(sinfo --noheader --format=%T 2>/dev/null | head -1 || true)
    case "$state" in idle* | mixed* | allocated*) break ;; esac
    sleep 0.5
  done
  case "$state" in
    idle* | mixed* | allocated*) ;;
    *) fail "the node did not come up (state \"$state\"); see $DIR/slurmctld.log and $DIR/slurmd.log" ;;
  esac
  if [ "$started" = 1 ]; then say "started (SLURM_CONF=$CONF)"; else say "already up (SLURM_CONF=$CONF)"; fi
}

down() {
  local pid
  for f in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$MUNGE/munged.pid"; do
    if alive "$f"; then
      pid=$(cat "$f")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR" "$MUNGE"
  rmdir "$(dirname "$MUNGE")" 2>/dev/null || true
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 up|down|env" >&2; exit 64 ;;
esac
