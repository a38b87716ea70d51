"""Real eval folders for the export, report and compare tests: `agentgym eval` on
test/Counter-v0 against the fake OpenAI server, which returns token ids and logprobs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentgym.cli import app
from tests.fakes.openai_server import error, tool_call

TOKEN_IDS = 'extra_body={"return_token_ids": true}'


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def target(request) -> int:
    """The number the task asks for (in the user's message: 'Make the counter reach N.')."""
    first_user = next(m for m in request["messages"] if m["role"] == "user")
    return int(first_user["content"].split()[-1].rstrip("."))


def calls_made(request) -> int:
    return sum(m["role"] == "assistant" for m in request["messages"])


def solver(request):
    """Adds the target, then says it is done: every task succeeds."""
    return tool_call("add", {"n": target(request)}) if calls_made(request) == 0 else "Done."


def overshooter(request):
    """Adds one too many: every task fails."""
    return tool_call("add", {"n": target(request) + 1}) if calls_made(request) == 0 else "Done."


def wobbler(request):
    """Reaches the target, steps away from it (a negative step reward), steps back: succeeds."""
    plan = [target(request), 1, -1]
    made = calls_made(request)
    return tool_call("add", {"n": plan[made]}) if made < len(plan) else "Done."


def mixed(request):
    """Solves targets 1-3, overshoots 4, writes broken JSON arguments on 2 then recovers, and
    gets a refused request (an infra error) on 5."""
    t, made = target(request), calls_made(request)
    if t == 5:
        return error(400, "refused")
    if t == 4:
        return overshooter(request)
    if t == 2 and made == 0:
        return tool_call("add", '{"n": 2')  # invalid JSON: the env shows the agent its mistake
    if t == 2 and made == 1:
        return tool_call("add", {"n": 2})
    return solver(request)


def make_run(server, out: Path, responder, *args) -> Path:
    """`agentgym eval test/Counter-v0` with the fake server answering through `responder`."""
    server.responder = responder
    result = invoke(
        "eval",
        "test/Counter-v0",
        "-p",
        "openai:fake-model",
        "--policy-arg",
        TOKEN_IDS,
        "--out",
        out,
        *args,
    )
    assert result.exit_code == 0, result.output
    return out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def text_caller(request):
    """Writes its tool call as a Hermes <tool_call> block in text: the env parses it and keeps a
    structured call in the history, so later prompts render that turn differently."""
    if calls_made(request) == 0:
        return f'<tool_call>{{"name": "add", "arguments": {{"n": {target(request)}}}}}</tool_call>'
    return "Done."
