"""`agentgym eval --policy openai:…` end to end against a real local OpenAI-compatible server."""

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from agentgym.cli import app
from agentgym.core.types import Episode
from tests.fakes.openai_server import error, tool_call

AGENTGYM = Path(sys.executable).parent / "agentgym"


def counter_player(request):
    """Plays test/Counter-v0: add the target named in the user's message, then stop."""
    last = request["messages"][-1]
    if last["role"] == "user":
        return tool_call("add", {"n": int(last["content"].split()[-1].rstrip("."))})
    return "Done."


def test_eval_with_an_openai_compatible_server(openai_env, tmp_path):
    openai_env.responder = counter_player
    result = CliRunner().invoke(app, ["eval", "test/Counter-v0", "-p", "openai:fake-model",
                                      "-n", "3", "-k", "2", "-c", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["success_rate"] == 1.0 and results["pass_at_k"] == 1.0 and results["k"] == 2
    episodes = [Episode.model_validate_json(x) for x in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 6 and all(e.usage.total_tokens > 0 for e in episodes)
    first_request = openai_env.requests[0]
    assert first_request["model"] == "fake-model"
    assert first_request["tools"][0]["function"]["name"] == "add"


def test_an_endpoint_that_stays_down_is_an_infra_error_not_a_zero(openai_env, tmp_path):
    openai_env.responder = lambda request: error(503, "overloaded", retry_after=0)
    env = {**os.environ, "OPENAI_BASE_URL": openai_env.base_url}
    env.pop("OPENAI_API_KEY", None)
    proc = subprocess.run(
        [AGENTGYM, "eval", "tooluse/Retail-v0", "-p", "openai:fake-model", "-n", "2", "--out", tmp_path],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 3, proc.stderr  # every episode an infra error: the run failed
    assert "2 episode(s) hit an infrastructure error" in proc.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["n_infra_errors"] == 2 and results["n_episodes"] == 0
    assert results["success_rate"] is None  # no valid episode: no figure, rather than a false 0
    episodes = [Episode.model_validate_json(x) for x in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert all(e.status == "infra_error" and "overloaded" in e.error for e in episodes)

    # the endpoint comes back: a second run re-does only the infra errors
    openai_env.responder = lambda request: "I am sorry, I cannot help with that."
    proc = subprocess.run(
        [AGENTGYM, "eval", "tooluse/Retail-v0", "-p", "openai:fake-model", "-n", "2", "--out", tmp_path],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["n_infra_errors"] == 0 and results["n_episodes"] == 2
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 4  # the failed records are kept; the new ones supersede them
