"""Verifiers by name: built-in ones, ones registered in code, and plugins by entry point.

A verifier is named by a spec, in a task file or env config (a dict) or on the command line (a
string):

    {"name": "judge", "policy": "openai:gpt-4o-mini", "n": 3}     # a dict: name + options
    "judge:openai:gpt-4o-mini"                                     # NAME[:ARG]
    "prm:runs/prm"                                                 # ARG is the factory's `arg`
    {"name": "hybrid", "parts": ["prm:runs/prm", "tooluse_rules"], "weights": [1, 1]}
    '{"name": "hybrid", ...}' or "@spec.json"                      # JSON text or a JSON file

Third-party packages declare `[project.entry-points."agentgym.verifiers"]`; an entry point gives
a VerifierSpec, a list of them, or a callable returning either (as for envs).
"""

from __future__ import annotations

import difflib
import importlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from agentgym.core.errors import RegistrationError
from agentgym.verifiers.base import Verifier, VerifierSpecError

ENTRY_POINT_GROUP = "agentgym.verifiers"


@dataclass
class VerifierSpec:
    """How to build a named verifier. `factory(arg=None, **options) -> Verifier`; a string
    factory is "module:attr"."""

    name: str
    factory: str | Callable[..., Verifier]
    description: str = ""
    #: declared for listings; the built verifier's own `privileged` is what counts
    privileged: bool | None = None

    def build(self, arg: str | None = None, **options: Any) -> Verifier:
        factory = self.factory
        if isinstance(factory, str):
            module, _, attr = factory.partition(":")
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
            factory = obj
        try:
            verifier = factory(arg, **options) if arg is not None else factory(**options)
        except TypeError as e:
            raise VerifierSpecError(f"verifier {self.name!r}: {e}") from None
        if not isinstance(verifier, Verifier):
            raise VerifierSpecError(f"verifier {self.name!r} built a {type(verifier).__name__}, not a Verifier")
        if not isinstance(verifier.privileged, bool):
            raise VerifierSpecError(f"verifier {self.name!r} does not declare `privileged`")
        return verifier


_registry: dict[str, VerifierSpec] = {}
_loaded = False


def register_verifier(name: str, factory: str | Callable[..., Verifier], *, description: str = "",
                      privileged: bool | None = None, override: bool = False) -> VerifierSpec:
    """Register a verifier factory under `name` (a decorator works too: see `verifier`)."""
    if not name or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise RegistrationError(f"invalid verifier name {name!r}: letters, digits, _ - . only")
    if name in _registry and not override:
        raise RegistrationError(f"verifier {name!r} is already registered")
    spec = VerifierSpec(name, factory, description, privileged)
    _registry[name] = spec
    return spec


def verifier(name: str, *, description: str = "", privileged: bool | None = None):
    """Class or function decorator: `@verifier("mine")` registers it under that name."""
    def wrap(factory):
        register_verifier(name, factory, description=description, privileged=privileged)
        return factory
    return wrap


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from agentgym.verifiers.builtin import builtin_specs

    for spec in builtin_specs():
        _registry.setdefault(spec.name, spec)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            provided = ep.load()
            if callable(provided) and not isinstance(provided, VerifierSpec):
                provided = provided()
            for spec in [provided] if isinstance(provided, VerifierSpec) else list(provided or []):
                _registry.setdefault(spec.name, spec)
        except Exception as e:  # one broken plugin must not hide the other verifiers
            warnings.warn(f"agentgym: verifier plugin {ep.name!r} failed to load: {e}", stacklevel=2)


def verifier_registry() -> dict[str, VerifierSpec]:
    _load()
    return dict(sorted(_registry.items()))


def _spec(name: str) -> VerifierSpec:
    _load()
    if name in _registry:
        return _registry[name]
    close = difflib.get_close_matches(name, list(_registry), n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise VerifierSpecError(f"unknown verifier {name!r}.{hint} Known: {', '.join(sorted(_registry))}")


def parse_spec(spec: str | dict[str, Any]) -> dict[str, Any]:
    """A spec as a dict: {"name": ..., "arg": ..., **options}."""
    if isinstance(spec, dict):
        if not isinstance(spec.get("name"), str) or not spec["name"]:
            raise VerifierSpecError(f"a verifier spec needs a 'name': {json.dumps(spec)[:200]}")
        return dict(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise VerifierSpecError(f"empty or invalid verifier spec: {spec!r}")
    text = spec.strip()
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise VerifierSpecError(f"cannot read verifier spec file {path}: {e.strerror}") from None
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise VerifierSpecError(f"verifier spec is not valid JSON: {e.msg} (column {e.colno})") from None
        return parse_spec(raw)
    name, colon, arg = text.partition(":")
    return {"name": name, **({"arg": arg} if colon else {})}


def load_verifier(spec: str | dict[str, Any] | Verifier, **overrides: Any) -> Verifier:
    """Build the verifier a spec names (a Verifier is returned as it is)."""
    if isinstance(spec, Verifier):
        return spec
    options = {**parse_spec(spec), **overrides}
    name, arg = options.pop("name"), options.pop("arg", None)
    if name in ("hybrid", "first_decisive", "second_opinion"):  # composites: their parts are specs too
        parts = options.pop("parts", None)
        if arg is not None and parts is None:
            parts = [p for p in arg.split(",") if p.strip()]
        if not isinstance(parts, list) or not parts:
            raise VerifierSpecError(f"{name} needs 'parts': a list of verifier specs")
        options["parts"] = [load_verifier(p) for p in parts]
        arg = None
    return _spec(name).build(arg, **options)
