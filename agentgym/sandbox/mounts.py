"""Mounts through the mount(2) and umount2(2) system calls, with mount(8) as the fallback.

A fork mounts three times and unmounts once; as mount(8) processes that was ~90% of its cost
(a few ms each), as system calls it is tens of microseconds. The calls go through libc via
ctypes. Where the kernel refuses them (EPERM/ENOSYS, e.g. a seccomp filter or a user namespace
without mount rights) or libc has no `mount`, or `AGENTGYM_MOUNT_SYSCALLS=0` is set, every
mount runs mount(8)/umount(8) as before; `method()` says which path is in use.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import errno
import os
import subprocess
from pathlib import Path

from agentgym.core.errors import SandboxError

MS_RDONLY = 1
MS_PRIVATE = 1 << 18
MS_SHARED = 1 << 20
MNT_DETACH = 2
_REFUSED = {errno.EPERM, errno.ENOSYS}  # the call itself is not allowed: try mount(8)


def _load_libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        mount, umount2 = libc.mount, libc.umount2
    except (OSError, AttributeError):
        return None
    mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return mount, umount2


_libc = _load_libc()
_refused = False  # set once the kernel refused a call: later mounts go straight to mount(8)


def method() -> str:
    """How this process mounts now: "syscall" or "mount(8)"."""
    if _libc is None or _refused or os.environ.get("AGENTGYM_MOUNT_SYSCALLS", "1") == "0":
        return "mount(8)"
    return "syscall"


async def mount(
    fstype: str,
    target: Path,
    options: str = "",
    *,
    read_only: bool = False,
    pass_fds: tuple[int, ...] = (),
) -> None:
    """Mount a new `fstype` filesystem (source name "agentgym") on `target`.

    `pass_fds` are the descriptors `options` names as /proc/self/fd/N: ours for the system
    call, handed on unchanged to a mount(8) process."""
    if _syscall(
        lambda m, _: m(
            b"agentgym",
            os.fsencode(target),
            fstype.encode(),
            MS_RDONLY if read_only else 0,
            options.encode() or None,
        ),
        f"mount {target}",
    ):
        return
    opts = ",".join(o for o in ("ro" if read_only else "", options) if o)
    await _run(
        "mount",
        "-t",
        fstype,
        *(["-o", opts] if opts else []),
        "agentgym",
        str(target),
        pass_fds=pass_fds,
    )


async def make_shared(target: Path) -> None:
    """Make `target` (a mount point) a peer group of its own, so mounts stacked on it later
    propagate to its copies (a container's bind of it)."""
    for flag, option in ((MS_PRIVATE, "--make-private"), (MS_SHARED, "--make-shared")):
        if not _syscall(
            lambda m, _, f=flag: m(None, os.fsencode(target), None, f, None),
            f"mount {option} {target}",
        ):
            await _run("mount", option, str(target))


async def unmount(target: Path, *, lazy: bool = False) -> None:
    """Unmount `target`; when something still holds it (EBUSY), detach it instead: it goes
    when released. `lazy` detaches at once."""
    name = os.fsencode(target)
    try:
        if _syscall(lambda _, u: u(name, MNT_DETACH if lazy else 0), f"umount {target}"):
            return
    except SandboxError as exc:
        if exc.__cause__ is None or getattr(exc.__cause__, "errno", None) != errno.EBUSY:
            raise
        _syscall(lambda _, u: u(name, MNT_DETACH), f"umount -l {target}")
        return
    try:
        await _run("umount", *(["-l"] if lazy else []), str(target))
    except SandboxError:
        if lazy:
            raise
        await _run("umount", "-l", str(target))


def _syscall(call, what: str) -> bool:
    """Run `call(mount, umount2)`: True when done, False when mount(8) must do it instead."""
    global _refused
    if method() != "syscall":
        return False
    assert _libc is not None
    if call(*_libc) == 0:
        return True
    code = ctypes.get_errno()
    if code in _REFUSED:
        _refused = True
        return False
    raise SandboxError(f"{what} failed: {os.strerror(code)}") from OSError(code, os.strerror(code))


async def _run(*argv: str, pass_fds: tuple[int, ...] = ()) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=pass_fds
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise SandboxError(f"{' '.join(argv)} failed: {err.decode(errors='replace').strip()}")


def mount_sync(fstype: str, target: Path, options: str = "") -> bool:
    """A blocking mount for one-off probes: True when it worked (by either path)."""
    ok = _syscall_quiet(
        lambda m, _: m(
            b"agentgym", os.fsencode(target), fstype.encode(), 0, options.encode() or None
        )
    )
    if ok is not None:
        return ok
    argv = ["mount", "-t", fstype, *(["-o", options] if options else []), "agentgym", str(target)]
    return subprocess.run(argv, capture_output=True).returncode == 0


def unmount_sync(target: Path, *, lazy: bool = False) -> bool:
    ok = _syscall_quiet(lambda _, u: u(os.fsencode(target), MNT_DETACH if lazy else 0))
    if ok is not None:
        return ok
    return (
        subprocess.run(
            ["umount", *(["-l"] if lazy else []), str(target)], capture_output=True
        ).returncode
        == 0
    )


def _syscall_quiet(call) -> bool | None:
    """Like `_syscall` but says failure as False; None means "use mount(8)"."""
    try:
        return True if _syscall(call, "") else None
    except SandboxError:
        return False
