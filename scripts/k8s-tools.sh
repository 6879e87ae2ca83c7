#!/usr/bin/env bash
# Installs kustomize and kubeconform from the Go module proxy into .local/bin, and writes
# kubeconform's schemas from Kubernetes' own OpenAPI document (the k8s.io/kubernetes module)
# into .local/k8s-schemas. Idempotent; used by the Kubernetes manifest test.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBECONFORM=v0.7.0
KUSTOMIZE=v5.7.1
KUBERNETES=v1.33.0
bin="$PWD/.local/bin"
schemas="$PWD/.local/k8s-schemas"
mkdir -p "$bin"

if ! command -v go >/dev/null 2>&1; then
  echo "go is not on PATH (needed to install kubeconform and kustomize)" >&2
  exit 1
fi
[ -x "$bin/kubeconform" ] || GOBIN="$bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM"
[ -x "$bin/kustomize" ] || GOBIN="$bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE"
if [ ! -f "$schemas/.kubernetes-$KUBERNETES" ]; then
  dir=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$schemas"
  python3 deploy/k8s/tools/k8s_schemas.py "$dir/api/openapi-spec/swagger.json" "$schemas"
  touch "$schemas/.kubernetes-$KUBERNETES"
fi
