"""Reading the agent's repository from the host, bounded, and writing files into a sandbox.

Every read of sandbox content goes through `Sandbox.exec`, whose output the sandbox caps
(`Limits.output_bytes`), in pages: our scripts (the image's Python in isolated mode, so nothing in
the workspace runs) put at most a page's worth on stdout, so the host never holds more than one
capped page, and pages, files and bytes are counted. Only regular files are read (opened with
O_NOFOLLOW|O_NONBLOCK and checked with fstat, so a FIFO, a symlink to /dev/zero or a file
swapped after listing is refused), each at most MAX_FILE_BYTES. What the agent did to its
workspace that stops this (unreadable files, special files where the project has files, huge
files, too many changes) comes back as a `problem`: the agent's failure, scored 0.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from agentgym.core.errors import VerifierError
from agentgym.sandbox import Sandbox

PYTHON = ["/usr/bin/python3", "-I", "-S", "-c"]
MAX_FILE_BYTES = 4 << 20  # a source file the agent changed
MAX_TOTAL_BYTES = 32 << 20  # all of them together
MAX_ENTRIES = 20_000  # changed, new or deleted paths
MAX_PAGES = 400
TIMEOUT = 120

# Lists what differs from the manifest (sha256 per path), sorted, from entry `start` on, until
# `budget` bytes of output. Entries: ["c", path, sha256, size] changed or new regular file,
# ["d", path] deleted, ["x", path, why] something that stops scoring.
_LIST_SCRIPT = r"""
import hashlib, json, os, stat, sys
job = json.load(sys.stdin); root = job["root"]; manifest = job["manifest"]
entries = []; seen = set()
def problem(rel, why): entries.append(["x", rel, why])
def walk_error(e): problem(os.path.relpath(e.filename, root), e.strerror or "cannot be listed")
for d, dirs, files in os.walk(root, onerror=walk_error):
    dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", ".pytest_cache"))
    for name in sorted(files) + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
        p = os.path.join(d, name); rel = os.path.relpath(p, root)
        try:
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                if rel in manifest:
                    seen.add(rel); problem(rel, "is no longer a regular file (a symlink, FIFO, socket or device)")
                continue
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise OSError(0, "changed while it was read")
                h = hashlib.sha256()
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError as e:
            seen.add(rel); problem(rel, e.strerror or str(e)); continue
        seen.add(rel)
        if manifest.get(rel) != h.hexdigest():
            entries.append(["c", rel, h.hexdigest(), st.st_size])
for rel in manifest:
    if rel not in seen:
        entries.append(["d", rel] if not os.path.isdir(os.path.join(root, rel)) else
                       ["x", rel, "was replaced by a directory"])
entries.sort(key=lambda e: e[1]); out = []; size = 0; i = job["start"]
while i < len(entries) and size < job["budget"]:
    size += len(json.dumps(entries[i])) + 2; out.append(entries[i]); i += 1
print(json.dumps({"entries": out, "next": i if i < len(entries) else None, "total": len(entries)}))
"""

# Reads regular files from (file index, byte offset) on, until `budget` bytes; base64 chunks.
_READ_SCRIPT = r"""
import base64, json, os, stat, sys
job = json.load(sys.stdin); root = job["root"]; files = job["files"]
i, pos = job["at"]; budget = job["budget"]; out = []; problems = []
while i < len(files) and budget > 0:
    rel = files[i]
    try:
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise OSError(0, "is not a regular file")
            if st.st_size > job["max_file"]:
                raise OSError(0, f"is larger than {job['max_file']} bytes")
            f.seek(pos); data = f.read(budget); end = f.tell()
    except OSError as e:
        problems.append([rel, e.strerror or str(e)]); i, pos = i + 1, 0; continue
    out.append([rel, base64.b64encode(data).decode()]); budget -= len(data)
    if not data or end >= st.st_size:
        i, pos = i + 1, 0
    else:
        pos = end
