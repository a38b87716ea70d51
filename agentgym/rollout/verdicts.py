"""Second opinions: the extra verifiers of a run, applied to each episode when it ends.

An episode's `outcome` is the env's own execution verdict, and it stays so: an extra verifier
(a judge, a PRM, the tool-use rules...) only adds an entry to `episode.verdicts`, so no model
can change a training reward or a success rate by being asked. The extras are those the caller
passes (by label, e.g. from `agentgym eval --verifier`) and the one a task names in its
`verifier` field, labelled `task:NAME`. A task that names its env's own verifier (`state_diff`,
`swe_tests`, an MCP env's `mcp_state`...) is not scored twice: its verdict already is the outcome.

Each verifier scores with the env still open (an execution verifier may read its sandbox), one
after another (two verifiers never share a live sandbox at once), and sees the episode as it
ended, never another verifier's verdict. A verifier that cannot score (VerifierError, an
endpoint down, a bug in it) is recorded in `episode.verdict_errors` under its label; the
episode, its status and its reward are untouched.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import InfraError, UserInputError
from agentgym.core.types import Episode, Task
from agentgym.verifiers.base import Verifier, VerifierSpecError, score_episode
from agentgym.verifiers.registry import load_verifier, parse_spec

#: the label prefix of the verifier a task names
TASK_LABEL = "task:"
#: names under which a task file gives its family's execution verifier (the env's own verdict)
EXECUTION_NAMES = ("execution", "state_diff", "swe_tests", "web_checks")
MAX_ERROR_CHARS = 2000


def label_specs(specs: Sequence[str | dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each spec parsed, under a label: the spec as written (NAME[:ARG]), or for JSON and @file
    specs its name and arg. A label used twice gets `#2`, `#3`... Raises VerifierSpecError."""
    labelled: dict[str, dict[str, Any]] = {}
    for spec in specs:
        parsed = parse_spec(spec)
        if isinstance(spec, str) and not spec.strip().startswith(("{", "@")):
            label = spec.strip()
        else:
            label = parsed["name"] + (f":{parsed['arg']}" if "arg" in parsed else "")
        if label.startswith(TASK_LABEL):
            raise VerifierSpecError(
                f"verifier labels starting {TASK_LABEL!r} are the tasks' own: {label!r}"
            )
        unique, i = label, 1
        while unique in labelled:
            i += 1
            unique = f"{label}#{i}"
        labelled[unique] = parsed
    return labelled


def build_verifiers(specs: Mapping[str, str | dict[str, Any]]) -> dict[str, Verifier]:
    """The verifiers of labelled specs; a bad spec raises VerifierSpecError naming its label."""
    built = {}
    for label, spec in specs.items():
        try:
            built[label] = load_verifier(spec)
        except UserInputError as e:  # a bad spec, an unknown policy, a PRM dir that is none
            raise VerifierSpecError(f"--verifier {label}: {e}") from None
    return built


class VerdictPanel:
    """The extra verifiers of a run. Task-named verifiers are built once per distinct spec and
    owned (and closed) by the panel; verifiers passed in are the caller's to close."""

    def __init__(self, verifiers: Mapping[str, Verifier] | None = None):
        self.verifiers = dict(verifiers or {})
        self._task_verifiers: dict[str, Verifier | str] = {}  # spec as JSON -> verifier or why not

    def task_verifier(self, task: Task, episode: Episode) -> tuple[str, Verifier | str] | None:
        """The verifier `task` names (or why it cannot be built), unless it is the env's own."""
        spec = task.verifier if isinstance(task.verifier, dict) else {}
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            return None
        own = episode.outcome.source if episode.outcome is not None else ""
        if name in EXECUTION_NAMES or name == own:
            return None
        key = json.dumps(spec, sort_keys=True, default=str)
        if key not in self._task_verifiers:
            try:
                self._task_verifiers[key] = load_verifier(spec)
            except Exception as e:  # a bad spec in a task file: recorded per episode, not fatal
                self._task_verifiers[key] = _why(e)
        return TASK_LABEL + name, self._task_verifiers[key]

    async def score(self, episode: Episode, task: Task, env: Env | None) -> None:
        """Add each verifier's verdict (or failure) to `episode`."""
        panel: list[tuple[str, Verifier | str]] = list(self.verifiers.items())
        named = self.task_verifier(task, episode)
        if named is not None:
            panel.append(named)
        if not panel:
            return
        # every verifier sees the episode as it ended, never another one's verdict
        ended = episode.model_copy(update={"verdicts": {}, "verdict_errors": {}})
        for label, verifier in panel:
            if isinstance(verifier, str):
                episode.verdict_errors[label] = verifier
                continue
            try:
                reward = await score_episode(verifier, ended, task, env)
                if not math.isfinite(reward.value):
                    raise InfraError(
                        f"{verifier.describe()} gave a non-finite score {reward.value}"
                    )
            except Exception as e:
                episode.verdict_errors[label] = _why(e)
            else:
                episode.verdicts[label] = reward

    async def aclose(self) -> None:
        built, self._task_verifiers = self._task_verifiers, {}
        for verifier in built.values():
            if isinstance(verifier, Verifier):
                await close_verifier(verifier)


def panel_of(verifiers: Mapping[str, Verifier] | VerdictPanel | None) -> VerdictPanel:
    return verifiers if isinstance(verifiers, VerdictPanel) else VerdictPanel(verifiers)


async def close_verifier(verifier: Verifier) -> None:
    """Close what a verifier holds open (a judge's HTTP session), parts of composites included."""
    for holder in (verifier, getattr(verifier, "policy", None)):
        aclose = getattr(holder, "aclose", None)
        if callable(aclose):
            with contextlib.suppress(Exception):  # closing is best effort: the run is over
                await aclose()
    for part in getattr(verifier, "parts", ()) or ():
        if isinstance(part, Verifier):
            await close_verifier(part)


def _why(error: BaseException) -> str:
    kind = "" if isinstance(error, (InfraError, VerifierSpecError)) else " (a bug in the verifier?)"
    return f"{type(error).__name__}: {error}{kind}"[:MAX_ERROR_CHARS]
