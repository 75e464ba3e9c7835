#!/usr/bin/env bash
# Installs what the deployment-manifest tests need, cached under ~/.cache/tracker (fast when
# cached): kustomize (built with Go), and offline schemas taken from Go modules through the Go
# module proxy: the Compose specification's JSON schema (compose-go) and the CRDs of the
# operators the Kubernetes manifests use (KEDA, Prometheus operator, RabbitMQ cluster operator,
# MongoDB community operator); and promtool, taken out of Debian's `prometheus` package (not
# installed: no daemon, no service). Prints `NAME=PATH` lines for the tests.
set -euo pipefail
CACHE="${TRACKER_CACHE:-$HOME/.cache/tracker}"
KUSTOMIZE_VERSION=v5.8.2   # v5.8.3 needs Go 1.27
KUSTOMIZE="$CACHE/bin/kustomize-$KUSTOMIZE_VERSION"
SCHEMAS="$CACHE/schemas/v1"
PROMTOOL="$CACHE/prometheus-deb/usr/bin/promtool"
# module@version  path-in-module  file-name-in-cache
MODULE_FILES=(
  "github.com/compose-spec/compose-go/v2@v2.16.2 schema/compose-spec.json compose-spec.json"
  "github.com/kedacore/keda/v2@v2.21.0 config/crd/bases/keda.sh_scaledobjects.yaml crd-keda-scaledobjects.yaml"
  "github.com/kedacore/keda/v2@v2.21.0 config/crd/bases/keda.sh_triggerauthentications.yaml crd-keda-triggerauthentications.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml crd-servicemonitors.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml crd-prometheusrules.yaml"
  "github.com/rabbitmq/cluster-operator@v1.14.0 config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml crd-rabbitmqclusters.yaml"
  "github.com/mongodb/mongodb-kubernetes-operator@v0.9.0 config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml crd-mongodbcommunity.yaml"
)

log() { echo "[ops-tools] $*" >&2; }
command -v go >/dev/null || { log "ERROR: Go is missing (needed to build kustomize)"; exit 1; }

if [[ ! -x "$KUSTOMIZE" ]]; then
  log "building kustomize $KUSTOMIZE_VERSION with Go (first run only)"
  build="$(mktemp -d)"
  GOBIN="$build" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >&2
  mkdir -p "$CACHE/bin" && mv "$build/kustomize" "$KUSTOMIZE" && rm -rf "$build"
fi

if [[ ! -x "$PROMTOOL" ]]; then
  log "extracting promtool from Debian's prometheus package (first run only)"
  command -v apt-get >/dev/null || { log "ERROR: apt-get missing (needed for promtool)"; exit 1; }
  work="$(mktemp -d)" && chmod 755 "$work"
  (cd "$work" && { apt-get download prometheus >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1; apt-get download prometheus >/dev/null 2>&1; }; }) \
    || { log "ERROR: apt-get download prometheus failed"; exit 1; }
  rm -rf "$CACHE/prometheus-deb" && dpkg-deb -x "$work"/prometheus_*.deb "$CACHE/prometheus-deb"
  rm -f "$CACHE/prometheus-deb/usr/bin/prometheus" && rm -rf "$work"
fi

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
