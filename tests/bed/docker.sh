#!/usr/bin/env bash
# Docker engine and a loopback registry for the docker integration tests (tests/it/docker.rs).
#
#   docker.sh start   use the engine `docker info` reaches; if there is none and we are root,
#                     install Debian's docker.io (apt-get) and start dockerd with its data root,
#                     exec root and socket under $BED_RUN/docker. Start Debian's docker-registry
#                     (installed if missing, as root) on a free 127.0.0.1 port. Write
#                     $BED_RUN/docker.env: DOCKER_HOST (only when we started our own engine) and
#                     CACHER_TEST_REGISTRY=127.0.0.1:PORT.
#   docker.sh stop    stop what start started, by recorded pid only (safe to call twice)
#
# Where no engine can be had, start fails with one line and writes no docker.env: the docker
# tests then fail saying so (they never skip). dockerd treats 127.0.0.0/8 registries as
# insecure by default, so the registry speaks plain HTTP.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BED_RUN=${BED_RUN:-$REPO/target/testbed}
DRUN=$BED_RUN/docker
PIDS=$DRUN/pids
ENVFILE=$BED_RUN/docker.env
START_TIMEOUT=${BED_START_TIMEOUT:-60}
DOCKER=${CACHER_DOCKER:-docker}

say() { printf 'docker bed: %s\n' "$*"; }
die() { printf 'docker bed: error: %s\n' "$*" >&2; exit 1; }

is_root() { [[ $(id -u) == 0 ]]; }

apt_install() {
  is_root || die "$1 is missing and we are not root: install it (apt-get install $2) or start a docker engine"
  command -v apt-get >/dev/null || die "$1 is missing and there is no apt-get to install $2"
  say "installing $2 (apt-get; log $DRUN/apt.log)"
  {
    apt-get update &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2"
  } >>"$DRUN/apt.log" 2>&1 || { tail -n 20 "$DRUN/apt.log" >&2; die "apt-get install $2 failed (log $DRUN/apt.log)"; }
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$PIDS" 2>/dev/null; }

# launch NAME CMD...: start CMD in the background, log to $DRUN/NAME.log, record its pid.
launch() {
  local name=$1; shift
  "$@" </dev/null >"$DRUN/$name.log" 2>&1 &
  echo "$name $!" >>"$PIDS"
}

# A socket path must fit in sun_path (108 bytes), containerd's too: a long checkout gets a
# short directory in /tmp instead (recorded, removed by stop).
short_dir() {
  if ((${#DRUN} <= 60)); then
    SHORT=$DRUN
  else
    SHORT=$(mktemp -d /tmp/cacher-dockerd.XXXXXX)
    echo "dir $SHORT" >>"$PIDS"
  fi
}

# start_dockerd: sets HOST.
start_dockerd() {
  command -v dockerd >/dev/null && command -v docker >/dev/null || apt_install dockerd docker.io
  local sock pid deadline
  short_dir
  sock=$SHORT/docker.sock
  mkdir -p "$DRUN/data-root" "$SHORT/exec"
  launch dockerd dockerd --data-root "$DRUN/data-root" --exec-root "$SHORT/exec" \
    --pidfile "$SHORT/dockerd.pid" --host "unix://$sock" --iptables=false --bridge=none
  pid=$(pid_of dockerd)
  deadline=$(($(date +%s) + START_TIMEOUT))
  until DOCKER_HOST=unix://$sock docker info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DRUN/dockerd.log" >&2
      die "dockerd exited during start-up (log $DRUN/dockerd.log)"
    fi
    (($(date +%s) < deadline)) || die "dockerd did not answer within ${START_TIMEOUT}s (log $DRUN/dockerd.log)"
    sleep 0.2
  done
  HOST=unix://$sock
}

# start_registry: sets REGISTRY.
start_registry() {
  command -v docker-registry >/dev/null || apt_install docker-registry docker-registry
  local port deadline pid
  port=$(free_port)
  mkdir -p "$DRUN/registry"
  cat >"$DRUN/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DRUN/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  launch registry docker-registry serve "$DRUN/registry.yml"
  pid=$(pid_of registry)
  deadline=$(($(date +%s) + START_TIMEOUT))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DRUN/registry.log" >&2
      die "docker-registry exited during start-up (log $DRUN/registry.log)"
    fi
    (($(date +%s) < deadline)) || die "docker-registry did not listen on 127.0.0.1:$port within ${START_TIMEOUT}s"
    sleep 0.1
  done
  REGISTRY=127.0.0.1:$port
}

# dockerd leaves mounts under its exec root (exec/netns/default) when it is stopped; they
# make the next start's `rm -rf` fail with "Device or resource busy".
unmount_leftovers() {
  is_root || return 0
  awk -v d="$DRUN/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

cmd_start() {
  HOST="" REGISTRY=""
  cmd_stop quiet
  unmount_leftovers
  rm -rf "$DRUN"
  mkdir -p "$DRUN"
  rm -f "$ENVFILE"
  # If start fails half-way, stop whatever it started.
  trap 'rc=$?; ((rc == 0)) || cmd_stop quiet; exit $rc' EXIT
  if "$DOCKER" info >/dev/null 2>&1; then
    say "using the running engine ($DOCKER info works${DOCKER_HOST:+, DOCKER_HOST=$DOCKER_HOST})"
  else
    is_root || die "no docker engine reachable ($DOCKER info fails) and not root, so none can be started here"
    start_dockerd
    say "started dockerd at $HOST (data root $DRUN/data-root)"
  fi
  start_registry
  say "registry at $REGISTRY"
  {
    [[ -z $HOST ]] || printf "export DOCKER_HOST='%s'\n" "$HOST"
    printf "export CACHER_TEST_REGISTRY='%s'\n" "$REGISTRY"
  } >"$ENVFILE"
  trap - EXIT
  say "env file: $ENVFILE"
}

# alive PID: exists and is not a zombie.
alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

cmd_stop() {
  local quiet=${1:-} name pid cmdline live=() dirs=() i
  if [[ ! -f $PIDS ]]; then
    [[ -n $quiet ]] || say "nothing to stop"
    return 0
  fi
  while read -r name pid; do
    if [[ $name == dir ]]; then dirs+=("$pid"); continue; fi
    [[ $pid =~ ^[0-9]+$ ]] || continue
    # Only signal the process if it is still the one we started (pids get reused).
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    case $name in
      dockerd) [[ $cmdline == "dockerd --data-root $DRUN/"* ]] || continue ;;
      registry) [[ $cmdline == "docker-registry serve $DRUN/"* ]] || continue ;;
      *) continue ;;
    esac
    kill -TERM "$pid" 2>/dev/null && live+=("$pid")
    [[ -n $quiet ]] || say "stopping $name (pid $pid)"
  done <"$PIDS"
  for ((i = 0; i < 200; i++)); do # up to 20 s: dockerd stops its containerd first
    local still=()
    for pid in "${live[@]}"; do alive "$pid" && still+=("$pid"); done
    live=("${still[@]}")
    ((${#live[@]} == 0)) && break
    sleep 0.1
  done
  for pid in "${live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${dirs[@]}"; do [[ $d == /tmp/cacher-dockerd.* ]] && rm -rf "$d"; done
  unmount_leftovers
  rm -f "$PIDS" "$ENVFILE"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  *) die "usage: $0 start | stop" ;;
esac
