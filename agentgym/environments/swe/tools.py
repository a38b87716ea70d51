"""The agent's tools: `bash`, `str_replace_editor`, `search` and `submit`.

Each runs against the episode's sandbox (bound by the env, never seen by the agent), and each
answer is bounded and says when it was cut.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Literal

from agentgym.environments.swe.editor import REPO_DIR, Editor, bound_text, resolve
from agentgym.sandbox import Sandbox, ShellSession
from agentgym.tools import Toolbox, ToolCallError, tool

MAX_TIMEOUT = 300
EDIT_COMMANDS = ("create", "str_replace", "insert", "undo_edit")


@dataclass
class Workbench:
    """One episode's live state behind the tools."""

    sandbox: Sandbox
    shell: ShellSession
    editor: Editor
    max_chars: int = 16_000
    submitted: bool = False
    changed: bool = field(default=False)  # a call may have changed files since the last check

    @classmethod
    def on(cls, sandbox: Sandbox, env: dict[str, str], max_chars: int = 16_000) -> Workbench:
        return cls(sandbox, ShellSession(sandbox, REPO_DIR, env), Editor(sandbox, max_chars), max_chars)

    def forked(self, sandbox: Sandbox) -> Workbench:
        editor = Editor(sandbox, self.max_chars, {k: list(v) for k, v in self.editor.history.items()})
        return Workbench(sandbox, self.shell.on(sandbox), editor, self.max_chars, self.submitted, self.changed)


@tool
async def bash(command: str, timeout: int = 60, *, bench: Workbench) -> str:
    """Run a bash command in the repository's sandbox. `cd` and `export` carry over between calls.

    Args:
        command: The command line, such as "python -m pytest -x -q test_foo.py".
        timeout: Seconds before the command is killed (at most 300).
    """
    if not command.strip():
        raise ToolCallError("command is empty")
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise ToolCallError(f"timeout must be between 1 and {MAX_TIMEOUT} seconds")
    bench.changed = True  # commands can write files
    result = await bench.shell.run(command, timeout=timeout)
    text = result.output
    notes = []
    if result.timed_out:
        notes.append(f"[the command timed out after {timeout}s and was killed]")
    if result.truncated:
        notes.append("[the sandbox cut this output: the middle was dropped]")
    notes.append(f"[exit code {result.exit_code}]")
    return bound_text(text, bench.max_chars) + ("\n" if text and not text.endswith("\n") else "") + "\n".join(notes)


@tool
async def str_replace_editor(
    command: Literal["view", "create", "str_replace", "insert", "undo_edit"],
    path: str,
    file_text: str | None = None,
    old_str: str | None = None,
    new_str: str | None = None,
    insert_line: int | None = None,
    view_range: list[int] | None = None,
    *,
    bench: Workbench,
) -> str:
    """View, create and edit files. Paths are relative to the repository root or absolute.

    Args:
        command: view (a file with line numbers, or a directory), create (a new file), str_replace
            (replace old_str, which must occur exactly once, by new_str), insert (new_str after line
            insert_line; 0 = at the top), undo_edit (revert the last edit of path).
        path: The file or directory, such as "src/pkg/module.py".
        file_text: The content of the file to create.
        old_str: The exact text to replace (whitespace included); it must be unique in the file.
        new_str: The replacement text (str_replace) or the text to insert (insert).
        insert_line: The line after which new_str is inserted.
        view_range: [start, end] lines to view, 1-based and inclusive; end -1 means to the end.
    """
    editor = bench.editor
    if command == "view":
        return await editor.view(path, view_range)
    bench.changed = True
    if command == "create":
        return await editor.create(path, file_text)
    if command == "str_replace":
        return await editor.str_replace(path, old_str, new_str)
    if command == "insert":
        return await editor.insert(path, insert_line, new_str)
    return await editor.undo(path)


@tool
async def search(pattern: str, path: str = ".", file_glob: str = "*.py", max_matches: int = 100,
                 *, bench: Workbench) -> str:
    """Search files for a regular expression (grep -E), with file names and line numbers.

    Args:
        pattern: An extended regular expression, such as "def parse_.*\\(".
        path: Directory or file to search, relative to the repository root.
        file_glob: Only files whose names match this glob, such as "*.py" ("*" for all files).
        max_matches: How many matching lines to show at most (up to 500).
    """
    if not pattern:
        raise ToolCallError("pattern is empty")
    max_matches = max(1, min(max_matches, 500))
    target = resolve(path)
    cmd = (f"grep -rnIE --include={shlex.quote(file_glob)} --exclude-dir=.deps --exclude-dir=__pycache__ "
           f"-e {shlex.quote(pattern)} -- {shlex.quote(target)}")
    result = await bench.sandbox.exec(["bash", "-c", cmd], timeout=60, cwd=REPO_DIR)
    if result.exit_code == 1:
        return f"No matches for {pattern!r} in {target}."
    if result.exit_code > 1:
        raise ToolCallError(f"grep failed: {result.stderr.strip()[:500]}")
    lines = result.stdout.splitlines()
    shown = "\n".join(line.removeprefix(REPO_DIR + "/") for line in lines[:max_matches])
    more = f"\n[{len(lines) - max_matches} more matches not shown; narrow the search]" if len(lines) > max_matches else ""
    return bound_text(f"{len(lines)} match(es):\n{shown}", bench.max_chars) + more


@tool
async def submit(*, bench: Workbench) -> str:
    """Submit the repository as it is now as your solution. This ends the episode."""
    bench.submitted = True
    return "Submitted. Your changes will now be tested."


def swe_toolbox() -> Toolbox:
    return Toolbox([bash, str_replace_editor, search, submit], validate="lax")
