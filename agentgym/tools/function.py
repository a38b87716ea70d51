"""Tools: a callable the agent may use, with the JSON schema it is shown and an argument check.

From a typed function (the signature and docstring become the schema):

    @tool
    def get_order(order_id: str, limit: Annotated[int, Field(ge=1, le=50)] = 10) -> dict:
        '''Look up an order.

        Args:
            order_id: The order id, such as "#W0001".
            limit: At most this many lines.
        '''

or from a schema plus any callable, sync or async: `Tool.from_schema(schema, fn)`.

Keyword-only parameters the agent is not told about are supplied by the env (a database
connection, a sandbox). Arguments are checked before the function runs; a failed check is an
error the agent sees (`ToolCallError`), not an exception that ends the episode.

Validation modes: "strict" (JSON types exactly as declared, no unknown arguments), "lax" (also
accept a value that reads unambiguously as the declared type: "3" for an integer, 3 for a
string, "true" for a boolean, a JSON text for a list), False (pass the arguments as given).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from agentgym.core.types import ToolSpec
from agentgym.tools import signatures
from agentgym.tools.docstrings import parse_docstring
from agentgym.tools.schema import normalize_schema
from agentgym.tools.validation import Violation, coerce, conform

Validation = Literal["strict", "lax", False]  # True is read as "strict"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what the OpenAI and Anthropic APIs accept


class ToolCallError(Exception):
    """A call the agent got wrong (unknown tool, bad arguments, a rule of the domain broken).

    Its message goes back to the agent as the tool's result.
    """


def validation_mode(validate: Any) -> Literal["strict", "lax", False]:
    if validate is True or validate == "strict":
        return "strict"
    if validate is False or validate == "lax":
        return validate
    raise TypeError(f'validate must be "strict", "lax" or False, not {validate!r}')


@dataclass(frozen=True, eq=False)
class Tool:
    """A callable the agent may use, the JSON schema of its arguments, and how they are checked.

    `args_model` is set for tools made from typed functions: pydantic checks the arguments and
    converts them to the annotated types (enums, models). Tools made from a schema are checked
    against the schema itself.
    """

    name: str
    description: str
    fn: Callable[..., Any]
    parameters: dict[str, Any]
    validation: Literal["strict", "lax", False] = "strict"
    args_model: type[BaseModel] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise TypeError(
                f"tool name {self.name!r}: use 1-64 letters, digits, _ or - "
                "(what model APIs accept)"
            )
        object.__setattr__(self, "validation", validation_mode(self.validation))

    # ---- building ------------------------------------------------------------------------------

    @classmethod
    def from_function(
        cls, fn: Callable[..., Any], name: str | None = None, validate: Validation = "strict"
    ) -> Tool:
        """A tool from a typed function or bound method: its signature and docstring."""
        description, model, parameters = signatures.describe_function(fn)
        return cls(
            name or signatures.callable_name(fn),
            description,
            fn,
            parameters,
            validation_mode(validate),
            model,
        )

    @classmethod
    def from_schema(
        cls,
        json_schema: dict[str, Any],
        fn: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        validate: Validation = "strict",
    ) -> Tool:
        """A tool from an OpenAI-style function schema (or just its `parameters`) and a callable.

        The callable's docstring gives the description when the schema has none. A schema the
        validator cannot read, or that does not fit the callable, is a TypeError here.
        """
        if not isinstance(json_schema, dict):
            raise TypeError(f"a tool schema must be a dict, not {type(json_schema).__name__}")
        doc = json_schema.get("function", json_schema)
        if not isinstance(doc, dict):
            raise TypeError('"function" in a tool schema must be an object')
        is_function = "parameters" in doc or (
            "name" in doc and not {"type", "properties"} & doc.keys()
        )
        params = doc.get("parameters", {}) if is_function else doc
        name = name or (doc.get("name") if is_function else None) or signatures.callable_name(fn)
        if description is None:
            description = doc.get("description") if is_function else None
        if description is None:
            description = parse_docstring(inspect.getdoc(fn))[0]
        mode = validation_mode(validate)
        parameters = normalize_schema(params or {"type": "object"}, f"tool {name}: parameters")
        if not callable(fn):
            raise TypeError(f"tool {name}: {fn!r} is not callable")
        signatures.check_fits(fn, name, parameters)
        return cls(name, str(description), fn, parameters, mode)

    def with_validation(self, validate: Validation) -> Tool:
        return self._replaced(validation=validation_mode(validate))

    def with_fn(self, fn: Callable[..., Any]) -> Tool:
        """The same tool calling another callable of the same signature (another object's)."""
        return self._replaced(fn=fn)

    def _replaced(self, **changes: Any) -> Tool:
        other = dataclasses.replace(self, **changes)
        for cached in ("spec", "bound_names"):  # neither depends on the mode or on which object
            if cached in self.__dict__:
                other.__dict__[cached] = self.__dict__[cached]
        return other

    # ---- what the agent sees; cached because envs ask on every step ------------------------------

    @cached_property
    def spec(self) -> ToolSpec:
        """Shared by every caller: treat it as read-only."""
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    @cached_property
    def bound_names(self) -> frozenset[str]:
        """Keyword-only parameters of `fn` that the env supplies (`Toolbox.call(call, **bound)`)."""
        return signatures.bound_names(self.fn, set(self.parameters.get("properties", {})))

    # ---- calling -------------------------------------------------------------------------------

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments to call `fn` with, or ToolCallError saying what is wrong with them."""
        if not isinstance(arguments, dict):
            raise ToolCallError(
                f"invalid arguments for {self.name}: arguments must be a JSON object"
            )
        clash = sorted(self.bound_names & arguments.keys())
        if clash:  # env-bound values (a db, a session) are never the agent's to set
            raise ToolCallError(
                f"invalid arguments for {self.name}: "
                + "; ".join(f"{k}: Extra inputs are not permitted" for k in clash)
            )
        if self.validation is False:
            self._check_call_shape(arguments)
            return dict(arguments)
        lax = self.validation == "lax"
        try:
            if self.args_model is not None:
                return self._validate_with_model(arguments, lax)
            return conform(arguments, self.parameters, lax=lax)
        except Violation as e:
            raise ToolCallError(f"invalid arguments for {self.name}: {e}") from None

    def _validate_with_model(self, arguments: dict[str, Any], lax: bool) -> dict[str, Any]:
        assert self.args_model is not None
        if lax:  # coerce per the schema; what still does not fit, pydantic words below
            arguments = coerce(arguments, self.parameters)
        try:
            try:
                text = json.dumps(arguments)
            except (TypeError, ValueError):  # Python objects from a Python caller, not JSON
                parsed = self.args_model.model_validate(arguments, strict=True)
            else:  # JSON-mode strict: "3" is not an integer, but an enum's value is that enum
                parsed = self.args_model.model_validate_json(text, strict=True)
        except ValidationError as e:
            problems = [(".".join(str(p) for p in err["loc"]), err["msg"]) for err in e.errors()]
            raise Violation(problems) from None
        return {k: getattr(parsed, k) for k in self.args_model.model_fields}

    def _check_call_shape(self, arguments: dict[str, Any]) -> None:
        sig = signatures.signature_of(self.fn)
        if sig is None:
            return
        try:
            sig.bind(**arguments, **dict.fromkeys(self.bound_names))
        except TypeError as e:
            raise ToolCallError(f"invalid arguments for {self.name}: {e}") from None

    def __call__(self, **arguments: Any) -> Any:
        return self.fn(**self.validate(arguments))

    async def run(self, arguments: dict[str, Any], **bound: Any) -> Any:
        """Check the arguments, call `fn` with them and the env-bound values it takes, await it."""
        args = self.validate(arguments)
        result = self.fn(**args, **{k: v for k, v in bound.items() if k in self.bound_names})
        if inspect.isawaitable(result):
            result = await result
        return result


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    validate: Validation = "strict",
) -> Any:
    """Decorator: turn a typed function into a `Tool` (`@tool` or `@tool(validate="lax")`)."""
    if fn is None:
        return lambda f: Tool.from_function(f, name=name, validate=validate)
    return Tool.from_function(fn, name=name, validate=validate)
