"""Per-sandbox cgroups (v2, or v1 memory+pids): the limits that rlimits cannot give a root process.

Layout: <root>/agentgym/<sandbox-id>/ carries the limits; each exec runs in a child
<sandbox-id>/e<n>/ so that when the exec ends everything still in it can be killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
GROUP = "agentgym"


def _v2_root() -> Path | None:
    for root in (ROOT, ROOT / "unified"):
        ctrl = root / "cgroup.controllers"
        if ctrl.exists() and {"memory", "pids"} <= set(ctrl.read_text().split()):
            return root
    return None


def controller_roots() -> dict[str, Path]:
    """Where the memory and pids controllers live, or {} if we cannot use cgroups here."""
    if os.geteuid() != 0:
        return {}
    v2 = _v2_root()
    if v2 is not None:
        return {"v2": v2}
    roots = {name: ROOT / name for name in ("memory", "pids") if (ROOT / name / "tasks").exists()}
    return roots if len(roots) == 2 else {}


class SandboxCgroup:
    """The cgroup(s) of one sandbox; `exec_group()` gives the directories for one command."""

    def __init__(self, sandbox_id: str, memory_bytes: int, pids: int):
        self.roots = controller_roots()
        self.dirs: list[Path] = []
        for kind, root in self.roots.items():
            d = root / GROUP / sandbox_id
            if kind == "v2":
                _enable_v2(root)
            d.mkdir(parents=True, exist_ok=True)
            if kind in ("v2", "memory"):
                name = "memory.max" if kind == "v2" else "memory.limit_in_bytes"
                (d / name).write_text(str(memory_bytes))
                if kind == "v2":
                    with contextlib.suppress(OSError):
                        (d / "memory.swap.max").write_text("0")
            if kind in ("v2", "pids"):
                (d / "pids.max").write_text(str(pids))
            self.dirs.append(d)
        self._n = 0

    @property
    def available(self) -> bool:
        return bool(self.dirs)

    def new_exec_group(self) -> list[Path]:
        self._n += 1
        out = []
        for d in self.dirs:
            e = d / f"e{self._n}"
            e.mkdir(exist_ok=True)
            out.append(e)
        return out

    def oom_mark(self) -> int:
        """The sandbox's OOM-kill count now (v2 counts descendants; v1 counts per exec group)."""
        return sum(oom_kill_count(d) for kind, d in zip(self.roots, self.dirs, strict=True) if kind == "v2")

    def oom_kills_since(self, mark: int, groups: list[Path]) -> int:
        """Processes the OOM killer took in this sandbox since `oom_mark()` gave `mark`."""
        total = 0
        for kind, d, g in zip(self.roots, self.dirs, groups, strict=True):
            if kind == "v2":
                total += oom_kill_count(d) - mark
            elif kind == "memory":
                total += oom_kill_count(g)
        return total

    def close(self) -> None:
        for d in self.dirs:
            remove_tree(d)


def oom_kill_count(group: Path) -> int:
    """The `oom_kill` counter of a memory cgroup (v2 memory.events, v1 memory.oom_control)."""
    for name in ("memory.events", "memory.oom_control"):
        with contextlib.suppress(OSError, ValueError):
            for line in (group / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    return 0


def join(groups: list[Path]) -> None:
    """Move the calling process into `groups` (runs in the child between fork and exec)."""
    for g in groups:
        with open(g / "cgroup.procs", "w") as f:
            f.write("0")


def pids_in(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def kill_all(group: Path) -> None:
    """SIGKILL every process in `group` until it is empty (new ones can appear while we kill)."""
    kill_file = group / "cgroup.kill"
    if kill_file.exists():
        with contextlib.suppress(OSError):
            kill_file.write_text("1")
    for _ in range(200):
        pids = pids_in(group)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def remove_tree(group: Path) -> None:
    """Kill everything in `group` and its children, then remove the directories (deepest first)."""
    if not group.exists():
        return
    for d in sorted((p for p in group.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        kill_all(d)
        with contextlib.suppress(OSError):
            d.rmdir()
    kill_all(group)
    for _ in range(50):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def leftover_groups() -> list[Path]:
    """Sandbox cgroups on this machine (used by `agentgym cleanup`)."""
    out = []
    for root in controller_roots().values():
        base = root / GROUP
        if base.is_dir():
            out += [d for d in base.iterdir() if d.is_dir()]
    return out


def _enable_v2(root: Path) -> None:
    base = root / GROUP
    base.mkdir(exist_ok=True)
    for d in (root, base):
        with contextlib.suppress(OSError):
            (d / "cgroup.subtree_control").write_text("+memory +pids")
