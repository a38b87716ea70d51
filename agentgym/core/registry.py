"""Versioned env ids, registration, and discovery of third-party envs by entry point.

Ids follow Gymnasium's rule, `family/Name-vN`. Built-in families and plugins are found the same
way, through the entry-point group `agentgym.environments`, on the first look-up — not as a side
effect of importing a module (BrowserGym #196 lost envs that way). `register_with_gymnasium()`
(run by `import agentgym`) makes every id work with `gymnasium.make` too.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from agentgym.core.env import Env
from agentgym.core.errors import RegistrationError, UnknownEnvError

ENTRY_POINT_GROUP = "agentgym.environments"
ID_PATTERN = re.compile(r"^(?P<family>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.:+-]+)-v(?P<version>\d+)$")


@dataclass
class EnvSpec:
    """How to build one registered env. `entry_point` is a callable or "module:attr"."""

    id: str
    entry_point: str | Callable[..., Env]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: returns the number of tasks, so `agentgym list` need not build the env; it is given the
    #: spec's kwargs that it takes (a `tasks` path, say)
    count_tasks: Callable[..., int] | None = None
    #: the same seed may not give the same episode (e.g. a page driven by the clock)
    nondeterministic: bool = False
    #: the env's `max_steps` when the caller gives none
    max_episode_steps: int | None = None
    #: shared by every env made from this spec (`Env.shared`): caches of expensive task data
    context: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def family(self) -> str:
        return self.id.split("/", 1)[0]

    def _factory(self) -> Callable[..., Env]:
        if callable(self.entry_point):
            return self.entry_point
        module, _, attr = self.entry_point.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj

    def make_async(self, **kwargs: Any) -> Env:
        options = {**self.kwargs, **kwargs}
        if self.max_episode_steps is not None:
            options.setdefault("max_steps", self.max_episode_steps)
        env = self._factory()(**options)
        env.env_id = self.id
        env.shared = self.context
        return env

    def make(self, render_mode: str | None = None, reward: str = "step", **kwargs: Any):
        from agentgym.core.gym import GymEnv

        gym_env = GymEnv(self.make_async(**kwargs), render_mode=render_mode, reward=reward)
        gym_env.spec = _gymnasium_spec(self, kwargs)
        return gym_env

    def task_count(self, **kwargs: Any) -> int | None:
        """The number of tasks with these settings (None when the spec cannot tell cheaply)."""
        if self.count_tasks is None:
            return None
        options = {**self.kwargs, **kwargs}
        params = inspect.signature(self.count_tasks).parameters.values()
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            names = {p.name for p in params}
            options = {k: v for k, v in options.items() if k in names}
        return self.count_tasks(**options)


def _gymnasium_spec(spec: EnvSpec, kwargs: dict[str, Any]):
    """A gymnasium EnvSpec so `env.spec.make()` and gymnasium tooling work on our envs."""
    from gymnasium.envs.registration import EnvSpec as GymSpec

    return GymSpec(
        id=spec.id,
        entry_point=lambda **kw: spec.make(**kw),
        kwargs=dict(kwargs),
        disable_env_checker=True,
        order_enforce=False,
        nondeterministic=spec.nondeterministic,
    )


_registry: dict[str, EnvSpec] = {}
_loaded = False
_plugin_errors: dict[str, str] = {}


def register(
    id: str,
    entry_point: str | Callable[..., Env],
    *,
    kwargs: dict[str, Any] | None = None,
    description: str = "",
    count_tasks: Callable[..., int] | None = None,
    nondeterministic: bool = False,
    max_episode_steps: int | None = None,
    override: bool = False,
) -> EnvSpec:
    """Register an env under a versioned id; `kwargs` go to the entry point (as gymnasium's do)."""
    if not ID_PATTERN.match(id):
        raise RegistrationError(
            f"invalid env id {id!r}: ids look like 'family/Name-v0' (Gymnasium's ns/Name-vN rule)"
        )
    if id in _registry and not override:
        raise RegistrationError(f"env id {id!r} is already registered")
    spec = EnvSpec(id, entry_point, dict(kwargs or {}), description, count_tasks,
                   nondeterministic, max_episode_steps)
    _registry[id] = spec
    _gym_register(spec)
    return spec


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):  # built-in families and plugins alike
        try:
            provided = ep.load()
            if callable(provided) and not isinstance(provided, EnvSpec):
                provided = provided()
            for spec in [provided] if isinstance(provided, EnvSpec) else list(provided or []):
                if spec.id not in _registry:
                    _registry[spec.id] = spec
        except Exception as e:  # one broken plugin must not hide every other env
            _plugin_errors[ep.name] = f"{type(e).__name__}: {e}"
            warnings.warn(f"agentgym: environments {ep.name!r} failed to load: {e}", stacklevel=2)


def register_with_gymnasium() -> None:
    """Make every known id work with `gymnasium.make(id)` as well."""
    for spec in registry().values():
        _gym_register(spec)


def _gym_register(spec: EnvSpec) -> None:
    import gymnasium

    if spec.id in gymnasium.registry:
        return
    gymnasium.register(
        id=spec.id,
        entry_point=lambda **kw: make(spec.id, **kw),
        nondeterministic=spec.nondeterministic,
        disable_env_checker=True,
        order_enforce=False,
    )


def registry() -> dict[str, EnvSpec]:
    """Every known env id, built-in and plugin, sorted."""
    _load()
    return dict(sorted(_registry.items()))


def spec(id: str) -> EnvSpec:
    _load()
    try:
        return _registry[id]
    except KeyError:
        pass
    candidates = list(_registry)
    close = difflib.get_close_matches(id, candidates, n=3, cutoff=0.5)
    if not close:  # same name, other version or family
        name = id.split("/")[-1].rsplit("-v", 1)[0].lower()
        close = [c for c in candidates if name and name in c.lower()][:3]
    hint = f" Did you mean: {', '.join(close)}?" if close else " Run `agentgym list` to see them all."
    raise UnknownEnvError(f"unknown env id {id!r}.{hint}")


def make(id: str, **kwargs: Any):
    """The sync `gymnasium.Env` for `id`."""
    return spec(id).make(**kwargs)


def make_async(id: str, **kwargs: Any) -> Env:
    """The async env for `id` (what the rollout runner, search and training use)."""
    return spec(id).make_async(**kwargs)
