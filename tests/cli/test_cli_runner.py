"""`agentgym eval --runner/--address`: bad input gets one line and exit code 2, fast."""

from __future__ import annotations

import socket
import time

from typer.testing import CliRunner

from agentgym.cli import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_runner_options_get_one_line_and_exit_2(tmp_path):
    (tmp_path / "env.toml").write_text('policy = "oracle"\nruntime_env = "not a table"\n')
    cases = [
        (["--runner", "spark"], "expected one of local, ray"),
        (["--address", "127.0.0.1:6379"], "are for --runner ray"),
        (["--runner", "ray", "--address", f"127.0.0.1:{closed_port()}"], "no Ray cluster answers"),
        (["--config", tmp_path / "env.toml", "--runner", "ray"], "runtime_env must be a table"),
    ]
    for args, message in cases:
        started = time.monotonic()
        result = invoke("eval", "test/Counter-v0", "-p", "oracle", "-n", 1,
                        "--out", tmp_path / "out", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert time.monotonic() - started < 30  # no minutes of retrying a dead address
    assert not (tmp_path / "out" / "episodes.jsonl").exists()
