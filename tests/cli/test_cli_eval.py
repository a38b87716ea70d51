"""`agentgym eval` options, records and run bookkeeping, against the fake OpenAI HTTP server."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from agentgym.cli import app
from agentgym.core.types import Episode
from tests.cli.test_cli_openai import counter_player
from tests.fakes.openai_server import FakeOpenAIServer, fake_tokenize, render_prompt, text
from tests.interrupt import interruptible

AGENTGYM = Path(sys.executable).parent / "agentgym"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def episodes(out: Path) -> list[Episode]:
    return [Episode.model_validate_json(x) for x in (out / "episodes.jsonl").read_text().splitlines()]


def test_sampling_flags_and_policy_args_reach_the_request_and_the_record(openai_env, tmp_path):
    openai_env.responder = counter_player
    result = invoke("eval", "test/Counter-v0", "-p", "openai:fake-model", "-n", 2, "-k", 2,
                    "--temperature", 0.8, "--top-p", 0.95, "--max-tokens", 64,
                    "--policy-arg", 'extra_body={"return_token_ids": true}', "--policy-arg", "seed=7",
                    "--out", tmp_path)
    assert result.exit_code == 0, result.output
    body = openai_env.requests[-1]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (0.8, 0.95, 64, 7)
    assert body["return_token_ids"] is True and body["logprobs"] is True
    eps = episodes(tmp_path)
    assert len(eps) == 4
    sent = {json.dumps(c["choices"][0]["token_ids"]) for c in openai_env.completions}
    for episode in eps:
        for step in episode.steps:
            gen = step.action.generation
            assert gen.params["temperature"] == 0.8 and gen.finish_reason in ("stop", "tool_calls")
            assert json.dumps(gen.completion_token_ids) in sent
            assert len(gen.logprobs) == len(gen.completion_token_ids)
            assert step.started_at > 1.7e9
        # the prompt ids of each turn are the rendered conversation so far: token-exact
        history = []
        for step in episode.steps:  # each step holds the messages added since the last one
            history += [m.to_openai() for m in step.observation]
            assert step.action.generation.prompt_token_ids == fake_tokenize(render_prompt(history))
    results = json.loads((tmp_path / "results.json").read_text())
    run = results["run"]
    assert run["config"]["policy_args"] == {"temperature": 0.8, "top_p": 0.95, "max_tokens": 64,
                                            "extra_body": {"return_token_ids": True}, "seed": 7}
    assert run["config"]["policy_spec"]["sampling"]["temperature"] == 0.8
    assert len(run["config"]["tasks_sha256"]) == 64 and run["machine"]["cpus"]
    assert run["command"] and run["git_commit"]
    assert results["totals"]["completion_tokens"] > 0 and results["totals"]["policy_calls"] == 8
    assert results["totals"]["cost_usd"] is None and results["totals"]["wall_time_s"] > 0


def test_a_config_file_gives_options_and_flags_win(openai_env, tmp_path):
    openai_env.responder = counter_player
    config = tmp_path / "run.toml"
    config.write_text('policy = "openai:fake-model"\nn = 1\ntemperature = 0.3\n'
                      f'out = "{tmp_path / "out"}"\n[extra_body]\ntop_k = 5\n')
    result = invoke("eval", "test/Counter-v0", "--config", config, "--temperature", 0.6)
    assert result.exit_code == 0, result.output
    body = openai_env.requests[-1]
    assert body["temperature"] == 0.6 and body["top_k"] == 5
    assert len(episodes(tmp_path / "out")) == 1


def test_bad_options_get_one_line_and_exit_2(tmp_path):
    (tmp_path / "bad.toml").write_text("polcy = 'oracle'\n")
    (tmp_path / "broken.json").write_text("{")
    cases = [
        (["--config", tmp_path / "bad.toml", "--out", tmp_path / "o"], "unknown option(s) polcy"),
        (["--config", tmp_path / "broken.json", "-p", "oracle", "--out", tmp_path / "o"], "not valid json"),
        (["--config", tmp_path / "missing.toml", "-p", "oracle", "--out", tmp_path / "o"], "missing.toml"),
        (["-p", "oracle", "--policy-arg", "novalue", "--out", tmp_path / "o"], "expected KEY=VALUE"),
        (["-p", "oracle", "--temperature", "0.5", "--out", tmp_path / "o"], "unexpected keyword"),
        (["-p", "openai:m", "--policy-arg", "temprature=1", "--out", tmp_path / "o"], "temprature"),
        (["--out", tmp_path / "o"], "--policy is required"),
    ]
    for args, message in cases:
        result = invoke("eval", "test/Counter-v0", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message.lower() in result.output.lower(), (args, result.output)
        assert "Traceback" not in result.output


def test_resume_refuses_another_run_and_force_starts_over(tmp_path):
    assert invoke("eval", "test/Counter-v0", "-p", "oracle", "-n", 2, "--out", tmp_path).exit_code == 0
    for args, what in ((["-p", "random"], "policy"), (["-p", "oracle", "--seed", 5], "seed"),
                       (["-p", "oracle", "--max-steps", 3], "max_steps")):
        result = invoke("eval", "test/Counter-v0", *args, "-n", 2, "--out", tmp_path)
        assert result.exit_code == 2 and f"another run ({what}" in result.output, result.output
    assert len(episodes(tmp_path)) == 2  # nothing lost
    # the same run resumes (and can grow: more tasks)
    assert invoke("eval", "test/Counter-v0", "-p", "oracle", "-n", 3, "--out", tmp_path).exit_code == 0
    assert len(episodes(tmp_path)) == 3
    result = invoke("eval", "test/Counter-v0", "-p", "random", "-n", 2, "--out", tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert {e.policy for e in episodes(tmp_path)} == {"random"} and len(episodes(tmp_path)) == 2


def test_resume_refuses_another_task_file(tmp_path):
    tasks = Path(__file__).parents[2] / "tasks" / "tooluse" / "retail.jsonl"
    lines = tasks.read_text().splitlines()
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines[:2]) + "\n")
    second.write_text("\n".join(lines[1:3]) + "\n")
    out = tmp_path / "out"
    assert invoke("eval", "tooluse/Retail-v0", "-p", "oracle", "--tasks", first, "--out", out).exit_code == 0
    result = invoke("eval", "tooluse/Retail-v0", "-p", "oracle", "--tasks", second, "--out", out)
    assert result.exit_code == 2 and "tasks_sha256" in result.output


def test_a_missing_model_stops_the_run_before_any_episode(tmp_path):
    with FakeOpenAIServer(models=("served-model",)) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
        started = time.monotonic()
        proc = subprocess.run([AGENTGYM, "eval", "tooluse/Retail-v0", "-p", "openai:gpt-nope",
                               "--out", tmp_path], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "does not serve model 'gpt-nope'" in proc.stderr and "served-model" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) <= 2 and "Traceback" not in proc.stderr
        assert server.requests == [] and time.monotonic() - started < 30
    assert not (tmp_path / "episodes.jsonl").exists()


def test_ctrl_c_stops_cleanly_and_the_run_resumes(tmp_path):
    with FakeOpenAIServer() as server:
        server.responder = lambda request: text("I cannot help with that.").with_delay(0.3)
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
        cmd = [AGENTGYM, "eval", "tooluse/Retail-v0", "-p", "openai:fake-model", "-n", 20, "-c", 1,
               "--out", tmp_path]
        proc = interruptible([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        store = tmp_path / "episodes.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (store.exists() and store.read_text().count("\n") >= 2):
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        saved = len(store.read_text().splitlines())
        assert f"saved {saved} episodes, rerun the same command to resume" in err
        assert "Traceback" not in err + out and 2 <= saved < 20
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
    assert len(episodes(tmp_path)) == 20
    manifest = json.loads((tmp_path / "run.json").read_text())
    assert manifest["command"].startswith("agentgym eval tooluse/Retail-v0 -p openai:fake-model")
    assert "20/20 episodes" in proc.stdout or f"{20 - saved}/{20 - saved} episodes" in proc.stdout


def test_records_keep_the_step_reward_contract_on_a_tool_use_run(tmp_path):
    result = invoke("eval", "tooluse/Retail-v0", "-p", "random:3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    for episode in episodes(tmp_path):
        assert abs(sum(s.reward for s in episode.steps) - episode.reward) < 1e-9, episode.task_id
