#!/usr/bin/env bash
# Installs what the deployment-manifest and alerting tests need, cached under ~/.cache/tracker
# (fast when cached): kustomize (built with Go); offline schemas and files taken from Go modules
# through the Go module proxy: the Compose specification's JSON schema (compose-go), the CRDs
# of the operators the Kubernetes manifests use (KEDA, Prometheus operator, RabbitMQ cluster
# and messaging-topology operators, MongoDB community operator) and the RabbitMQ cluster
# operator's alert pack; prometheus and promtool from Debian's `prometheus` package and amtool
# from `prometheus-alertmanager`, unpacked (not installed: no daemon, no service).
# Prints `NAME=PATH` lines for the tests and scripts/services.sh.
#
#   scripts/ensure-ops-tools.sh              everything
#   scripts/ensure-ops-tools.sh prometheus   only prometheus and promtool (`make run`)
set -euo pipefail
CACHE="${TRACKER_CACHE:-$HOME/.cache/tracker}"
KUSTOMIZE_VERSION=v5.8.2   # v5.8.3 needs Go 1.27
KUSTOMIZE="$CACHE/bin/kustomize-$KUSTOMIZE_VERSION"
SCHEMAS="$CACHE/schemas/v1"
PROMTOOL="$CACHE/prometheus-deb/usr/bin/promtool"
PROMETHEUS="$CACHE/prometheus-deb/usr/bin/prometheus"
AMTOOL="$CACHE/alertmanager-deb/usr/bin/amtool"
RABBITMQ_OPERATOR=github.com/rabbitmq/cluster-operator@v1.14.0
RABBITMQ_PACK=observability/prometheus/rules
TOPOLOGY_OPERATOR=github.com/rabbitmq/messaging-topology-operator@v1.15.0
# module@version  path-in-module  file-name-in-cache
MODULE_FILES=(
  "github.com/compose-spec/compose-go/v2@v2.16.2 schema/compose-spec.json compose-spec.json"
  "github.com/kedacore/keda/v2@v2.21.0 config/crd/bases/keda.sh_scaledobjects.yaml crd-keda-scaledobjects.yaml"
  "github.com/kedacore/keda/v2@v2.21.0 config/crd/bases/keda.sh_triggerauthentications.yaml crd-keda-triggerauthentications.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml crd-servicemonitors.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml crd-prometheusrules.yaml"
  "$RABBITMQ_OPERATOR config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml crd-rabbitmqclusters.yaml"
  "$TOPOLOGY_OPERATOR config/crd/bases/rabbitmq.com_users.yaml crd-rabbitmq-users.yaml"
  "$TOPOLOGY_OPERATOR config/crd/bases/rabbitmq.com_permissions.yaml crd-rabbitmq-permissions.yaml"
  "$TOPOLOGY_OPERATOR config/crd/bases/rabbitmq.com_policies.yaml crd-rabbitmq-policies.yaml"
  "github.com/mongodb/mongodb-kubernetes-operator@v0.9.0 config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml crd-mongodbcommunity.yaml"
)
# The RabbitMQ cluster operator's alert pack (scripts/monitoring/operator_pack.py lists them).
for rule in container-restarts file-descriptors-near-limit high-connection-churn \
  insufficient-established-erlang-distribution-links low-disk-watermark-predicted \
  no-majority-of-nodes-ready persistent-volume-missing tcp-sockets-near-limit \
  unroutable-messages; do
  MODULE_FILES+=("$RABBITMQ_OPERATOR $RABBITMQ_PACK/rabbitmq/$rule.yml rabbitmq-rules-rabbitmq-$rule.yml")
done
MODULE_FILES+=("$RABBITMQ_OPERATOR $RABBITMQ_PACK/rabbitmq-cluster-operator/unavailable-replicas.yml rabbitmq-rules-rabbitmq-cluster-operator-unavailable-replicas.yml")

log() { echo "[ops-tools] $*" >&2; }

unpack_deb() { # unpack_deb PACKAGE DIR: Debian's package unpacked into DIR (not installed)
  log "unpacking Debian's $1 package (first run only)"
  command -v apt-get >/dev/null || { log "ERROR: apt-get missing (needed for $1)"; exit 1; }
  local work; work="$(mktemp -d)" && chmod 755 "$work"
  (cd "$work" && { apt-get download "$1" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1; apt-get download "$1" >/dev/null 2>&1; }; }) \
    || { log "ERROR: apt-get download $1 failed"; exit 1; }
  rm -rf "$2" && dpkg-deb -x "$work/$1"_*.deb "$2" && rm -rf "$work"
}
[[ -x "$PROMTOOL" && -x "$PROMETHEUS" ]] || unpack_deb prometheus "$CACHE/prometheus-deb"
if [[ "${1:-}" == prometheus ]]; then
  echo "PROMTOOL=$PROMTOOL"
  echo "PROMETHEUS=$PROMETHEUS"
  exit 0
fi

command -v go >/dev/null || { log "ERROR: Go is missing (needed to build kustomize)"; exit 1; }
if [[ ! -x "$KUSTOMIZE" ]]; then
  log "building kustomize $KUSTOMIZE_VERSION with Go (first run only)"
  build="$(mktemp -d)"
  GOBIN="$build" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
  mkdir -p "$CACHE/bin" && mv "$build/kustomize" "$KUSTOMIZE" && rm -rf "$build"
fi

[[ -x "$AMTOOL" ]] || unpack_deb prometheus-alertmanager "$CACHE/alertmanager-deb"

mkdir -p "$SCHEMAS"
for entry in "${MODULE_FILES[@]}"; do
  read -r module path name <<<"$entry"
  [[ -s "$SCHEMAS/$name" ]] && continue
  log "fetching $name from Go module $module (first run only)"
  dir="$(cd "$(mktemp -d)" && go mod download -json "$module" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -s "$dir/$path" ]] || { log "ERROR: $module has no $path"; exit 1; }
  cp "$dir/$path" "$SCHEMAS/$name.tmp" && mv "$SCHEMAS/$name.tmp" "$SCHEMAS/$name"
done

echo "KUSTOMIZE=$KUSTOMIZE"
echo "SCHEMAS=$SCHEMAS"
echo "PROMTOOL=$PROMTOOL"
echo "PROMETHEUS=$PROMETHEUS"
echo "AMTOOL=$AMTOOL"
