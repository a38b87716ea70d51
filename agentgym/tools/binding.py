"""Tools from an object's methods: described by their signatures and docstrings, or by JSON docs.

Benchmarks often ship an API class plus a list of function docs; `Toolbox.bind(api, docs=docs)`
turns each doc into a tool that calls the method of the same name. Building a tool (reading the
docstring, making the argument model) is done once per class and method; binding another
instance of the class (a new episode) only swaps the callable.
"""

from __future__ import annotations

import inspect
import json
import weakref
from collections.abc import Iterable
from typing import Any

from agentgym.tools.function import Tool, Validation, validation_mode

_MISSING = object()
#: class -> {(method, doc as JSON, mode): tool built from the first instance seen}
_TEMPLATES: weakref.WeakKeyDictionary[type, dict[tuple, Tool]] = weakref.WeakKeyDictionary()


def public_methods(obj: Any) -> list[str]:
    """Names of the object's public methods, base classes first, each in definition order."""
    names: dict[str, None] = {}
    for klass in reversed(type(obj).__mro__):
        if klass is object:
            continue
        for name, attr in vars(klass).items():
            is_method = inspect.isfunction(attr) or isinstance(attr, (staticmethod, classmethod))
            if is_method and not name.startswith("_"):
                names[name] = None
    return list(names)


def doc_name(doc: Any) -> str:
    inner = doc.get("function", doc) if isinstance(doc, dict) else None
    name = inner.get("name") if isinstance(inner, dict) else None
    if not isinstance(name, str) or not name:
        shown = json.dumps(doc, default=str)[:120]
        raise TypeError(f'a tool doc needs a "name" (or "function": {{"name": ...}}): {shown}')
    return name


def _method(obj: Any, name: str) -> Any:
    owner = type(obj).__name__
    if inspect.getattr_static(obj, name, _MISSING) is _MISSING:
        available = ", ".join(public_methods(obj)) or "none"
        raise TypeError(f"{owner} has no method {name!r} (its public methods: {available})")
    fn = getattr(obj, name)
    if not callable(fn):
        raise TypeError(f"{owner}.{name} is not a method")
    return fn


def _tool(obj: Any, name: str, doc: dict[str, Any] | None, mode: Any) -> Tool:
    fn = _method(obj, name)
    instance_attr = name in getattr(obj, "__dict__", {})  # not the class's method: no sharing
    key = (name, None if doc is None else json.dumps(doc, sort_keys=True, default=str), mode)
    try:
        per_class = _TEMPLATES.setdefault(type(obj), {})
    except TypeError:  # a type that cannot be weakly referenced
        per_class = {}
    template = None if instance_attr else per_class.get(key)
    if template is not None:
        return template.with_fn(fn)
    if doc is None:
        made = Tool.from_function(fn, validate=mode)
    else:
        made = Tool.from_schema(doc, fn, name=name, validate=mode)
    if not instance_attr:
        per_class[key] = made
    return made


def bound_tools(
    obj: Any,
    methods: Iterable[str] | None = None,
    docs: Iterable[dict[str, Any]] | None = None,
    validate: Validation = "strict",
) -> list[Tool]:
    mode = validation_mode(validate)
    wanted = None if methods is None else list(methods)
    if isinstance(methods, str):
        raise TypeError("methods must be a list of method names, not one string")
    if docs is None:
        return [_tool(obj, name, None, mode) for name in (wanted or public_methods(obj))]
    by_name: dict[str, dict[str, Any]] = {}
    for doc in docs:
        name = doc_name(doc)
        if name in by_name:
            raise TypeError(f"two tool docs are named {name!r}")
        by_name[name] = doc
    if wanted is not None:
        undocumented = [m for m in wanted if m not in by_name]
        if undocumented:
            raise TypeError(
                f"no tool doc for {', '.join(undocumented)} (docs: {', '.join(by_name)})"
            )
        by_name = {m: by_name[m] for m in wanted}
    return [_tool(obj, name, doc, mode) for name, doc in by_name.items()]
