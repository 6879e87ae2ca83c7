#!/usr/bin/env bash
# Builds every image of the Dockerfile (intake, classifier, escalation, notifier, cli) with the
# container runtime found here, and checks each starts as it should (tests/deploy/test_images.py
# drives it; docs/decisions/0007-images.md says why podman and how it runs on a build machine).
#
#   scripts/images.sh runtime      print the runtime used (docker with an engine, else podman,
#                                  else buildah), or exit 3 when there is none
#   scripts/images.sh base         print the Python base image to build on: the Dockerfile's
#                                  pinned one if it can be pulled, else a local one made with
#                                  debootstrap from Debian's archive (Python 3.11, bookworm)
#   scripts/images.sh build [T..]  build the targets (all by default) as complaints/<target>:check
#   scripts/images.sh args         print the runtime's `run` options needed on this machine
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(intake classifier escalation notifier cli)
LOCAL_BASE=localhost/complaints-python-base:bookworm
TAG=${IMAGE_TAG:-check}
pinned_base=$(sed -n 's/^ARG PYTHON_BASE=//p' Dockerfile)

runtime() {
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; return; fi
  if command -v podman >/dev/null 2>&1; then echo podman; return; fi
  if command -v buildah >/dev/null 2>&1; then echo buildah; return; fi
  echo "no container runtime (docker engine, podman or buildah)" >&2
  exit 3
}

# Options for podman on a VM without CAP_SYS_RESOURCE and with hybrid cgroups: runc (crun
# refuses hybrid cgroups) and rlimits no higher than the ones this process has.
podman_global() {
  if [ "$(runtime)" = podman ] && command -v runc >/dev/null 2>&1; then echo "--runtime runc"; fi
}
limits() {
  echo "--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"
}

base() {
  local rt
  rt=$(runtime)
  if [ -n "${PYTHON_BASE:-}" ]; then echo "$PYTHON_BASE"; return; fi
  # shellcheck disable=SC2046
  if $rt $(podman_global) image inspect "$LOCAL_BASE" >/dev/null 2>&1; then echo "$LOCAL_BASE"; return; fi
  # shellcheck disable=SC2046
  if timeout 60 $rt $(podman_global) pull -q "$pinned_base" >/dev/null 2>&1; then
    echo "$pinned_base"; return
  fi
  # No registry reachable: the same Debian release and Python minor from Debian's archive.
  local root
  root=$(mktemp -d)
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" http://deb.debian.org/debian >&2
  # This machine's CA bundle, so pip and uv reach the package index through its TLS proxy.
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
  # shellcheck disable=SC2046
  tar -C "$root" -c . | $rt $(podman_global) import \
    --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" \
    --change "CMD [\"python3\"]" - "$LOCAL_BASE" >&2
  rm -rf "$root"
  echo "$LOCAL_BASE"
}

build() {
  local rt from
  rt=$(runtime)
  from=$(base)
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
  for target in "${targets[@]}"; do
    echo "building complaints/$target:$TAG on $from with $rt" >&2
    case "$rt" in
      docker) docker build -q --build-arg "PYTHON_BASE=$from" --target "$target" \
                -t "complaints/$target:$TAG" . >&2 ;;
      # shellcheck disable=SC2046
      podman) podman $(podman_global) build -q $(limits) --build-arg "PYTHON_BASE=$from" \
                --target "$target" -t "complaints/$target:$TAG" . >&2 ;;
      buildah) buildah bud -q --build-arg "PYTHON_BASE=$from" --target "$target" \
                 -t "complaints/$target:$TAG" . >&2 ;;
    esac
  done
}

case "${1:-build}" in
  runtime) runtime ;;
  base) base ;;
  args) echo "$(podman_global)" "|" "$(limits)" ;;
  build) shift || true; build "$@" ;;
  *) echo "usage: $0 runtime|base|build [target...]|args" >&2; exit 2 ;;
esac
