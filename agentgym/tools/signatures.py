"""What a callable's signature says about a tool: its argument model and its env-bound names.

Keyword-only parameters (after `*`) that the agent is not told about are bound by the env (a db
connection, a sandbox) and never shown to the agent.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from agentgym.tools.docstrings import parse_docstring


def callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def signature_of(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins and C callables have none
        return None


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    target = fn if inspect.isroutine(fn) else type(fn).__call__
    # include_extras keeps Annotated[int, Field(ge=1)], so bounds reach the schema and validation
    return get_type_hints(target, include_extras=True)


def describe_function(fn: Callable[..., Any]) -> tuple[str, type[BaseModel], dict[str, Any]]:
    """(description, pydantic model of the agent's arguments, their JSON schema) of a callable."""
    name = callable_name(fn)
    description, arg_docs = parse_docstring(inspect.getdoc(fn))
    try:
        hints = _hints(fn)
    except NameError as e:
        raise TypeError(f"tool {name}: cannot resolve a type hint ({e})") from None
    sig = signature_of(fn)
    if sig is None:
        raise TypeError(f"tool {name}: its signature cannot be read; use Tool.from_schema")
    fields: dict[str, Any] = {}
    for pname, param in sig.parameters.items():
        if param.kind is param.KEYWORD_ONLY:
            continue  # bound by the env (a db, a sandbox); never shown to the agent
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name}: *args/**kwargs cannot be described to an agent")
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(f"tool {name}: {pname} is positional-only; tools are called by keyword")
        annotation = hints.get(pname, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
    model = create_model(f"{name}_args", __config__=ConfigDict(extra="forbid"), **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    return description, model, schema


def bound_names(fn: Callable[..., Any], agent_names: set[str]) -> frozenset[str]:
    """The keyword-only parameters the env supplies: those the agent is not told about."""
    sig = signature_of(fn)
    if sig is None:
        return frozenset()
    return frozenset(
        p.name
        for p in sig.parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name not in agent_names
    )


def check_fits(fn: Callable[..., Any], name: str, parameters: dict[str, Any]) -> None:
    """TypeError unless `fn` can be called with what the schema lets the agent send."""
    sig = signature_of(fn)
    if sig is None:
        return
    params = sig.parameters
    props = parameters.get("properties", {})
    by_name = {
        p.name for p in params.values() if p.kind not in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL)
    }
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = [p for p in props if p not in by_name and not takes_any]
    if unknown:
        raise TypeError(
            f"tool {name}: the schema has {', '.join(unknown)}, which "
            f"{callable_name(fn)}{sig} does not take"
        )
    needed = [
        p.name
        for p in params.values()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.name not in props
    ]
    if needed:
        raise TypeError(
            f"tool {name}: {callable_name(fn)}{sig} needs {', '.join(needed)}, "
            "which the schema does not declare"
        )
