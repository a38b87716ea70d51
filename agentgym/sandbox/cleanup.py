"""Find and remove what sandboxes of dead processes left behind: mounts, dirs, cgroups, containers.

Everything we make is labelled: runtime directories named sbx-/vol-/base-/probe- with an
`owner` pid file, cgroups under `agentgym/`, and containers labelled `agentgym=1` with
`agentgym.owner=<host>:<pid>`. Anything whose owner is still alive is left alone.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from agentgym.sandbox import cgroups, mounts
from agentgym.sandbox.layers import runtime_root, sandbox_root

_PREFIXES = ("sbx-", "vol-", "base-", "probe-")


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True


def _owner_alive(d: Path) -> bool:
    try:
        return _alive((d / "owner").read_text().strip())
    except OSError:
        return False


def _mounts_under(d: Path) -> list[str]:
    prefix = str(d) + "/"
    out = []
    with open("/proc/self/mounts") as f:
        for line in f:
            target = line.split()[1].replace("\\040", " ")
            if target == str(d) or target.startswith(prefix):
                out.append(target)
    return sorted(set(out), key=len, reverse=True)


def stale_dirs() -> list[Path]:
    return [d for root in _roots() for d in sorted(root.iterdir())
            if d.name.startswith(_PREFIXES) and not _owner_alive(d)]


def _roots() -> list[Path]:
    return sorted({runtime_root(), sandbox_root()})


def cleanup() -> list[str]:
    """Remove leftovers of sandboxes whose process is gone; return what was removed."""
    removed: list[str] = []
    live_ids = {d.name[4:] for root in _roots() for d in root.glob("sbx-*") if _owner_alive(d)}
    for group in cgroups.leftover_groups():
        if group.name not in live_ids:
            cgroups.remove_tree(group)
            removed.append(f"cgroup {group}")
    removed += _cleanup_containers()
    stale = stale_dirs()
    for d in sorted(stale, key=lambda p: not p.name.startswith("sbx-")):  # sandboxes before volumes
        for target in _mounts_under(d):
            for _ in range(8):  # a mount point can have several mounts stacked on it
                if not mounts.unmount_sync(Path(target), lazy=True):
                    break
            removed.append(f"mount {target}")
        shutil.rmtree(d, ignore_errors=True)
        removed.append(f"dir {d}")
    return removed


def _cleanup_containers() -> list[str]:
    try:
        import docker

        client = docker.from_env(timeout=10)
        containers = client.containers.list(all=True, filters={"label": "agentgym=1"})
    except Exception:
        return []
    host = socket.gethostname()
    removed = []
    for c in containers:
        owner_host, _, pid = c.labels.get("agentgym.owner", "").rpartition(":")
        if owner_host == host and _alive(pid):
            continue
        c.remove(force=True)
        removed.append(f"container {c.name}")
    return removed
