#!/usr/bin/env bash
# `make docker-image-local`: a runnable taokit image built offline (no registry) from this machine's own
# filesystem: its C libraries and tools, the Python that made .venv, .venv itself and the project source,
# all at the same paths as on the host. Tagged taokit:local. Needs a running dockerd.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-taokit:local}
PYTHON=$(readlink -f "$ROOT/.venv/bin/python")
PYHOME=$(cd "$(dirname "$PYTHON")/.." && pwd)         # e.g. /root/.pyenv/versions/3.11.7
docker info >/dev/null 2>&1 || { echo "error: no Docker daemon is reachable (start dockerd)" >&2; exit 2; }
[[ -x $ROOT/.venv/bin/tao ]] || { echo "error: $ROOT/.venv is not installed; run make install" >&2; exit 2; }
paths=(bin sbin lib lib64 usr/bin usr/sbin usr/lib/x86_64-linux-gnu usr/lib64 usr/share/zoneinfo
       etc/ld.so.cache etc/ld.so.conf etc/ld.so.conf.d etc/ssl etc/nsswitch.conf etc/host.conf
       "${PYHOME#/}" "${ROOT#/}/.venv" "${ROOT#/}/src" "${ROOT#/}/pyproject.toml")
existing=()
for p in "${paths[@]}"; do [[ -e /$p || -L /$p ]] && existing+=("$p"); done
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
mkdir -p "$workdir/tmp" "$workdir/home/taokit" "$workdir/workspace" "$workdir/etc"
chmod 1777 "$workdir/tmp" "$workdir/home/taokit"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$workdir/etc/passwd"
printf 'root:x:0:\n' > "$workdir/etc/group"
previous=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
echo "building $TAG from $PYHOME, $ROOT/.venv and $ROOT/src ..."
# everyone may read and traverse (the job runs as the calling user); the GPU-only and test-only parts stay out
tar -cf - --mode='a+rX' --exclude='*/site-packages/triton' --exclude='*/lib/python3.11/test' \
    --exclude='__pycache__' -C / "${existing[@]}" -C "$workdir" tmp home workspace etc/passwd etc/group \
  | docker import \
      --change "ENV PATH=$ROOT/.venv/bin:/usr/bin:/bin" \
      --change "ENV TAOKIT_IN_CONTAINER=1" \
      --change "ENV HOME=/home/taokit" \
      --change "WORKDIR /workspace" \
      --change 'ENTRYPOINT ["tao"]' \
      - "$TAG"
docker run --rm "$TAG" --version
# a rebuild would otherwise leave the previous 7 GB image behind, untagged, at every run
if [[ -n $previous && $previous != $(docker image inspect --format '{{.Id}}' "$TAG") ]]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
