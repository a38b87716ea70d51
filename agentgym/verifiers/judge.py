"""LLM judges through any policy spec: an episode judge and a step judge.

    judge = LLMJudge("openai:gpt-4o-mini", n=3)                  # or load_verifier("judge:openai:...")
    reward = await score_episode(judge, episode, task)             # value = mean score / 10

Each of the `n` votes is one request; a reply without a valid verdict is asked again up to
`retries` times, then the judge raises VerifierError (never a 0). Verdicts are cached on disk by
the content judged (judge_cache.py), so judging the same work twice costs nothing. Components:
`score` (mean, 0..1), `votes`, `agreement` (share of votes on the majority side of
`threshold`), `score_std`, `cache_hits`.

The judge is deployable unless `include_reference=True` puts the task's reference solution
(hidden data) into its prompt.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from pathlib import Path
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import EndpointError, VerifierError
from agentgym.core.types import Episode, Message, Observation, Reward, Task, TokenUsage
from agentgym.policies import load_policy
from agentgym.policies.base import Policy, act
from agentgym.verifiers import trajectory as tr
from agentgym.verifiers.base import Verifier, VerifierSpecError
from agentgym.verifiers.judge_cache import VerdictCache, cache_key, default_cache_path
from agentgym.verifiers.judge_prompt import Rubric, judge_messages, rubric_for
from agentgym.verifiers.judge_verdict import MalformedVerdict, Verdict, parse_verdict

#: the judged content is cut to this many characters (head and tail kept)
MAX_JUDGED_CHARS = 60_000


class LLMJudge(Verifier):
    """Scores an episode with a rubric, by asking a model (any policy spec) for a verdict."""

    name = "judge"
    scores_steps = False

    def __init__(
        self,
        policy: str | Policy = "openai:gpt-4o-mini",
        *,
        n: int = 1,
        rubric: str | None = None,
        retries: int = 2,
        cache: str | Path | None | bool = True,
        include_reference: bool = False,
        threshold: float = 0.5,
        policy_options: dict[str, Any] | None = None,
    ):
        if n < 1 or retries < 0:
            raise VerifierSpecError(f"judge: n must be >= 1 and retries >= 0 (got n={n}, retries={retries})")
        options = dict(policy_options or {})
        if isinstance(policy, str) and policy.startswith("openai:"):
            # n identical greedy votes would be one vote n times: sample unless told otherwise
            options.setdefault("temperature", 0.0 if n == 1 else 0.7)
            options.setdefault("logprobs", False)
        self.policy = load_policy(policy, **options) if isinstance(policy, str) else policy
        self.model_id = _describe(self.policy)
        self.n, self.retries, self.threshold = n, retries, threshold
        self.rubric_name = rubric
        self.include_reference = include_reference
        if cache is True:
            cache = default_cache_path()
        self.cache = VerdictCache(cache) if cache else None

    @property
    def privileged(self) -> bool:
        return self.include_reference

    # ---- what is judged -------------------------------------------------------------------------

    def rubric(self, task: Task) -> Rubric:
        return rubric_for(task.family, self.rubric_name)

    async def sections(self, episode: Episode, task: Task, env: Env | None) -> list[tuple[str, str]]:
        family = self.rubric_name or task.family
        messages = tr.conversation(episode)
        if family == "swe":
            patch = await _swe_patch(env)
            if patch is not None:
                return [("PATCH", patch or "(no change)"), ("FINAL-MESSAGE", tr.final_answer(episode))]
            return [("AGENT-ACTIONS", tr.render(messages, skip_system=True))]
        if family == "web":
            return [("ACTIONS-AND-PAGES", tr.render(messages, skip_system=True)),
                    ("ANSWER", tr.final_answer(episode) or "(no answer)")]
        return [("CONVERSATION", tr.render(messages, skip_system=True))]

    def context(self, episode: Episode, task: Task) -> str:
        parts = []
        first = next(iter(tr.conversation(episode)), None)
        if first is not None and first.role == "system" and first.content:
            parts.append(f"The rules the agent was given:\n{first.content}")
        if self.include_reference and task.reference:
            reference = tr.render([tr.action_message(a) for a in task.reference])
            parts.append(f"A reference solution (never shown to the agent):\n{reference}")
        return "\n\n".join(parts)

    # ---- scoring --------------------------------------------------------------------------------

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        rubric = self.rubric(task)
        sections = [(label, tr.clip(text, MAX_JUDGED_CHARS))
                    for label, text in await self.sections(episode, task, env)]
        return await self.judge(rubric, task.prompt, sections, self.context(episode, task))

    async def judge(self, rubric: Rubric, instruction: str, sections: list[tuple[str, str]],
                    context: str = "") -> Reward:
        """n verdicts on fenced `sections`, combined into a Reward."""
        key_parts = {"rubric": rubric.name, "version": rubric.version, "model": self.model_id,
                     "instruction": instruction, "sections": sections, "context": context}
        results = await asyncio.gather(*(self._vote(rubric, instruction, sections, context,
                                                    cache_key(vote=i, **key_parts))
                                         for i in range(self.n)))
        spent = sum((usage for _, _, usage in results), TokenUsage())
        return self._combine(rubric, [v for v, _, _ in results], sum(hit for _, hit, _ in results),
                             spent)

    async def _vote(self, rubric: Rubric, instruction: str, sections: list[tuple[str, str]],
                    context: str, key: str) -> tuple[Verdict, bool, TokenUsage]:
        """A verdict, whether the cache gave it, and the tokens spent on it (malformed replies
        included: they were paid for; a cache hit spends none)."""
        spent = TokenUsage()
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached, True, spent
        problem = ""
        for _attempt in range(self.retries + 1):
            messages = judge_messages(rubric, instruction, sections, context)
            action = await self._ask(messages)
            spent = spent + (action.usage or TokenUsage())
            reply = action.content
            try:
                verdict = parse_verdict(reply)
            except MalformedVerdict as e:
                problem = f"{e}; reply began {(reply or '')[:120]!r}"
                continue
            if self.cache is not None:
                self.cache.put(key, verdict, reply or "")
            return verdict, False, spent
        raise VerifierError(f"judge {self.model_id['name']}: no valid verdict in "
                            f"{self.retries + 1} replies ({problem})", retryable=True)

    async def _ask(self, messages: list[dict[str, str]]):
        observation = Observation(messages=[Message(**m) for m in messages])
        try:
            return await act(self.policy, observation, [])
        except EndpointError as e:  # the judge's endpoint is our machinery: an infra error
            raise VerifierError(f"judge endpoint failed: {e}", retryable=e.retryable) from e

    def _combine(self, rubric: Rubric, verdicts: list[Verdict], hits: int,
                 spent: TokenUsage | None = None) -> Reward:
        values = [v.value for v in verdicts]
        mean = statistics.fmean(values)
        passing = sum(v >= self.threshold for v in values)
        agreement = max(passing, len(values) - passing) / len(values)
        scores = ", ".join(f"{v.score:g}" for v in verdicts)
        reasons = "; ".join(verdicts[0].reasons[:5])
        spent = spent or TokenUsage()
        components = {"score": mean, "votes": float(len(values)), "agreement": agreement,
                      "score_std": statistics.pstdev(values), "cache_hits": float(hits),
                      "prompt_tokens": float(spent.prompt_tokens),
                      "completion_tokens": float(spent.completion_tokens)}
        if spent.cost is not None:
            components["cost_usd"] = spent.cost
        return Reward(
            value=mean,
            components=components,
            explanation=f"{rubric.name} rubric, scores {scores}/10 (agreement {agreement:.2f}): {reasons}",
            source=self.name,
        )


class StepJudge(LLMJudge):
    """Judges one step: the history before it, the action, and what followed (value = score/10)."""

    name = "step_judge"
    scores_steps = True

    async def score_step(self, episode: Episode, index: int, task: Task, env: Env | None = None) -> Reward:
        sections = [
            ("HISTORY", tr.clip(tr.render(tr.history(episode, index), skip_system=True), MAX_JUDGED_CHARS)),
            ("ACTION", tr.render_message(tr.action_message(episode.steps[index].action))),
            ("AFTER", tr.clip(tr.render(tr.after(episode, index)), MAX_JUDGED_CHARS // 4)),
        ]
        return await self.judge(rubric_for(None, "step"), task.prompt, sections,
                                self.context(episode, task))

    async def score_episode(self, episode: Episode, task: Task, env: Env | None = None) -> Reward:
        """The mean of its step verdicts."""
        if not episode.steps:
            raise VerifierError("step_judge: the episode has no steps to judge")
        rewards = [await self.score_step(episode, i, task, env) for i in range(len(episode.steps))]
        value = statistics.fmean(r.value for r in rewards)
        return Reward(value=value, components={f"step_{i}": r.value for i, r in enumerate(rewards)},
                      explanation=f"mean of {len(rewards)} step verdicts", source=self.name)


async def _swe_patch(env: Env | None) -> str | None:
    """The agent's change as a diff, when a live SWE env is given (None otherwise)."""
    if env is None:
        return None
    from agentgym.verifiers.swe_workspace import agent_patch

    return await agent_patch(env)


def _describe(policy: Any) -> dict[str, Any]:
    describe = getattr(policy, "describe", None)
    info = describe() if callable(describe) else {}
    return {"name": getattr(policy, "name", type(policy).__name__),
            **json.loads(json.dumps(info, default=str))}


def judge(arg: str | None = None, **options: Any) -> LLMJudge:
    """`judge:POLICY_SPEC` (e.g. judge:openai:gpt-4o-mini) or {"name": "judge", "policy": ...}."""
    if arg is not None:
        options["policy"] = arg
    return LLMJudge(**options)


def step_judge(arg: str | None = None, **options: Any) -> StepJudge:
    if arg is not None:
        options["policy"] = arg
    return StepJudge(**options)
