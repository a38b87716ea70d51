"""Typed-function tools: Annotated bounds, docstring styles, validation modes, cached specs."""

import copy
import enum
import pickle
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from agentgym.core.types import ToolCall
from agentgym.tools import Tool, Toolbox, ToolCallError, tool


@tool
def run(
    command: Annotated[str, Field(min_length=1)], timeout: Annotated[int, Field(ge=1, le=300)] = 60
) -> str:
    """Run a command.

    Args:
        command: The command line.
        timeout: Seconds before it is killed.
    """
    return f"{command} ({timeout}s)"


def test_annotated_bounds_reach_the_schema():
    props = run.spec.parameters["properties"]
    assert props["timeout"] == {
        "default": 60,
        "description": "Seconds before it is killed.",
        "maximum": 300,
        "minimum": 1,
        "type": "integer",
    }
    assert props["command"]["minLength"] == 1


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"command": "ls", "timeout": 0}, "timeout: Input should be greater than or equal to 1"),
        ({"command": "ls", "timeout": 301}, "timeout: Input should be less than or equal to 300"),
        ({"command": ""}, "command: String should have at least 1 character"),
    ],
)
def test_annotated_bounds_are_enforced(arguments, message):
    with pytest.raises(ToolCallError, match=message):
        run.validate(arguments)
    with pytest.raises(ToolCallError, match=message):  # coercion never lifts a bound
        run.with_validation("lax").validate({k: str(v) for k, v in arguments.items()})


GOOGLE = """Book a table.

    Tables are held for 15 minutes.

    Args:
        guests (int): How many people
            are coming.
        time: When, such as "19:30".

    Returns:
        A confirmation.
    """
NUMPY = """Book a table.

    Tables are held for 15 minutes.

    Parameters
    ----------
    guests : int
        How many people
        are coming.
    time : str
        When, such as "19:30".

    Returns
    -------
    str
        A confirmation.
    """
REST = """Book a table.

    Tables are held for 15 minutes.

    :param guests: How many people
        are coming.
    :type guests: int
    :param time: When, such as "19:30".
    :returns: A confirmation.
    """


@pytest.mark.parametrize("doc", [GOOGLE, NUMPY, REST], ids=["google", "numpy", "rest"])
def test_docstring_styles_give_the_same_spec(doc):
    def book(guests: int, time: str) -> str:
        return "ok"

    book.__doc__ = doc
    spec = Tool.from_function(book).spec
    assert spec.description == "Book a table.\n\nTables are held for 15 minutes."
    props = spec.parameters["properties"]
    assert props["guests"]["description"] == "How many people are coming."
    assert props["time"]["description"] == 'When, such as "19:30".'


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str
    zip: str


def paint(
    color: Color, sizes: tuple[int, int], to: Address, fast: bool = False, note: str = ""
) -> dict:
    """Paint something."""
    return {"color": color, "sizes": sizes, "to": to, "fast": fast, "note": note}


PAINT = Tool.from_function(paint)
GOOD = {"color": "red", "sizes": [1, 2], "to": {"street": "Main", "zip": "1"}}


def test_strict_mode_converts_json_values_to_the_annotated_types():
    got = PAINT.validate(GOOD)
    assert (
        got["color"] is Color.RED
        and got["sizes"] == (1, 2)
        and got["to"] == Address(street="Main", zip="1")
    )


@pytest.mark.parametrize(
    "change,message,lax_accepts",
    [
        ({"sizes": ["1", 2]}, "sizes.0: Input should be a valid integer", True),
        ({"fast": "true"}, "fast: Input should be a valid boolean", True),
        ({"note": 5}, "note: Input should be a valid string", True),
        ({"fast": 1}, "fast: Input should be a valid boolean", False),  # 1 is not obviously True
        ({"color": "green"}, "color: Input should be 'red' or 'blue'", False),
        ({"to": {"street": "Main"}}, "to.zip: Field required", False),
    ],
)
def test_strict_mode_refuses_what_lax_mode_coerces(change, message, lax_accepts):
    with pytest.raises(ToolCallError, match=message):
        PAINT.validate({**GOOD, **change})
    lax = PAINT.with_validation("lax")
    if lax_accepts:
        assert lax.validate({**GOOD, **change})
    else:
        with pytest.raises(ToolCallError, match=message):
            lax.validate({**GOOD, **change})


def test_lax_mode_coerces_to_the_declared_types():
    got = PAINT.with_validation("lax").validate(
        {**GOOD, "sizes": ["1", 2.0], "fast": "true", "note": 5}
    )
    assert got["sizes"] == (1, 2) and got["fast"] is True and got["note"] == "5"
    with pytest.raises(ToolCallError, match="sizes.0: Input should be a valid integer"):
        PAINT.with_validation("lax").validate({**GOOD, "sizes": ["one", 2]})
    with pytest.raises(ToolCallError, match="colour: Extra inputs are not permitted"):
        PAINT.with_validation("lax").validate({**GOOD, "colour": "red"})


def test_validate_false_passes_arguments_through():
    loose = Tool.from_function(paint, validate=False)
    assert loose.validate({**GOOD, "fast": "yes"}) == {**GOOD, "fast": "yes"}
    with pytest.raises(ToolCallError, match="missing a required argument: 'to'"):
        loose.validate({"color": "red", "sizes": [1, 2]})


async def test_a_toolbox_sets_the_mode_of_all_its_tools():
    @tool
    def double(n: int) -> int:
        """Double n."""
        return 2 * n

    strict_box, lax_box = Toolbox([double]), Toolbox([double], validate="lax")
    call = ToolCall(id="1", name="double", arguments={"n": "21"})
    msg, ok = await strict_box.call(call)
    assert not ok and "n: Input should be a valid integer" in msg.content
    msg, ok = await lax_box.call(call)
    assert ok and msg.content == "42"
    assert tool(validate="lax")(double.fn).validation == "lax"


def test_positional_only_parameters_are_refused():
    def f(a: int, /) -> int:
        return a

    with pytest.raises(TypeError, match="a is positional-only"):
        Tool.from_function(f)


def test_a_toolbox_accepts_plain_functions():
    def greet(name: str) -> str:
        """Say hello."""
        return name

    assert Toolbox([greet]).specs[0].description == "Say hello."


def test_specs_are_built_once_and_shared():
    @tool
    def pick(kind: Literal["a", "b"]) -> str:
        """Pick."""
        return kind

    box = Toolbox([pick, run])
    first = box.specs
    first.append("not a spec")  # the caller's list is its own
    second = box.specs
    assert len(second) == 2 and all(a is b for a, b in zip(first[:2], second, strict=True))
    with pytest.raises(TypeError):
        box.tools["other"] = pick  # read-only, so the cache cannot go stale


def test_a_toolbox_is_shared_by_copies_and_survives_pickling():
    box = Toolbox([run])
    assert copy.deepcopy({"box": box})["box"] is box and copy.copy(box) is box
    again = pickle.loads(
        pickle.dumps(Toolbox([Tool.from_schema({"type": "object"}, print, name="p")]))
    )
    assert list(again.tools) == ["p"] and again.specs[0].name == "p"
