#!/usr/bin/env bash
# Install what the offline checks of deploy/ need, once, into a cache outside the repository
# ($MAIS_TOOLS_DIR, default ~/.cache/mais-exchange/tools):
#   promtool     from Debian's prometheus package, extracted (nothing is installed or started)
#   kubeconform  v0.8.0, built with Go from the Go module proxy (about a minute, once)
#   composecheck deploy/tools/composecheck: the compose-spec loader `docker compose` uses (built with Go)
#   k8s-schemas  standalone Kubernetes JSON schemas made from the kubernetes-validate package
# The Strimzi CRD schemas are committed in deploy/k8s/schemas (see regenerate.py there).
# Idempotent: each tool is rebuilt only when missing (composecheck also when its source changed).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=${MAIS_TOOLS_DIR:-$HOME/.cache/mais-exchange/tools}
BIN=$TOOLS/bin
mkdir -p "$BIN"
fail() { echo "install-deploy-tools: error: $1" >&2; echo "install-deploy-tools: what to do: $2" >&2; exit 1; }

if [ ! -x "$BIN/promtool" ]; then
  command -v apt-get >/dev/null || fail "promtool is missing and this is not a Debian-like system" \
    "install Prometheus's promtool and copy it to $BIN/promtool"
  echo "install-deploy-tools: fetching promtool (Debian package prometheus, extracted only)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && (apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null 2>&1; })) \
    || fail "apt-get could not download the prometheus package" "check apt sources, or put promtool at $BIN/promtool"
  dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
  install -m 0755 "$work/x/usr/bin/promtool" "$BIN/promtool"
fi

if [ ! -x "$BIN/kubeconform" ] || [ ! -x "$BIN/composecheck" ] \
   || [ "$(cat "$BIN/.composecheck.sum" 2>/dev/null)" != "$(cat deploy/tools/composecheck/{go.mod,go.sum,main.go} | sha256sum)" ]; then
  command -v go >/dev/null || fail "Go is needed once to build kubeconform and composecheck" \
    "install Go 1.22 or newer (e.g. apt-get install golang), then run this again"
fi
if [ ! -x "$BIN/kubeconform" ]; then
  echo "install-deploy-tools: building kubeconform v0.8.0 (about a minute, once)"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
fi
sum=$(cat deploy/tools/composecheck/{go.mod,go.sum,main.go} | sha256sum)
if [ ! -x "$BIN/composecheck" ] || [ "$(cat "$BIN/.composecheck.sum" 2>/dev/null)" != "$sum" ]; then
  echo "install-deploy-tools: building composecheck (compose-spec loader; about a minute, once)"
  (cd deploy/tools/composecheck && go build -trimpath -o "$BIN/composecheck" .)
  echo "$sum" > "$BIN/.composecheck.sum"
fi

if [ ! -f "$TOOLS/k8s-schemas/v1.33.0/deployment-apps-v1.json" ]; then
  .venv/bin/python deploy/tools/k8s_schemas.py "$TOOLS/k8s-schemas/v1.33.0" 1.33.0
fi
echo "install-deploy-tools: promtool, kubeconform, composecheck and Kubernetes schemas ready in $TOOLS"
