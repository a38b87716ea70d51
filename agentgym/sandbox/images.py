"""Root filesystems for the bwrap backend: the host's own /usr, or a directory in the cache.

`image="host"` binds the host's /usr (and the /bin, /lib symlinks) read-only plus a handful of
/etc files programs need. Any other name is a root filesystem at `cache_dir()/images/<name>`
(scripts/setup_sandbox.sh makes `bookworm` with debootstrap), or an absolute path to one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agentgym.core.errors import UserInputError
from agentgym.core.paths import cache_dir

HOST = "host"
_TOP_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
_HOST_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "mime.types")
_NET_ETC = ("resolv.conf", "ssl", "ca-certificates", "nsswitch.conf", "gai.conf")


@dataclass(frozen=True)
class RootImage:
    name: str
    root: Path  # "/" for the host

    @property
    def shell(self) -> str:
        return "/bin/bash" if (self.root / "usr/bin/bash").exists() else "/bin/sh"

    def bwrap_args(self, network: bool) -> list[str]:
        """Read-only binds for the image's system directories (never the host's home or /etc)."""
        args: list[str] = []
        for name in _TOP_DIRS:
            path = self.root / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), f"/{name}"]
            elif path.is_dir():
                args += ["--ro-bind", str(path), f"/{name}"]
        etc = self.root / "etc"
        if self.root != Path("/"):
            args += ["--ro-bind", str(etc), "/etc"]
            return args
        for name in _HOST_ETC + (_NET_ETC if network else ()):
            if (etc / name).exists():
                args += ["--ro-bind", str(etc / name), f"/etc/{name}"]
        return args


def images_dir() -> Path:
    return cache_dir() / "images"


def resolve(image: str | None) -> RootImage:
    """Find the root filesystem for `image`; a clear error says where we looked."""
    name = image or HOST
    if name == HOST:
        return RootImage(HOST, Path("/"))
    path = Path(name) if name.startswith("/") else images_dir() / name
    if not (path / "usr").is_dir():
        known = sorted(p.name for p in images_dir().glob("*") if (p / "usr").is_dir()) if images_dir().is_dir() else []
        raise UserInputError(
            f"bwrap image {name!r} not found at {path} (images here: {', '.join([HOST, *known])}); "
            "scripts/setup_sandbox.sh builds 'bookworm'"
        )
    return RootImage(name, path)
