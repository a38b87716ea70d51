"""What the agent changed in a live SWE env's repository, read from outside its code.

Uses the SWE env's public pieces only: its sandbox (`env.sandbox`), its execution verifier's
manifest of the task's base state (`env.verifier.manifest`, path -> sha256) and base files
(`env.verifier.base_files`, `env.verifier.env.read`). Listing and reading run the image's Python
in isolated mode (nothing in the workspace runs), regular files only, bounded in count and bytes.
"""

from __future__ import annotations

import base64
import difflib
import json
import uuid
from typing import Any

from agentgym.core.errors import VerifierError

REPO_DIR = "/workspace/repo"
MAX_FILES = 50_000
MAX_READ_BYTES = 4 << 20  # what the agent changed, in all
# the listing (base64: 4/3 of the bytes, plus names) goes through a file in the sandbox's private
# /tmp: a command's stdout is capped (Limits.output_bytes) and would cut a big changed file
MAX_LISTING_BYTES = 6 * MAX_READ_BYTES

_LIST_AND_READ = r"""
import base64, hashlib, json, os, stat, sys
job = json.load(sys.stdin); root = job["root"]; manifest = job["manifest"]
files, problem = {}, ""
for d, dirs, names in os.walk(root):
    dirs[:] = sorted(x for x in dirs if x not in ("__pycache__", ".pytest_cache"))
    for name in sorted(names):
        p = os.path.join(d, name); rel = os.path.relpath(p, root)
        st = os.lstat(p)
        if not stat.S_ISREG(st.st_mode):
            continue
        if len(files) >= job["max_files"]:
            problem = "too many files in the repository"; break
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        files[rel] = (h.hexdigest(), st.st_size)
budget = job["max_bytes"]; changed = {}
for rel, (digest, size) in sorted(files.items()):
    if manifest.get(rel) == digest:
        continue
    if size > budget:
        problem = problem or f"the changed files exceed {job['max_bytes']} bytes"; continue
    budget -= size
    with open(os.path.join(root, rel), "rb") as f:
        changed[rel] = base64.b64encode(f.read(size)).decode()
deleted = sorted(rel for rel in manifest if rel not in files)
fd = os.open(job["out"], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"changed": changed, "deleted": deleted, "problem": problem}, f)
"""


def _swe_parts(env: Any) -> tuple[Any, Any]:
    sandbox, verifier = getattr(env, "sandbox", None), getattr(env, "verifier", None)
    if sandbox is None or not isinstance(getattr(verifier, "manifest", None), dict):
        raise VerifierError("this verifier needs a live SWE env (after reset, before close)")
    return sandbox, verifier


async def agent_changes(env: Any) -> tuple[dict[str, bytes | None], str]:
    """Files the agent added or changed (path -> bytes) or deleted (None), and a problem ("" if
    none) such as a repository too big to read whole."""
    sandbox, verifier = _swe_parts(env)
    # a fresh name each time (O_EXCL, no symlinks followed): nothing the agent left can stand in
    listing = f"/tmp/agentgym-listing-{uuid.uuid4().hex}.json"
    job = {"root": REPO_DIR, "manifest": verifier.manifest, "max_files": MAX_FILES,
           "max_bytes": MAX_READ_BYTES, "out": listing}
    res = await sandbox.exec(["/usr/bin/python3", "-I", "-S", "-c", _LIST_AND_READ], timeout=120,
                             stdin=json.dumps(job))
    if res.exit_code != 0 or res.timed_out:
        raise VerifierError(f"could not read the agent's workspace: {res.stderr.strip()[-300:] or 'timed out'}")
    try:
        out = json.loads(await sandbox.read_bytes(listing, max_bytes=MAX_LISTING_BYTES))
    except (OSError, json.JSONDecodeError) as e:
        raise VerifierError(f"could not read the agent's workspace listing: {e}") from None
    finally:
        await sandbox.exec(["rm", "-f", listing], timeout=30)
    changes: dict[str, bytes | None] = {rel: base64.b64decode(data) for rel, data in out["changed"].items()}
    changes.update({rel: None for rel in out["deleted"]})
    return changes, out["problem"]


def base_text(env: Any, rel: str) -> str | None:
    """A file as the task's base state has it (None if there is none)."""
    _, verifier = _swe_parts(env)
    base_files = getattr(verifier, "base_files", {}) or {}
    if rel in base_files:
        return base_files[rel]
    return verifier.env.read(rel)


def unified_diff(rel: str, old: str | None, new: bytes | None) -> str:
    try:
        new_text = None if new is None else new.decode()
    except UnicodeDecodeError:
        return f"Binary file {rel} changed\n"
    a = [] if old is None else old.splitlines(keepends=True)
    b = [] if new_text is None else new_text.splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, "/dev/null" if old is None else f"a/{rel}",
                                 "/dev/null" if new is None else f"b/{rel}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


async def agent_patch(env: Any) -> str:
    """The agent's change to the repository as one unified diff ("" if it changed nothing)."""
    changes, problem = await agent_changes(env)
    diff = "".join(unified_diff(rel, base_text(env, rel), changes[rel]) for rel in sorted(changes))
    return diff + (f"\n[{problem}]\n" if problem else "")
