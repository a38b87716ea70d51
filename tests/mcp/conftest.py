"""Shared pieces of the MCP tests: the example notes server, and a real `agentgym mcp serve`
process over HTTP that several tests talk to (one process for the session: it takes seconds to
start, since the SDK is large)."""

from __future__ import annotations

import importlib.util
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "examples" / "mcp_notes"
NOTES_SERVER = [sys.executable, str(NOTES / "server.py")]

try:
    import mcp  # noqa: F401
except ModuleNotFoundError:
    if os.environ.get("CI") == "true":  # CI installs the extra: a missing SDK is a failure there
        raise
    collect_ignore_glob = ["test_*.py"]


def load_notes_example():
    spec = importlib.util.spec_from_file_location("mcp_notes_example", NOTES / "env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def subprocess_env() -> dict[str, str]:
    """What a child needs to import this tree (and the tests' envs) rather than an installed one."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def children() -> list[int]:
    """Pids of this process's children that run the notes server (for tests that kill a server
    from outside). Other tests in the same session may leave their own children (a browser
    driver, a Ray node), so only the server's command line counts."""
    pids: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return [pid for pid in pids if _runs_notes_server(pid)]


def _runs_notes_server(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return NOTES_SERVER[1].encode() in argv


@dataclass
class ServedProcess:
    process: subprocess.Popen
    url: str
    record: Path
    log: list[str] = field(default_factory=list)

    def wait_for_log(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log):
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in the server's log: {self.log[-10:]}")


@pytest.fixture(scope="session")
def served_http(tmp_path_factory) -> ServedProcess:
    """`agentgym mcp serve test/Counter-v0 --transport http`: every session plays reach-3."""
    record = tmp_path_factory.mktemp("served") / "episodes.jsonl"
    command = [sys.executable, "-m", "tests.mcp.served_envs", "mcp", "serve", "test/Counter-v0",
               "--transport", "http", "--port", "0", "--task", "reach-3", "--max-steps", "6",
               "--record", str(record)]
    process = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    served = ServedProcess(process, "", record)

    def drain() -> None:  # keeps the pipe from filling up, and the log readable
        for line in process.stderr:
            served.log.append(line.rstrip())
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + 180
    while not served.url:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError(f"the server did not start: {served.log}") from None
        if " at http://" in line:
            served.url = line.rsplit(" at ", 1)[1].strip()
    yield served
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
