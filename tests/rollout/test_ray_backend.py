"""`evaluate(..., runner="ray")` on a real local Ray cluster, shared by this module (Ray takes
tens of seconds to start on two cores), torn down at the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentgym.core.types import Episode
from agentgym.environments.tooluse import load_tasks
from agentgym.evaluation.run import evaluate
from agentgym.rollout.ray_backend import WORKER_PREFIX
from tests.fakes.openai_server import FakeOpenAIServer, as_reply, text
from tests.interrupt import interruptible

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray") if os.environ.get("CI") != "true" else __import__("ray")

ROOT = Path(__file__).resolve().parents[2]
AGENTGYM = Path(sys.executable).parent / "agentgym"
ENV_ID = "tooluse/Retail-v0"


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance of two CPUs; its workers can import this repo's tests."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def records(out: Path) -> list[Episode]:
    return [Episode.model_validate_json(x) for x in (out / "episodes.jsonl").read_text().splitlines()]


def live_workers() -> list[str]:
    """Names of the episode workers alive in the cluster (of any driver)."""
    return [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
            if a["name"].startswith(WORKER_PREFIX)]


async def test_oracle_episodes_stream_back_resume_and_rerun_infra_errors(cluster, tmp_path):
    lines_when_told = []

    def on_episode(episode):  # each episode is on disk before anyone hears of it
        lines_when_told.append(len((tmp_path / "episodes.jsonl").read_text().splitlines()))

    first = await evaluate(ENV_ID, "oracle", tmp_path, n=2, concurrency=2, runner="ray",
                           on_episode=on_episode)
    assert first["success_rate"] == 1.0 and first["n_episodes"] == 2
    assert lines_when_told == [1, 2]
    assert not live_workers()  # ended with the run

    # an earlier attempt at the third task died of an infrastructure error: resume re-runs it
    tasks = sorted(t.id for t in load_tasks())
    lost = Episode(env_id=ENV_ID, task_id=tasks[2], sample=0, seed=0, policy="oracle",
                   status="infra_error", error="SandboxError: gone")
    with open(tmp_path / "episodes.jsonl", "a") as f:
        f.write(lost.model_dump_json() + "\n")
    second = await evaluate(ENV_ID, "oracle", tmp_path, n=4, concurrency=3, runner="ray",
                            on_episode=on_episode)
    assert second["n_episodes"] == 4 and second["success_rate"] == 1.0
    assert second["n_infra_errors"] == 0  # the re-run's record wins
    kept = records(tmp_path)
    assert sorted(e.task_id for e in kept[:2]) == tasks[:2] and len(kept) == 5
    assert kept[2].task_id == tasks[2] and kept[2].status == "infra_error"  # kept, not rewritten
    assert {e.task_id for e in kept[3:]} == {tasks[2], tasks[3]}
    assert lines_when_told == [1, 2, 4, 5]
    assert all(abs(sum(s.reward for s in e.steps) - e.reward) < 1e-9 for e in kept if e.steps)


async def test_extra_verifiers_are_built_on_the_workers_and_score_there(cluster, tmp_path):
    results = await evaluate(ENV_ID, "oracle", tmp_path, n=2, concurrency=2, runner="ray",
                             verifiers=["tooluse_rules", "execution"])
    assert results["success_rate"] == 1.0 and results["n_episodes"] == 2
    kept = records(tmp_path)
    assert len(kept) == 2
    for episode in kept:  # scored on the worker, with the env still live there
        assert episode.verdicts["execution"] == episode.outcome
        assert episode.verdicts["tooluse_rules"].source == "tooluse_rules"
    assert results["verifiers"]["execution"]["agreement"]["accuracy"] == 1.0
    assert results["verifiers"]["tooluse_rules"]["scored"] == 2


def play_references(request):
    """The fake model plays each task's reference solution, found by the user's opening line."""
    by_prompt = {t.prompt: t for t in load_tasks()}
    task = by_prompt[next(m["content"] for m in request["messages"] if m["role"] == "user")]
    turn = sum(1 for m in request["messages"] if m["role"] == "assistant")
    if turn < len(task.reference):
        return as_reply(task.reference[turn])
    return text("Done.")


async def test_an_openai_policy_on_ray_workers_keeps_its_endpoint_and_records(cluster, tmp_path):
    with FakeOpenAIServer() as server:
        server.responder = play_references
        results = await evaluate(
            ENV_ID, "openai:fake-model", tmp_path, n=3, concurrency=3, runner="ray",
            policy_args={"base_url": server.base_url, "temperature": 0.5,
                         "extra_body": {"return_token_ids": True}},
        )
        assert results["success_rate"] == 1.0 and results["n_episodes"] == 3
        steps = [s for e in records(tmp_path) for s in e.steps]
        assert len(server.requests) == len(steps) == results["totals"]["policy_calls"]
        sent = [c["choices"][0]["token_ids"] for c in server.completions]
        for step in steps:  # the records made on the workers are token-exact
            gen = step.action.generation
            assert gen.endpoint == server.base_url and gen.params["temperature"] == 0.5
            assert gen.completion_token_ids in sent and len(gen.logprobs) == len(gen.completion_token_ids)


async def test_a_lost_worker_is_replaced_and_its_episodes_run_again(cluster, tmp_path):
    tasks = sorted(t.id for t in load_tasks())
    marker = tmp_path / "killed"
    results = await evaluate(
        ENV_ID, "tests.rollout.ray_agents:DiesOnce", tmp_path / "out", n=3, concurrency=2,
        runner="ray", policy_args={"task_id": tasks[1], "marker": str(marker)},
    )
    assert int(marker.read_text()) != os.getpid()  # a worker process did die mid-episode
    assert results["n_episodes"] == 3 and results["success_rate"] == 1.0
    assert sorted(e.task_id for e in records(tmp_path / "out")) == tasks[:3]  # once each


def test_ctrl_c_stops_a_ray_run_cleanly_and_leaves_no_worker(cluster, tmp_path):
    with FakeOpenAIServer() as server:
        server.responder = lambda request: text("I cannot help with that.").with_delay(0.5)
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
        cmd = [AGENTGYM, "eval", ENV_ID, "-p", "openai:fake-model", "-n", 30, "-c", 2,
               "--out", tmp_path, "--runner", "ray", "--address", cluster]
        proc = interruptible([str(c) for c in cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        store = tmp_path / "episodes.jsonl"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not (store.exists() and store.read_text().count("\n") >= 2):
            time.sleep(0.2)
        running = live_workers()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    saved = len(store.read_text().splitlines())
    assert f"saved {saved} episodes, rerun the same command to resume" in err
    assert "Traceback" not in err + out and 2 <= saved < 30
    assert running  # the episodes ran on the cluster's workers ...
    deadline = time.monotonic() + 60
    while live_workers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not live_workers()  # ... which ended with the run
    assert json.loads((tmp_path / "run.json").read_text())["config"]["env_id"] == ENV_ID
