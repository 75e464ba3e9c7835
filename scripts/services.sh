#!/usr/bin/env bash
# Runs the tracker services as background `nameko run` processes for `make run`.
#
#   scripts/services.sh start | stop | status
#
# Logs and PID files live in .stack/services/; stop only signals the PIDs recorded there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TRACKER_STACK_DIR:-$ROOT/.stack}/services"
NAMEKO="$ROOT/.venv/bin/nameko"
SERVICES=(auth registry tiering incubators notifications portal)
declare -A PORTS=([registry]=8001 [tiering]=8002 [incubators]=8003 [notifications]=8004 [portal]=8005
  [auth]=8006)
READY_TIMEOUT=60

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }
pid_of() { [[ -f "$STATE/$1.pid" ]] && cat "$STATE/$1.pid" || true; }
alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }
class_of() { echo "services.$1.service:${1^}Service"; }

start() {
  mkdir -p "$STATE"
  cd "$ROOT"
  for svc in "${SERVICES[@]}"; do
    if alive "$(pid_of "$svc")"; then log "$svc already running (pid $(pid_of "$svc"))"; continue; fi
    PYTHONWARNINGS=ignore::DeprecationWarning nohup "$NAMEKO" run \
      --config "services/$svc/config.yaml" "$(class_of "$svc")" </dev/null >"$STATE/$svc.log" 2>&1 &
    echo $! >"$STATE/$svc.pid"
  done
  for svc in "${SERVICES[@]}"; do
    local url="http://127.0.0.1:${PORTS[$svc]}/health/ready" deadline=$((SECONDS + READY_TIMEOUT))
    until curl -fsS "$url" >/dev/null 2>&1; do
      alive "$(pid_of "$svc")" || die "$svc exited at start-up; see $STATE/$svc.log"
      ((SECONDS < deadline)) || die "$svc not ready within ${READY_TIMEOUT}s at $url; see $STATE/$svc.log"
      sleep 0.5
    done
    log "$svc ready on http://127.0.0.1:${PORTS[$svc]} (log: $STATE/$svc.log)"
  done
}

stop() {
  for svc in "${SERVICES[@]}"; do
    local pid; pid=$(pid_of "$svc")
    if alive "$pid"; then
      log "stopping $svc (pid $pid)"
      kill -TERM "$pid"
      for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.5; done
      alive "$pid" && kill -KILL "$pid"
    fi
    rm -f "$STATE/$svc.pid"
  done
}

status() {
  for svc in "${SERVICES[@]}"; do
    if alive "$(pid_of "$svc")"; then echo "$svc: running (pid $(pid_of "$svc")), http://127.0.0.1:${PORTS[$svc]}"
    else echo "$svc: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
