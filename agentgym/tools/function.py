"""Tools from typed Python functions: the signature and docstring become the JSON schema.

    @tool
    def get_order(order_id: str) -> dict:
        '''Look up an order.

        Args:
            order_id: The order id, such as "#W0001".
        '''

Keyword-only parameters (after `*`) are supplied by the env, such as a database connection,
and are left out of the schema.

Arguments are validated by pydantic before the function runs; a validation failure is an
error the agent sees (`ToolCallError`), not an exception that ends the episode.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agentgym.core.types import ToolSpec


class ToolCallError(Exception):
    """A call the agent got wrong (unknown tool, bad arguments, a rule of the domain broken).

    Its message goes back to the agent as the tool's result.
    """


_ARG_LINE = re.compile(r"^\s{2,}(\*{0,2}\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {arg: description})."""
    doc = inspect.cleandoc(doc or "")
    head, _, rest = doc.partition("\nArgs:")
    args: dict[str, str] = {}
    current = None
    for line in rest.splitlines():
        if line.strip() and not line.startswith(" "):
            break  # next section (Returns:, Raises:)
        m = _ARG_LINE.match(line)
        if m and len(line) - len(line.lstrip()) <= 4:
            current = m.group(1).lstrip("*")
            args[current] = m.group(2).strip()
        elif current and line.strip():
            args[current] += " " + line.strip()
    return head.strip(), args


@dataclass
class Tool:
    """A callable the agent may use, with its schema and argument validator."""

    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]

    @classmethod
    def from_function(cls, fn: Callable[..., Any], name: str | None = None) -> Tool:
        description, arg_docs = _parse_docstring(fn.__doc__ or "")
        hints = get_type_hints(fn)
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(fn).parameters.items():
            if param.kind is param.KEYWORD_ONLY:
                continue  # bound by the env (a db, a sandbox); never shown to the agent
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {fn.__name__}: *args/**kwargs cannot be described to an agent")
            annotation = hints.get(pname, Any)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
        model = create_model(
            f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields
        )
        return cls(name=name or fn.__name__, description=description, fn=fn, args_model=model)

    @property
    def spec(self) -> ToolSpec:
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        schema.setdefault("properties", {})
        return ToolSpec(name=self.name, description=self.description, parameters=schema)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            parsed = self.args_model.model_validate(arguments)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in e.errors()
            )
            raise ToolCallError(f"invalid arguments for {self.name}: {problems}") from None
        return {k: getattr(parsed, k) for k in self.args_model.model_fields}

    def __call__(self, **arguments: Any) -> Any:
        return self.fn(**self.validate(arguments))


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Decorator: turn a typed function into a `Tool`."""
    if fn is None:
        return lambda f: Tool.from_function(f, name=name)
    return Tool.from_function(fn, name=name)
