"""Unified diffs: making them, reading them and applying them strictly (context must match).

Applying in Python keeps the verifier independent of `patch`/`git` in the sandbox image, and a
hunk that does not apply is reported with its file and line instead of being fuzzed in.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    """A patch that cannot be read or does not apply."""


@dataclass
class Hunk:
    old_start: int
    old_lines: list[str] = field(default_factory=list)  # context and removed lines, with "\n"
    new_lines: list[str] = field(default_factory=list)  # context and added lines, with "\n"


@dataclass
class FilePatch:
    path: str  # relative to the repo root
    hunks: list[Hunk] = field(default_factory=list)
    is_new: bool = False
    is_deleted: bool = False


def make_patch(path: str, old: str, new: str, context: int = 3) -> str:
    """A git-style unified diff of one file (empty when nothing changed)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}", n=context,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    text = "".join(out)
    return f"diff --git a/{path} b/{path}\n{text}" if text else ""


def _strip_prefix(name: str) -> str:
    name = name.split("\t", 1)[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_patch(text: str) -> list[FilePatch]:
    """Read a (git-style or plain) unified diff into per-file hunks."""
    files: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefix(line[4:]), _strip_prefix(lines[i + 1][4:])
            current = FilePatch(path=new if new != "/dev/null" else old,
                                is_new=old == "/dev/null", is_deleted=new == "/dev/null")
            files.append(current)
            hunk = None
            i += 2
            continue
        m = _HUNK.match(line)
        if m:
            if current is None:
                raise PatchError(f"patch line {i + 1}: hunk before any file header")
            hunk = Hunk(old_start=int(m.group(1)))
            current.hunks.append(hunk)
        elif hunk is not None and line[:1] in (" ", "-", "+"):
            body = line[1:]
            if line[0] in (" ", "-"):
                hunk.old_lines.append(body)
            if line[0] in (" ", "+"):
                hunk.new_lines.append(body)
        elif hunk is not None and line.startswith("\\"):  # "\ No newline at end of file"
            for side in (hunk.old_lines, hunk.new_lines):
                if side and side[-1].endswith("\n"):
                    side[-1] = side[-1][:-1]
        i += 1
    if not files:
        raise PatchError("not a unified diff: no '--- a/...' / '+++ b/...' file headers")
    return files


def _find(lines: list[str], block: list[str], hint: int) -> int:
    """Index where `block` matches exactly, nearest to `hint`; -1 if nowhere."""
    n = len(block)
    for offset in range(len(lines) + 1):
        for start in (hint - offset, hint + offset):
            if 0 <= start <= len(lines) - n and lines[start:start + n] == block:
                return start
    return -1


def apply_file_patch(old_text: str | None, fp: FilePatch) -> str | None:
    """The new content of one file (None when the patch deletes it)."""
    if fp.is_deleted:
        return None
    lines = [] if old_text is None else old_text.splitlines(keepends=True)
    if old_text is None and not fp.is_new:
        raise PatchError(f"{fp.path}: the file does not exist")
    shift = 0
    for number, hunk in enumerate(fp.hunks, start=1):
        start = _find(lines, hunk.old_lines, hunk.old_start - 1 + shift) if hunk.old_lines else (
            hunk.old_start + shift if hunk.old_start else 0)
        if start < 0:
            raise PatchError(f"{fp.path}: hunk {number} (line {hunk.old_start}) does not apply")
        lines[start:start + len(hunk.old_lines)] = hunk.new_lines
        shift += len(hunk.new_lines) - len(hunk.old_lines)
    return "".join(lines)


def patched_paths(text: str) -> list[str]:
    return [fp.path for fp in parse_patch(text)] if text.strip() else []
