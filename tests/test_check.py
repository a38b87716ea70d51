"""`agentgym check`: a good env passes; each kind of broken env fails the check that covers it."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

import agentgym
from agentgym.cli import app
from agentgym.conformance import run_checks
from agentgym.core.types import Reward
from tests.core.counter_env import CounterEnv


def statuses(env_cls, **kwargs) -> dict[str, str]:
    spec = agentgym.register(f"test/{env_cls.__name__}-v0", env_cls, override=True, **kwargs)
    return {r.name: r.status for r in asyncio.run(run_checks(spec, n_tasks=2))}


class AlwaysPasses(CounterEnv):
    async def score(self):
        return Reward(value=1.0, source="lenient")


class Unseeded(CounterEnv):
    calls = [0]

    async def _reset(self, task, seed):
        messages = await super()._reset(task, seed)
        self.calls[0] += 1
        messages[0] = messages[0].model_copy(update={"content": f"{messages[0].content} (episode {self.calls[0]})"})
        return messages


LEAKED = []


class Leaky(CounterEnv):
    async def close(self):
        LEAKED.append(open(__file__))  # never closed: held where gc cannot free it
        await super().close()


class SharesStateOnFork(CounterEnv):
    async def _fork_state(self, child):
        child.state = self.state  # the same dict: a child's add reaches its parent


class WrongReference(CounterEnv):
    def reference_solver(self, task):
        class Wrong:
            def act(self, observation, tools):
                return "done"

        return Wrong()


def test_a_good_env_passes_every_check():
    result = CliRunner().invoke(app, ["check", "test/Counter-v0", "--tasks", "2"])
    assert result.exit_code == 0, result.output
    assert "every check passed" in result.output and "FAIL" not in result.output


@pytest.mark.parametrize("env_cls, failing", [
    (AlwaysPasses, "no-op"),
    (Unseeded, "determinism"),
    (Leaky, "close"),
    (SharesStateOnFork, "fork"),
    (WrongReference, "oracle"),
])
def test_each_broken_env_fails_its_check(env_cls, failing):
    try:
        found = statuses(env_cls)
    finally:
        while LEAKED:
            LEAKED.pop().close()
    assert found[failing] == "fail", found
    others = {name for name, status in found.items() if status == "fail"} - {failing}
    assert others <= {"gymnasium"}, found  # check_env also tests seeding


def test_nondeterministic_specs_skip_the_determinism_check():
    assert statuses(Unseeded, nondeterministic=True)["determinism"] == "skip"


def test_failures_exit_1_and_bad_input_exits_2():
    agentgym.register("test/AlwaysPasses-v0", AlwaysPasses, override=True)
    result = CliRunner().invoke(app, ["check", "test/AlwaysPasses-v0", "--tasks", "1"])
    assert result.exit_code == 1 and "no-op" in result.output
    for args in (["check", "test/Countr-v0"], ["check", "test/Counter-v0", "--tasks", "0"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
