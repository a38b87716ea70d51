"""A file editor over a sandbox, in the style of SWE-agent / OpenHands `str_replace_editor`.

Every edit keeps the previous content so `undo_edit` can put it back; views are numbered like
`cat -n`. Mistakes (no match, several matches, a bad line number) are `ToolCallError`s, which
the agent sees as the tool's answer.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field

from agentgym.environments.swe.repo_io import read_files
from agentgym.sandbox import Sandbox
from agentgym.tools import ToolCallError

WORKSPACE = "/workspace"
REPO_DIR = f"{WORKSPACE}/repo"
SNIPPET_CONTEXT = 4


def bound_text(text: str, limit: int, what: str = "output") -> str:
    """`text` cut to about `limit` characters (head and tail kept), saying so when cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-(limit // 2):]
    cut = len(text) - len(head) - len(tail)
    return f"{head}\n[... {what} cut: {cut} characters omitted ...]\n{tail}"


def resolve(path: str) -> str:
    """An absolute path inside /workspace: relative paths start at the repository root."""
    if not path or not path.strip():
        raise ToolCallError("path is empty")
    full = posixpath.normpath(path if path.startswith("/") else posixpath.join(REPO_DIR, path))
    if full != WORKSPACE and not full.startswith(WORKSPACE + "/"):
        raise ToolCallError(f"{path}: only files under {WORKSPACE} can be edited")
    return full


def numbered(text: str, first: int = 1) -> str:
    return "\n".join(f"{n:6d}\t{line}" for n, line in enumerate(text.split("\n"), start=first))


@dataclass
class Editor:
    sandbox: Sandbox
    max_chars: int = 16_000
    history: dict[str, list[str | None]] = field(default_factory=dict)

    async def _exists(self, path: str) -> str:
        res = await self.sandbox.exec(["sh", "-c", 'if [ -d "$1" ]; then echo dir; elif [ -e "$1" ]; '
                                      'then echo file; else echo none; fi', "sh", path], timeout=30)
        return res.stdout.strip()

    async def _read(self, path: str) -> str:
        kind = await self._exists(path)
        if kind == "none":
            raise ToolCallError(f"{path} does not exist")
        if kind == "dir":
            raise ToolCallError(f"{path} is a directory")
        # bounded: a FIFO, a symlink to /dev/zero or a huge file is refused, never read whole
        contents, problem = await read_files(self.sandbox, posixpath.dirname(path), [posixpath.basename(path)])
        if problem:
            raise ToolCallError(f"cannot edit {path}: {problem.split(': ', 1)[-1]}")
        return contents.get(posixpath.basename(path), b"").decode("utf-8", errors="replace")

    async def _write(self, path: str, new: str, old: str | None) -> None:
        try:
            await self.sandbox.write_file(path, new)
        except PermissionError as e:
            raise ToolCallError(f"cannot write {path}: {e}") from None
        self.history.setdefault(path, []).append(old)

    def _snippet(self, text: str, line: int, n_lines: int) -> str:
        lines = text.split("\n")
        start = max(0, line - 1 - SNIPPET_CONTEXT)
        end = min(len(lines), line - 1 + n_lines + SNIPPET_CONTEXT)
        return numbered("\n".join(lines[start:end]), start + 1)

    async def view(self, path: str, view_range: list[int] | None = None) -> str:
        full = resolve(path)
        if await self._exists(full) == "dir":
            if view_range:
                raise ToolCallError("view_range applies to files, not directories")
            res = await self.sandbox.exec(
                f"find {shlex.quote(full)} -maxdepth 2 -not -path '*/.*' -not -name __pycache__ | sort",
                timeout=30)
            return bound_text(f"Files and directories up to 2 levels deep in {full}:\n{res.stdout}",
                              self.max_chars)
        text = await self._read(full)
        lines = text.split("\n")
        first = 1
        if view_range:
            if len(view_range) != 2:
                raise ToolCallError("view_range is [start, end] (end -1 means to the end of the file)")
            start, end = view_range
            end = len(lines) if end == -1 else end
            if not 1 <= start <= len(lines) or not start <= end <= len(lines):
                raise ToolCallError(f"view_range {view_range} is outside the file's lines 1..{len(lines)}")
            lines, first = lines[start - 1:end], start
        shown = numbered("\n".join(lines), first)
        return bound_text(f"Here is {full} (cat -n):\n{shown}", self.max_chars, "file view") + (
            "\n[use view_range to see a part of a long file]" if len(shown) > self.max_chars else "")

    async def create(self, path: str, file_text: str | None) -> str:
        full = resolve(path)
        if file_text is None:
            raise ToolCallError("create needs file_text")
        if await self._exists(full) != "none":
            raise ToolCallError(f"{full} already exists; use str_replace or insert to change it")
        await self._write(full, file_text, None)
        return f"Created {full}."

    async def str_replace(self, path: str, old_str: str | None, new_str: str | None) -> str:
        full = resolve(path)
        if not old_str:
            raise ToolCallError("str_replace needs a non-empty old_str")
        text = await self._read(full)
        count = text.count(old_str)
        if count == 0:
            raise ToolCallError(f"old_str was not found in {full}; it must match exactly, whitespace included")
        if count > 1:
            lines = [text[:i].count("\n") + 1 for i in _positions(text, old_str)]
            raise ToolCallError(f"old_str occurs {count} times in {full} (lines {lines}); "
                                "include more context to make it unique")
        new_str = new_str or ""
        at = text.index(old_str)
        new_text = text.replace(old_str, new_str, 1)
        await self._write(full, new_text, text)
        line = text[:at].count("\n") + 1
        return bound_text(f"Edited {full}. Snippet:\n{self._snippet(new_text, line, new_str.count(chr(10)) + 1)}",
                          self.max_chars)

    async def insert(self, path: str, insert_line: int | None, new_str: str | None) -> str:
        full = resolve(path)
        if insert_line is None or new_str is None:
            raise ToolCallError("insert needs insert_line and new_str")
        text = await self._read(full)
        lines = text.split("\n")
        if not 0 <= insert_line <= len(lines):
            raise ToolCallError(f"insert_line {insert_line} is outside 0..{len(lines)}")
        new_lines = new_str.split("\n")
        new_text = "\n".join(lines[:insert_line] + new_lines + lines[insert_line:])
        await self._write(full, new_text, text)
        return bound_text(f"Inserted after line {insert_line} of {full}. Snippet:\n"
                          f"{self._snippet(new_text, insert_line + 1, len(new_lines))}", self.max_chars)

    async def undo(self, path: str) -> str:
        full = resolve(path)
        previous = self.history.get(full)
        if not previous:
            raise ToolCallError(f"no edit of {full} to undo")
        old = previous.pop()
        if old is None:
            await self.sandbox.exec(["rm", "-f", "--", full], timeout=30)
            return f"Undid the creation of {full} (removed it)."
        await self.sandbox.write_file(full, old)
        return f"Undid the last edit of {full}."


def _positions(text: str, needle: str) -> list[int]:
    out, start = [], 0
    while (i := text.find(needle, start)) >= 0:
        out.append(i)
        start = i + 1
    return out