print(json.dumps({"chunks": out, "problems": problems, "next": [i, pos] if i < len(files) else None}))
"""


@dataclass(frozen=True)
class WorkspaceDiff:
    """What differs between the agent's repository and the task's base state."""

    changed: dict[str, str]  # path -> sha256 of new or modified regular files
    deleted: tuple[str, ...]
    problem: str = ""  # something the agent did that stops scoring ("" if nothing)

    @property
    def key(self) -> str:
        blob = json.dumps([sorted(self.changed.items()), sorted(self.deleted), self.problem])
        return hashlib.sha256(blob.encode()).hexdigest()


async def _page(sandbox: Sandbox, script: str, job: dict) -> tuple[dict | None, str]:
    """One bounded exec of our script; (its JSON answer, "") or (None, why it failed)."""
    res = await sandbox.exec([*PYTHON, script], timeout=TIMEOUT, stdin=json.dumps(job))
    if res.timed_out:
        return None, f"timed out after {TIMEOUT}s"
    if res.exit_code != 0 or res.truncated:
        return None, (res.stderr.strip()[-300:] or f"exit {res.exit_code}")
    try:
        return json.loads(res.stdout), ""
    except ValueError:
        return None, "its answer was garbled"


def _budget(sandbox: Sandbox) -> int:
    return max(1024, sandbox.limits.output_bytes // 2)


async def workspace_diff(sandbox: Sandbox, root: str, manifest: dict[str, str]) -> WorkspaceDiff:
    """The agent's changes against `manifest`, listed in pages of bounded size."""
    changed: dict[str, str] = {}
    deleted: list[str] = []
    problems: list[str] = []
    start: int | None = 0
    pages = 0
    while start is not None:
        answer, failure = await _page(sandbox, _LIST_SCRIPT, {"root": root, "manifest": manifest,
                                                              "start": start, "budget": _budget(sandbox)})
        pages += 1
        if answer is None:
            return WorkspaceDiff({}, (), f"the workspace could not be listed: {failure}")
        if answer["total"] > MAX_ENTRIES or pages > MAX_PAGES:
            return WorkspaceDiff({}, (), f"more than {MAX_ENTRIES} paths differ from the task's repository")
        for entry in answer["entries"]:
            if entry[0] == "c":
                changed[entry[1]] = entry[2]
            elif entry[0] == "d":
                deleted.append(entry[1])
            else:
                problems.append(f"{entry[1]} {entry[2]}")
        start = answer["next"]
    problem = ""
    if problems:
        problem = "the workspace cannot be scored: " + "; ".join(problems[:5]) + (
            f" and {len(problems) - 5} more" if len(problems) > 5 else "")
    return WorkspaceDiff(changed, tuple(sorted(deleted)), problem)


async def read_files(sandbox: Sandbox, root: str, rels: list[str]) -> tuple[dict[str, bytes], str]:
    """The contents of regular files under `root`, in bounded pages; (contents, problem)."""
    out: dict[str, bytearray] = {}
    at: list[int] | None = [0, 0]
    total = 0
    while rels and at is not None:
        job = {"root": root, "files": rels, "at": at, "budget": _budget(sandbox) * 3 // 4,
               "max_file": MAX_FILE_BYTES}
        answer, failure = await _page(sandbox, _READ_SCRIPT, job)
        if answer is None:
            return {}, f"the agent's files could not be read: {failure}"
        if answer["problems"]:
            rel, why = answer["problems"][0]
            return {}, f"the workspace cannot be scored: {rel} {why}"
        for rel, chunk in answer["chunks"]:
            data = base64.b64decode(chunk)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                return {}, f"the changed files hold more than {MAX_TOTAL_BYTES >> 20} MB"
            out.setdefault(rel, bytearray()).extend(data)
        at = answer["next"]
    return {rel: bytes(data) for rel, data in out.items()}, ""


# Writes (or deletes, for None) files. With "force" (our files) whatever blocks a path is removed
# first; otherwise (the agent's files) paths that cannot be written are reported on stdout.
_WRITE_SCRIPT = r"""
import base64, json, os, shutil, sys
job = json.load(sys.stdin); failed = []

def clear(path):
    parts = path.split("/")
    for i in range(2, len(parts)):
        parent = "/".join(parts[:i])
        if os.path.islink(parent) or (os.path.lexists(parent) and not os.path.isdir(parent)):
            os.remove(parent)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)

def write(path, data):
    if data is None:
        if os.path.lexists(path) and not os.path.isdir(path):
            os.remove(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))

for path, data in job["files"].items():
    try:
        write(path, data)
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as e:
        if not job["force"]:
            failed.append(f"{path}: {e.strerror}")
            continue
        clear(path)
        write(path, data)
print(json.dumps(failed))
"""


async def write_files(sandbox: Sandbox, root: str, files: dict[str, str | bytes | None],
                      force: bool = True) -> str:
    """Write (or delete, for None) files under `root` in one command: each exec is a sandbox start.
    Returns what could not be written ("" if all was; only without `force`)."""
    if not files:
        return ""
    payload = {
        f"{root}/{rel}": None if content is None else base64.b64encode(
            content.encode() if isinstance(content, str) else content).decode()
        for rel, content in files.items()
    }
    res = await sandbox.exec([*PYTHON, _WRITE_SCRIPT], timeout=TIMEOUT,
                             stdin=json.dumps({"force": force, "files": payload}))
    if res.exit_code != 0 or res.timed_out:
        raise VerifierError(f"could not write files into the sandbox: {res.stderr.strip()[-500:]}")
    failed = json.loads(res.stdout)
    return "; ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
