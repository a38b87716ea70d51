#!/usr/bin/env bash
# Set up what agentgym's sandboxes need on this machine. Idempotent: safe to run again.
#   - bubblewrap (bwrap backend), docker.io (docker backend), debootstrap (base image)
#   - a Docker engine (dockerd started in the background if none answers; log in $LOG)
#   - the base root filesystem: $CACHE/images/bookworm (bwrap image) and agentgym-base:bookworm
set -euo pipefail

CACHE="${AGENTGYM_CACHE:-$HOME/.cache/agentgym}"
ROOTFS="$CACHE/images/bookworm"
IMAGE="agentgym-base:bookworm"
LOG="${AGENTGYM_DOCKERD_LOG:-/var/log/agentgym-dockerd.log}"
say() { echo "[setup_sandbox] $*"; }

missing=()
for pair in bwrap:bubblewrap dockerd:docker.io debootstrap:debootstrap; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done

if [ "$(id -u)" != 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    say "missing packages: ${missing[*]}"
    say "install them as root:  sudo apt-get install -y ${missing[*]}"
  fi
  docker info >/dev/null 2>&1 || say "no Docker engine answers; start one (sudo dockerd &) or set DOCKER_HOST"
  say "not root: the base image is not built; run this script as root to build it"
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if ! docker info >/dev/null 2>&1; then
  if [ -n "${DOCKER_HOST:-}" ]; then
    say "DOCKER_HOST=$DOCKER_HOST does not answer"; exit 1
  fi
  say "starting dockerd (log: $LOG)"
  nohup dockerd --iptables=false --ip6tables=false --bridge=none >"$LOG" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { say "dockerd did not come up; see $LOG"; tail -20 "$LOG"; exit 1; }
fi

if [ ! -x "$ROOTFS/usr/bin/python3" ]; then
  say "building $ROOTFS with debootstrap (about a minute)"
  rm -rf "$ROOTFS.partial"
  mkdir -p "$(dirname "$ROOTFS")"
  # the machine's own apt mirror (debootstrap's default when none is configured)
  mirror="$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
  debootstrap --variant=minbase --include=python3,python3-venv,git bookworm "$ROOTFS.partial" \
    ${mirror:+"$mirror"} >"$CACHE/debootstrap.log" 2>&1 \
    || { say "debootstrap failed; see $CACHE/debootstrap.log"; tail -20 "$CACHE/debootstrap.log"; exit 1; }
  rm -rf "$ROOTFS.partial/var/cache/apt/archives/"*.deb
  mkdir -p "$ROOTFS.partial/workspace"
  mv "$ROOTFS.partial" "$ROOTFS"
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "importing $IMAGE"
  tar -C "$ROOTFS" -c . | docker import -c 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
fi
say "ready: bwrap $(bwrap --version | cut -d' ' -f2), docker $(docker version -f '{{.Server.Version}}'), image $IMAGE, rootfs $ROOTFS"
