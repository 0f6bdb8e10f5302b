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

# A dockerd killed without cleanup leaves its pid file behind, and a new one
# refuses to start while it exists. Remove it only when that pid is gone.
for pidfile in /var/run/docker.pid /run/docker/containerd/containerd.pid; do
  if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
    rm -f "$pidfile"
  fi
done

if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $log_file)"
  mkdir -p "$(dirname "$log_file")"
  nohup dockerd >>"$log_file" 2>&1 </dev/null &
fi

for ((i = 0; i < timeout * 2; i++)); do
  if engine_answers; then
    say "Docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  sleep 0.5
done

say "dockerd did not answer within ${timeout}s; last lines of $log_file:"
tail -n 30 "$log_file" >&2 || true
say "fix what the log says (or start Docker yourself) and run this again."
exit 1
