#!/usr/bin/env bash
# Runs the tracker services as background `nameko run` processes for `make run`, and a
# Prometheus (Debian's, unpacked by scripts/ensure-ops-tools.sh) on 127.0.0.1 that scrapes them
# and RabbitMQ with the project's alert rules, so an operator can query the live system.
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
PROMETHEUS_ADDRESS="${PROMETHEUS_ADDRESS:-127.0.0.1:9090}"
RABBITMQ_METRICS=127.0.0.1:15692

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
  start_prometheus
}

start_prometheus() {
  if alive "$(pid_of prometheus)"; then log "Prometheus already running"; return; fi
  local prometheus targets=() dir="$STATE/prometheus"
  prometheus=$("$ROOT/scripts/ensure-ops-tools.sh" prometheus | sed -n 's/^PROMETHEUS=//p')
  for svc in "${SERVICES[@]}"; do targets+=("127.0.0.1:${PORTS[$svc]}"); done
  "$ROOT/.venv/bin/python" -m scripts.monitoring.local --out "$dir/prometheus.yml" \
    --rules "$ROOT/deploy/monitoring/prometheus/alerts.yml" --rabbitmq "$RABBITMQ_METRICS" "${targets[@]}"
  nohup "$prometheus" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=2d --web.listen-address="$PROMETHEUS_ADDRESS" \
    </dev/null >"$STATE/prometheus.log" 2>&1 &
  echo $! >"$STATE/prometheus.pid"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS "http://$PROMETHEUS_ADDRESS/-/ready" >/dev/null 2>&1; do
    alive "$(pid_of prometheus)" || die "Prometheus exited at start-up; see $STATE/prometheus.log"
    ((SECONDS < deadline)) || die "Prometheus not ready within ${READY_TIMEOUT}s; see $STATE/prometheus.log"
    sleep 0.5
  done
  log "Prometheus ready on http://$PROMETHEUS_ADDRESS (alerts: /alerts; log: $STATE/prometheus.log)"
}

stop() {
  for svc in prometheus "${SERVICES[@]}"; do
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
  if alive "$(pid_of prometheus)"; then echo "prometheus: running (pid $(pid_of prometheus)), http://$PROMETHEUS_ADDRESS"
  else echo "prometheus: stopped"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
