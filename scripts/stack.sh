#!/usr/bin/env bash
# Local stack for development and CI: RabbitMQ (Debian package) and FerretDB 1.24 (SQLite backend).
#
#   scripts/stack.sh up       install what is missing, start both, wait until they answer
#   scripts/stack.sh down     stop what this script started (by recorded PID), nothing else
#   scripts/stack.sh status   say what runs, where, and who started it
#   scripts/stack.sh install  install RabbitMQ and build FerretDB if missing, start nothing, and
#                             print where they are (for tests that run servers of their own)
#
# Addresses are local-only by design: every listener binds 127.0.0.1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TRACKER_STACK_DIR:-$ROOT/.stack}"
CACHE="${TRACKER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tracker}"
FERRETDB_VERSION="v1.24.2"
FERRETDB_PATCH_LEVEL=3  # bump when the patches below change, to rebuild
FERRETDB_BIN="$CACHE/ferretdb-$FERRETDB_VERSION-p$FERRETDB_PATCH_LEVEL"
FERRETDB_PORT="${TRACKER_FERRETDB_PORT:-27017}"
# SQLite settings of the local FerretDB (both measured here):
# - synchronous(normal): in WAL mode SQLite syncs the log at checkpoints, not at every commit.
#   Committed writes survive a crash of FerretDB or of a client; an OS crash may lose the last
#   moments, as with MongoDB's default journal commit interval (100 ms). It halves the cost of a
#   write (bulk update 0.52 -> 0.26 ms).
# - wal_autocheckpoint(20000): the log is copied into the database every 20,000 pages (80 MB)
#   instead of every 1,000. Every update commits on its own inside FerretDB, and a profile of the
#   pipeline showed 30 % of the server's time in checkpoints that copy the same hot pages again
#   and again; bulk updates of 1 KB documents cost 0.84 -> 0.41-0.55 ms. The log is cut back to
#   64 MB after a checkpoint (journal_size_limit).
FERRETDB_PRAGMAS="_pragma=synchronous(normal)&_pragma=wal_autocheckpoint(20000)&_pragma=journal_size_limit(67108864)"
AMQP_PORT=5672
MGMT_PORT=15672
READY_TIMEOUT="${TRACKER_STACK_TIMEOUT:-120}"
RABBIT_CONF=/etc/rabbitmq/rabbitmq.conf
RABBIT_CONF_MARK="# managed by tracker scripts/stack.sh"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

recorded_pid() { [[ -f "$STATE/$1.pid" ]] && cat "$STATE/$1.pid" || true; }

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
  log "$what"
}

# --- RabbitMQ -------------------------------------------------------------------------------

install_rabbitmq() {
  command -v rabbitmq-server >/dev/null && return
  log "installing RabbitMQ from Debian's packages (apt-get)"
  command -v apt-get >/dev/null || die "rabbitmq-server is missing and apt-get is not available; install RabbitMQ 3.x and re-run"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$STATE/apt.log" 2>&1 || die "apt-get update failed; see $STATE/apt.log"
  apt-get install -y -qq --no-install-recommends rabbitmq-server curl >>"$STATE/apt.log" 2>&1 \
    || die "apt-get install rabbitmq-server failed; see $STATE/apt.log"
}

configure_rabbitmq() {
  # Only write the config when there is none or it is ours: never overwrite an operator's file.
  if [[ ! -f $RABBIT_CONF ]] || grep -qF "$RABBIT_CONF_MARK" "$RABBIT_CONF"; then
    cat >"$RABBIT_CONF" <<EOF
$RABBIT_CONF_MARK
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT_PORT
prometheus.tcp.ip = 127.0.0.1
loopback_users.guest = true
EOF
  fi
  rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus >/dev/null
}

rabbitmq_started() { rabbitmqctl -q await_startup --timeout 10 >/dev/null 2>&1; }

rabbitmq_answers() {
  port_open "$AMQP_PORT" && curl -fsS -u guest:guest "http://127.0.0.1:$MGMT_PORT/api/overview" >/dev/null 2>&1
}

