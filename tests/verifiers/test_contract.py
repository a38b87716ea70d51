"""The verifier contract: what a verifier may see, composition, the registry, entry points,
and the deployable tool-use rules on real episodes (including a policy that skips the rules)."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

import agentgym.verifiers.registry as registry
from agentgym.core.errors import RegistrationError, VerifierError
from agentgym.core.types import Episode, Reward, Task
from agentgym.policies.noisy import NoisyOracle
from agentgym.rollout.runner import run_episode
from agentgym.verifiers import (
    FirstDecisive,
    Verifier,
    VerifierSpecError,
    hybrid,
    load_verifier,
    register_verifier,
    score_episode,
)
from agentgym.verifiers.tooluse_rules import ToolUseRules


class Fixed(Verifier):
    """Returns a fixed reward and remembers the task it was shown."""

    def __init__(self, value: float, privileged: bool = False, name: str = "fixed",
                 components: dict | None = None, fields: tuple = ()):
        self.value, self._privileged, self.name = value, privileged, name
        self.components, self.task_fields, self.seen = components or {}, fields, None

    @property
    def privileged(self) -> bool:
        return self._privileged

    async def score_episode(self, episode, task, env=None) -> Reward:
        self.seen = task
        return Reward(value=self.value, components=self.components, explanation=f"fixed {self.value}")


class Broken(Fixed):
    async def score_episode(self, episode, task, env=None) -> Reward:
        raise VerifierError("the judge's endpoint is down")


TASK = Task(id="t1", family="demo", prompt="do it", reference=[], data={
    "hidden_tests": ["test_secret"], "environment": {"python": "3.11"}})
EPISODE = Episode(env_id="demo/X-v0", task_id="t1", policy="p", outcome=Reward(value=1.0))


async def test_a_deployable_verifier_sees_no_hidden_task_data():
    deployable, privileged = Fixed(1.0, fields=("environment",)), Fixed(1.0, privileged=True)
    await score_episode(deployable, EPISODE, TASK)
    await score_episode(privileged, EPISODE, TASK)
    assert deployable.seen.data == {"environment": {"python": "3.11"}} and deployable.seen.reference is None
    assert privileged.seen.data["hidden_tests"] == ["test_secret"]
    inner = Fixed(1.0)
    await score_episode(hybrid([inner, Fixed(0.0, privileged=True)]), EPISODE, TASK)
    assert inner.seen.data == {}  # a privileged hybrid still hands its deployable parts the public view


async def test_hybrid_weighs_parts_and_keeps_their_components():
    h = hybrid([Fixed(1.0, name="a", components={"x": 2.0}), Fixed(0.0, name="a")], [3, 1])
    reward = await score_episode(h, EPISODE, TASK)
    assert reward.value == pytest.approx(0.75) and reward.source == "hybrid"
    assert reward.components == {"a": 1.0, "a.x": 2.0, "a#2": 0.0}
    assert h.privileged is False and hybrid([Fixed(1), Fixed(1, privileged=True)]).privileged is True
    with pytest.raises(VerifierSpecError):
        hybrid([Fixed(1.0)], [1, 2])


async def test_first_decisive_passes_suspicious_verdicts_on_for_a_second_opinion():
    chain = FirstDecisive([Fixed(1.0, name="tests"), Fixed(0.3, name="judge")])
    assert (await score_episode(chain, EPISODE, TASK)).value == 1.0
    flagged = FirstDecisive([Fixed(0.0, name="tests", components={"suspicious": 1.0}),
                             Fixed(0.3, name="judge")], unless="suspicious")
    reward = await score_episode(flagged, EPISODE, TASK)
    assert reward.value == 0.3 and reward.components["tests.suspicious"] == 1.0
    assert "decided by judge" in reward.explanation


async def test_a_verifiers_own_failure_raises_through_composites_never_a_zero():
    with pytest.raises(VerifierError, match="endpoint is down"):
        await score_episode(hybrid([Fixed(1.0), Broken(0.0)]), EPISODE, TASK)
    with pytest.raises(VerifierError, match="scored against task"):
        await score_episode(Fixed(1.0), EPISODE.model_copy(update={"task_id": "other"}), TASK)
    with pytest.raises(VerifierError, match="no recorded verdict"):
        await score_episode(load_verifier("execution"), EPISODE.model_copy(update={"outcome": None}), TASK)


def test_privileged_must_be_declared():
    class Undeclared(Verifier):
        async def score_episode(self, episode, task, env=None):
            return Reward(value=1.0)

    with pytest.raises(TypeError):
        Undeclared()


def test_registry_by_name_by_decorator_and_by_entry_point(monkeypatch):
    register_verifier("fixed_half", lambda arg=None: Fixed(float(arg or 0.5)), override=True)
    assert load_verifier("fixed_half").value == 0.5 and load_verifier("fixed_half:0.25").value == 0.25
    with pytest.raises(RegistrationError):
        register_verifier("fixed_half", Fixed)
    with pytest.raises(VerifierSpecError, match="Did you mean: fixed_half"):
        load_verifier("fixed_hal")
    # a plugin's entry point, loaded for real from this module
    plugin = EntryPoint("mine", f"{__name__}:plugin_specs", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [plugin] if group == registry.ENTRY_POINT_GROUP else [])
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_registry", {})
    assert load_verifier("from_plugin").value == 0.9
    assert "judge" in registry.verifier_registry()  # the built-ins are still there


def plugin_specs():
    return [registry.VerifierSpec("from_plugin", lambda: Fixed(0.9), "a plugin's verifier", False)]


# ---- the tool-use rules on real episodes -------------------------------------------------------

async def _noisy_episode(retail_tasks, mistake: str) -> tuple[Episode, Task]:
    import agentgym

    for task_id in sorted(retail_tasks):
        task = retail_tasks[task_id]
        for sample in range(12):
            policy = NoisyOracle(p_noise=1.0, seed=1)
            policy.begin(task, None, sample)
            if policy.mistake == mistake:
                env = agentgym.make_async("tooluse/Retail-v0")
                try:
                    return await run_episode(env, policy, task_id, sample=sample), task
                finally:
                    await env.close()
    raise AssertionError(f"no sample makes the mistake {mistake}")


async def test_tooluse_rules_pass_the_reference_and_catch_broken_rules(oracle_episode, retail_tasks):
    rules = ToolUseRules()
    clean = await score_episode(rules, oracle_episode, retail_tasks[oracle_episode.task_id])
    assert clean.value == 1.0, clean.explanation
    skipped, task = await _noisy_episode(retail_tasks, "skip_confirmation")
    reward = await score_episode(rules, skipped, task)
    assert reward.components["confirmed"] == 0.0 and reward.value == 0.0
    made_up, task = await _noisy_episode(retail_tasks, "wrong_fact")
    reward = await score_episode(rules, made_up, task)
    # the amount misstated at the end was said right before it, so the state diff's required
    # output still counts as said; the rules see that the later amount came from nowhere
    assert reward.components["grounded"] == 0.0 and reward.value == 0.0


async def test_a_second_opinion_only_reviews_flagged_patches_that_passed():
    flagged_pass = {"suspicious": 1.0, "fail_to_pass": 1.0, "pass_to_pass": 1.0}
    flagged_fail = {"suspicious": 1.0, "fail_to_pass": 0.0, "pass_to_pass": 1.0}
    spec = lambda comps, judge: {"name": "second_opinion", "parts": [  # noqa: E731
        Fixed(0.0, privileged=True, name="swe_tests", components=comps), Fixed(judge, name="judge")]}
    register_verifier("fixed_obj", lambda arg=None, **kw: kw["obj"], override=True)
    build = lambda comps, judge: load_verifier({**spec(comps, judge), "parts": [  # noqa: E731
        {"name": "fixed_obj", "obj": p} for p in spec(comps, judge)["parts"]]})
    reinstated = await score_episode(build(flagged_pass, 0.9), EPISODE, TASK)
    assert reinstated.value == 1.0 and "reinstated" in reinstated.explanation
    upheld = await score_episode(build(flagged_pass, 0.2), EPISODE, TASK)
    assert upheld.value == 0.0 and upheld.components["judge"] == 0.2
    failed = await score_episode(build(flagged_fail, 1.0), EPISODE, TASK)  # the judge is not asked
    assert failed.value == 0.0 and "judge" not in failed.components
