"""Copying the agent's files without starting `cp`: /tmp on fork, and layers when squashing.

Keeps what `cp -a` keeps (type, mode, owner, times, xattrs such as overlay whiteouts and opaque
marks, hard links within the tree) and never follows a symlink or opens anything but a regular
file, so an endless file the agent made (a FIFO, a link to /dev/zero) is copied as what it is.
For a small tree this is far cheaper than a `cp` process (a fork's /tmp is usually a few files);
a large one still goes to `cp -a`, which copies faster than Python once it is running.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

SMALL_ENTRIES = 256  # up to this many entries and
SMALL_BYTES = 4 << 20  # this many bytes, a tree is copied here (cheap enough for the event loop)

Links = dict[tuple[int, int], str]  # (device, inode) of a multiply-linked file -> its first copy


def is_small(root: Path) -> bool:
    """Whether `root` holds few and small enough entries to copy in-process (stops counting early)."""
    entries = size = 0
    stack = [os.fspath(root)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                entries += 1
                st = entry.stat(follow_symlinks=False)
                size += st.st_size if stat.S_ISREG(st.st_mode) else 0
                if entries > SMALL_ENTRIES or size > SMALL_BYTES:
                    return False
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
    return True


def copy_tree(src: Path, dst: Path) -> None:
    """Copy the contents of directory `src` into directory `dst` (made if missing), like
    `cp -a src/. dst`."""
    links: Links = {}
    os.makedirs(dst, exist_ok=True)
    _copy_children(os.fspath(src), os.fspath(dst), links)
    copy_meta(os.fspath(src), os.fspath(dst), os.lstat(src))


def _copy_children(src: str, dst: str, links: Links) -> None:
    with os.scandir(src) as it:
        entries = list(it)
    for entry in entries:
        target = os.path.join(dst, entry.name)
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            os.mkdir(target, 0o700)
            _copy_children(entry.path, target, links)
            copy_meta(entry.path, target, st)
        else:
            copy_node(entry.path, target, st, links)


def copy_node(src: str, dst: str, st: os.stat_result, links: Links) -> None:
    """Copy one non-directory to `dst` (which must not exist)."""
    key = (st.st_dev, st.st_ino)
    if st.st_nlink > 1 and key in links:
        os.link(links[key], dst, follow_symlinks=False)
        return
    mode = st.st_mode
    if stat.S_ISREG(mode):
        _copy_regular(src, dst)
    elif stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(dst, 0o600)
    else:  # character/block devices (overlay whiteouts are 0/0 character devices) and sockets
        os.mknod(dst, stat.S_IFMT(mode) | 0o600, st.st_rdev)
    copy_meta(src, dst, st)
    if st.st_nlink > 1:
        links[key] = dst


def _copy_regular(src: str, dst: str) -> None:
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd_in).st_mode):  # swapped for something else meanwhile
            raise OSError(f"{src} is no longer a regular file")
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            while os.sendfile(fd_out, fd_in, None, 1 << 30):  # in the kernel, no Python buffers
                pass
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


def copy_meta(src: str, dst: str, st: os.stat_result) -> None:
    """Owner, mode, xattrs and times of `src` onto `dst` (times last: the others change ctime only)."""
    os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))  # after chown, which clears set-id bits
    copy_xattrs(src, dst)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def copy_xattrs(src: str, dst: str) -> None:
    with contextlib.suppress(OSError):  # a filesystem without xattrs has none to keep
        for name in os.listxattr(src, follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.setxattr(
                    dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False
                )
