"""`agentgym sandbox doctor` (which backends work here, and why not) and `agentgym cleanup`."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.table import Table

from agentgym.sandbox import cgroups, mounts
from agentgym.sandbox.cleanup import cleanup
from agentgym.sandbox.images import images_dir
from agentgym.sandbox.layers import overlay_works, runtime_root, sandbox_root

sandbox_app = typer.Typer(help="Sandboxes: check what works on this machine.", no_args_is_help=True)
__all__ = ["sandbox_app", "cleanup", "checks"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


async def _try_backend(backend: str) -> str | None:
    from agentgym.sandbox import create

    try:
        async with create(backend) as sb:
            res = await sb.exec("echo ok", timeout=30)
            return None if res.stdout == "ok\n" else f"exec gave {res!r}"
    except Exception as exc:  # doctor reports every failure as text
        return f"{type(exc).__name__}: {exc}"


def checks() -> list[Check]:
    """Each capability the sandboxes use, whether it works here, and what to do if not."""
    out = []
    bwrap = shutil.which("bwrap")
    why = "not installed (apt-get install bubblewrap)" if not bwrap else asyncio.run(_try_backend("bwrap"))
    out.append(Check("bwrap backend", why is None, why or f"{bwrap} works"))
    overlay = overlay_works()
    out.append(Check("fork/snapshot", True, f"overlayfs layers (mounts by {mounts.method()}): O(1) in workspace size"
                     if overlay else "copy fallback (no overlayfs/root here): fork costs O(workspace)"))
    roots = cgroups.controller_roots()
    out.append(Check("memory/pids limits", bool(roots), f"cgroups ({', '.join(sorted(roots))})" if roots
                     else "no writable cgroups: memory via RLIMIT_AS, processes via RLIMIT_NPROC"))
    images = sorted(p.name for p in images_dir().glob("*") if (p / "usr").is_dir()) if images_dir().is_dir() else []
    out.append(Check("bwrap images", True, ", ".join(["host", *images])))
    try:
        import docker  # noqa: F401

        why = asyncio.run(_try_backend("docker"))
    except ImportError:
        why = "the docker package is missing (pip install agentgym[docker])"
    out.append(Check("docker backend", why is None, why or "engine answers, base image runs"))
    sandboxes = sandbox_root()
    out.append(Check("runtime dir", True, str(runtime_root()) + (f" (sandboxes: {sandboxes}, a tmpfs)"
                                                                 if sandboxes != runtime_root() else "")))
    return out


@sandbox_app.command()
def doctor() -> None:
    """Say which sandbox backends work on this machine and why not."""
    table = Table("check", "ok", "detail")
    results = checks()
    for c in results:
        table.add_row(c.name, "[green]yes[/]" if c.ok else "[red]no[/]", c.detail)
    Console().print(table)
    if not any(c.ok for c in results if c.name.endswith("backend")):
        raise typer.Exit(1)


@sandbox_app.command("cleanup")
def cleanup_command() -> None:
    """Remove leftovers (mounts, cgroups, containers, dirs) of sandboxes whose process is gone."""
    for item in cleanup():
        print(f"removed {item}")
