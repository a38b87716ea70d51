"""`agentgym mcp tools` and `agentgym mcp check` on a real server process; bad commands and URLs
get one line and exit 2."""

from __future__ import annotations

import json
import shlex
import socket

import pytest
from typer.testing import CliRunner

from agentgym.cli import app
from tests.mcp.conftest import NOTES, NOTES_SERVER

SERVER = shlex.join(NOTES_SERVER)
TASKS = str(NOTES / "tasks.jsonl")


def run(*args: str):
    return CliRunner().invoke(app, ["mcp", *args])


def test_tools_lists_what_the_agent_would_see():
    result = run("tools", SERVER, "--json")
    assert result.exit_code == 0, result.output
    tools = {t["name"]: t for t in json.loads(result.output)}
    assert "export_notes" in tools and tools["add_note"]["parameters"]["required"] == ["title", "body"]


@pytest.mark.slow  # every check, on a server spawned per episode (~10 s on a loaded machine)
def test_check_wraps_a_server_and_runs_every_check():
    result = run("check", SERVER, "--tasks", TASKS, "--hide", "export_notes", "-n", "1")
    assert result.exit_code == 0, result.output
    assert "every check passed" in result.output and "FAIL" not in result.output


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, message", [
    (["tools", "no-such-mcp-server"], "command not found"),
    (["tools", "ftp://example.com/mcp"], "not an MCP server URL"),
    (["tools", f"http://127.0.0.1:{closed_port()}/mcp"], "cannot connect"),
    (["tools", "python3 -c 'import sys; sys.exit(4)'"], "cannot connect"),
    (["check", SERVER, "--tasks", str(NOTES / "missing.jsonl")], "cannot read the task file"),
    (["check", SERVER, "--tasks", TASKS, "--verifier", "no_such_verifier"], "unknown verifier"),
    (["check", SERVER, "--tasks", TASKS, "--check", "nowhere:check"], "cannot load the check"),
])
def test_bad_servers_and_options_get_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2
