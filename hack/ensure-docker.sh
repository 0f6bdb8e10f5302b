#!/usr/bin/env bash
# ensure-docker.sh makes sure a Docker engine answers `docker info`.
#
# Quick and idempotent when an engine already runs. Otherwise, as root on
# Debian, it installs docker.io with apt (after `apt-get update`), starts
# dockerd in the background with its log in a file, and waits a bounded time
# for it to answer. Anywhere else it says what to do and exits non-zero.
#
# Environment:
#   KINC_DOCKERD_LOG      where dockerd logs     (default /var/log/kinc-dockerd.log)
#   KINC_DOCKERD_TIMEOUT  seconds to wait for it (default 60)
set -o errexit -o nounset -o pipefail

log_file=${KINC_DOCKERD_LOG:-/var/log/kinc-dockerd.log}
timeout=${KINC_DOCKERD_TIMEOUT:-60}

say() { echo "ensure-docker: $*" >&2; }

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if engine_answers; then
  exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
  say "no Docker engine answers 'docker info'."
  say "start one (e.g. 'sudo systemctl start docker', or Docker Desktop) and try again;"
  say "on Debian as root this script installs and starts docker.io by itself."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  say "installing docker.io with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# alive PID: the process exists and is not a zombie (a dockerd killed with
# SIGKILL can linger as one until its parent reaps it).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

running_dockerd() {
  local pid
  for pid in $(pgrep -x dockerd 2>/dev/null); do
    alive "$pid" && return 0
  done
  return 1
}

# A dockerd killed without cleanup leaves its pid files behind, and a new one
# refuses to start while they exist. Remove them only when that pid is gone.
for pidfile in /var/run/docker.pid /run/docker/containerd/containerd.pid; do
  if [ -f "$pidfile" ] && ! alive "$(cat "$pidfile" 2>/dev/null)"; then
    rm -f "$pidfile"
  fi
done

if ! running_dockerd; then
  say "starting dockerd (log: $log_file)"
  mkdir -p "$(dirname "$log_file")"
  # Mark where this start begins, so a failure shows this run's lines only.
  echo "---- ensure-docker: starting dockerd at $(date -u +%FT%TZ)" >>"$log_file"
  # setsid: its own session and process group, so that the engine outlives
  # whatever started it (a make run, a CI step, a shell killed with its
  # process group) and the clusters on it stay up.
  setsid nohup dockerd >>"$log_file" 2>&1 </dev/null &
fi

for ((i = 0; i < timeout * 2; i++)); do
  if engine_answers; then
    say "Docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  sleep 0.5
done

say "dockerd did not answer within ${timeout}s; last lines of $log_file:"
if [ -f "$log_file" ]; then
  sed -n '/^---- ensure-docker: starting dockerd/h; //!H; ${x;p}' "$log_file" | tail -n 30 >&2 || true
else
  say "(no log: a dockerd was already running but does not answer; check it, or stop it and run this again)"
fi
say "fix what the log says (or start Docker yourself) and run this again."
exit 1