start_rabbitmq() {
  if port_open "$AMQP_PORT"; then
    if [[ -n "$(recorded_pid rabbitmq)" ]] && pid_alive "$(recorded_pid rabbitmq)"; then
      log "RabbitMQ already running (started by this script, pid $(recorded_pid rabbitmq))"
    else
      log "RabbitMQ already listening on 127.0.0.1:$AMQP_PORT (not started by this script); using it"
    fi
  else
    install_rabbitmq
    configure_rabbitmq
    log "starting RabbitMQ (rabbitmq-server -detached)"
    rabbitmq-server -detached >"$STATE/rabbitmq-start.log" 2>&1 \
      || die "rabbitmq-server -detached failed; see $STATE/rabbitmq-start.log and /var/log/rabbitmq/"
    if ! wait_until "$READY_TIMEOUT" "RabbitMQ node started" rabbitmq_started; then
      die "RabbitMQ did not start within ${READY_TIMEOUT}s; see /var/log/rabbitmq/ (fix the cause, then: make stack-up)"
    fi
    rabbitmqctl -q eval 'list_to_integer(os:getpid()).' >"$STATE/rabbitmq.pid"
  fi
  wait_until "$READY_TIMEOUT" "RabbitMQ ready (amqp :$AMQP_PORT, management :$MGMT_PORT)" rabbitmq_answers \
    || die "RabbitMQ does not answer on 127.0.0.1:$AMQP_PORT with the management API on :$MGMT_PORT within ${READY_TIMEOUT}s; run 'rabbitmq-plugins enable rabbitmq_management' and check /var/log/rabbitmq/"
}

stop_rabbitmq() {
  local pid; pid=$(recorded_pid rabbitmq)
  if pid_alive "$pid"; then
    log "stopping RabbitMQ (pid $pid)"
    rabbitmqctl -q stop >/dev/null 2>&1 || kill "$pid"
    wait_until 60 "RabbitMQ stopped" bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/rabbitmq.pid"
}

# --- FerretDB -------------------------------------------------------------------------------

