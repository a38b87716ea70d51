"""Unified diffs: making them, reading them and applying them strictly (context must match).

Parsing is unidiff's (hunks are read by their `@@` line counts). Applying is ours, in Python: it
keeps the verifier independent of `patch`/`git` in the sandbox image, a hunk that does not apply
is reported with its file and line instead of being fuzzed in, and a patch that creates a file
that exists, or deletes one whose content differs, is refused.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError


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


def _to_file_patch(pf) -> FilePatch:
    fp = FilePatch(path=pf.path, is_new=pf.is_added_file, is_deleted=pf.is_removed_file)
    for h in pf:
        hunk = Hunk(old_start=h.source_start)
        last: list[list[str]] = []  # the sides the previous line went to
        for line in h:
            kind, body = line.line_type, line.value
            if kind == "\\":  # "\ No newline at end of file" ends the previous line without "\n"
                for side in last:
                    if side and side[-1].endswith("\n"):
                        side[-1] = side[-1][:-1]
                continue
            last = ([hunk.old_lines] if kind in (" ", "-") else []) + ([hunk.new_lines] if kind in (" ", "+") else [])
            for side in last:
                side.append(body)
        fp.hunks.append(hunk)
    return fp


def parse_patch(text: str) -> list[FilePatch]:
    """Read a (git-style or plain) unified diff into per-file hunks. Hunk bodies are read by the
    line counts of their `@@` headers, so a removed line `-- x` is never taken for a file header."""
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as e:
        raise PatchError(f"not a well-formed unified diff: {e}") from None
    if not len(patch_set):
        raise PatchError("not a unified diff: no '--- a/...' / '+++ b/...' file headers")
    files = []
    for pf in patch_set:
        if pf.is_binary_file:
            raise PatchError(f"{pf.path}: binary patches are not supported")
        files.append(_to_file_patch(pf))
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
    lines = [] if old_text is None else old_text.splitlines(keepends=True)
    if old_text is None and not fp.is_new:
        raise PatchError(f"{fp.path}: the file does not exist")
    if old_text is not None and fp.is_new:
        raise PatchError(f"{fp.path}: the patch creates this file, but it already exists")
    if fp.is_deleted:
        removed = [line for hunk in fp.hunks for line in hunk.old_lines]
        if removed != lines:
            raise PatchError(f"{fp.path}: the patch deletes this file, but its content differs")
        return None
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