build_ferretdb() {
  [[ -x $FERRETDB_BIN ]] && return
  command -v go >/dev/null || die "FerretDB is not built and Go is missing; install Go 1.22+ and re-run"
  log "building FerretDB $FERRETDB_VERSION (first run only, about a minute)"
  # A plain `go install ...@$FERRETDB_VERSION` builds a binary that panics at start-up
  # ("Invalid build/version/version.txt file content"): the module zip lacks the generated
  # version file. So build the same module source with that file written in.
  local module="github.com/FerretDB/FerretDB@$FERRETDB_VERSION" src dir
  src=$(go mod download -json "$module" 2>>"$STATE/ferretdb-build.log" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') \
    || die "go mod download $module failed; see $STATE/ferretdb-build.log"
  [[ -d $src ]] || die "go mod download $module gave no source folder; see $STATE/ferretdb-build.log"
  dir=$(mktemp -d)
  cp -r "$src/." "$dir" && chmod -R u+w "$dir"
  echo "$FERRETDB_VERSION" >"$dir/build/version/version.txt"
  patch_ferretdb "$dir"
  mkdir -p "$CACHE"
  if ! (cd "$dir" && go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) >>"$STATE/ferretdb-build.log" 2>&1; then
    rm -rf "$dir"
    die "building FerretDB failed; see $STATE/ferretdb-build.log"
  fi
  rm -rf "$dir"
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
}

# Three performance patches to FerretDB 1.24.2's SQLite backend; behaviour is unchanged.
# Measured here on 20,000 small documents: a find by _id took 58 ms and one by another field
# 1 s, because (1) the _id lookup expression `->'$._id'` differs in text from the _id index's
# `->"_id"`, so SQLite never used the index, and (2) _id was only pushed down when it was the
# whole filter. With both, a lookup anchored on _id uses the index; FerretDB still applies the
# full filter to what SQLite returns, so results are the same.
patch_ferretdb() {
  local src=$1
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" \
    "$src/internal/backends/sqlite/metadata/metadata.go"
  sed -i 's|if params.Filter.Len() == 1 {|if params.Filter.Len() > 0 \&\& params.Filter.Has("_id") {|' \
    "$src/internal/backends/sqlite/collection.go"
  # (3) `_id: {$in: [...]}` is pushed down too (scripts/ferretdb/id_in_pushdown.go), so a batch
  # of lookups is one indexed query: 50 lookups in 2,000 documents took 54 ms, a full scan.
  cp "$ROOT/scripts/ferretdb/id_in_pushdown.go" "$src/internal/backends/sqlite/"
  sed -i 's|^\tq += whereClause$|\tif whereClause == "" {\n\t\tif w, a, ok := idInWhere(params.Filter); ok {\n\t\t\twhereClause, args = w, a\n\t\t}\n\t}\n\tq += whereClause|' \
    "$src/internal/backends/sqlite/collection.go"
  # (4) An update command kept every statement's query open until the command ended, each
  # holding one of SQLite's 100 connections: a command of over ~100 updates, or a few
  # concurrent ones, waited for connections forever and stalled every client. Each statement's
  # query is now closed once its update is done.
  sed -i -e 's|^\t\tdefer closer.Close()$|\t\t// closed below, once this statement is done (tracker patch)|' \
    -e 's|^\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, \&u)$|&\n\t\tcloser.Close()|' \
    "$src/internal/handler/msg_update.go"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$src/internal/backends/sqlite/metadata/metadata.go" \
    && grep -q 'params.Filter.Len() > 0 && params.Filter.Has("_id")' "$src/internal/backends/sqlite/collection.go" \
    && grep -q 'idInWhere(params.Filter)' "$src/internal/backends/sqlite/collection.go" \
    && grep -q 'once this statement is done' "$src/internal/handler/msg_update.go" \
    && grep -q '^[[:space:]]*closer.Close()$' "$src/internal/handler/msg_update.go" \
    || die "patching FerretDB failed: the source is not the expected v1.24.2"
}

ferretdb_answers() {
  port_open "$FERRETDB_PORT" && "$ROOT/.venv/bin/python" - "$FERRETDB_PORT" <<'EOF' 2>/dev/null
import sys
from pymongo import MongoClient
MongoClient(port=int(sys.argv[1]), serverSelectionTimeoutMS=2000).admin.command("ping")
EOF
}

start_ferretdb() {
  local pid; pid=$(recorded_pid ferretdb)
  if pid_alive "$pid"; then
    log "FerretDB already running (started by this script, pid $pid)"
  elif port_open "$FERRETDB_PORT"; then
    log "a MongoDB-protocol server already listens on 127.0.0.1:$FERRETDB_PORT (not started by this script); using it"
  else
    build_ferretdb
    mkdir -p "$STATE/ferretdb/data"
    log "starting FerretDB (SQLite backend) on 127.0.0.1:$FERRETDB_PORT"
    nohup "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$STATE/ferretdb/data/?$FERRETDB_PRAGMAS" \
      --state-dir="$STATE/ferretdb" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
      --telemetry=disable --log-level=warn </dev/null >"$STATE/ferretdb.log" 2>&1 &
    echo $! >"$STATE/ferretdb.pid"
  fi
  wait_until "$READY_TIMEOUT" "FerretDB ready (127.0.0.1:$FERRETDB_PORT)" ferretdb_answers \
    || die "FerretDB does not answer a ping on 127.0.0.1:$FERRETDB_PORT within ${READY_TIMEOUT}s; see $STATE/ferretdb.log"
}

stop_ferretdb() {
  local pid; pid=$(recorded_pid ferretdb)
  if pid_alive "$pid"; then
    log "stopping FerretDB (pid $pid)"
    kill "$pid"
    wait_until 30 "FerretDB stopped" bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/ferretdb.pid"
}

# --- commands -------------------------------------------------------------------------------

status_line() { # status_line NAME PORT
  local pid; pid=$(recorded_pid "$1")
  if pid_alive "$pid"; then echo "$1: running, started by this script (pid $pid), 127.0.0.1:$2"
  elif port_open "$2"; then echo "$1: something else listens on 127.0.0.1:$2 (not started by this script)"
  else echo "$1: stopped"; fi
}

main() {
  mkdir -p "$STATE"
  case "${1:-}" in
    up)
      [[ -x $ROOT/.venv/bin/python ]] || die "the virtualenv is missing; run 'make venv' first"
      start_rabbitmq
      start_ferretdb
      echo "AMQP_URI=amqp://guest:guest@127.0.0.1:$AMQP_PORT/"
      echo "MONGODB_URI=mongodb://127.0.0.1:$FERRETDB_PORT/"
      ;;
    down) stop_ferretdb; stop_rabbitmq ;;
    status) status_line rabbitmq "$AMQP_PORT"; status_line ferretdb "$FERRETDB_PORT" ;;
    install)
      install_rabbitmq
      build_ferretdb
      echo "RABBITMQ_SERVER=$(command -v rabbitmq-server)"
      echo "FERRETDB_BIN=$FERRETDB_BIN"
      echo "FERRETDB_PRAGMAS=$FERRETDB_PRAGMAS"
      ;;
    *) echo "usage: $0 up|down|status|install" >&2; exit 2 ;;
  esac
}

main "$@"
