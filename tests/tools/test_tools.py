from typing import Literal

import pytest

from agentgym.core.types import Action, ToolCall
from agentgym.tools import Toolbox, ToolCallError, parse_tool_calls, tool


@tool
def find_order(
    order_id: str, status: Literal["pending", "delivered"] = "pending", limit: int = 3, *, db=None
) -> dict:
    """Find an order by id.

    Args:
        order_id: The order id, such as "#W0001".
        status: Only orders in this status.
        limit: At most this many
            results (a continued line).

    Returns:
        The order.
    """
    return {"order_id": order_id, "status": status, "limit": limit, "db": db}


def test_schema_comes_from_hints_and_docstring():
    spec = find_order.spec
    assert spec.description == "Find an order by id."
    props = spec.parameters["properties"]
    assert props["order_id"] == {"type": "string", "description": 'The order id, such as "#W0001".'}
    assert props["status"]["enum"] == ["pending", "delivered"]
    assert props["limit"]["description"] == "At most this many results (a continued line)."
    assert spec.parameters["required"] == ["order_id"]
    assert "db" not in props  # env-bound, never shown to the agent
    assert spec.to_openai()["function"]["name"] == "find_order"


def test_validation_errors_say_what_is_wrong():
    with pytest.raises(
        ToolCallError, match="invalid arguments for find_order: order_id: Field required"
    ):
        find_order.validate({})
    with pytest.raises(ToolCallError, match="status: Input should be 'pending' or 'delivered'"):
        find_order.validate({"order_id": "1", "status": "lost"})
    with pytest.raises(ToolCallError, match="extra: Extra inputs are not permitted"):
        find_order.validate({"order_id": "1", "extra": 1})


def test_tools_reject_varargs():
    with pytest.raises(TypeError, match=r"\*args"):
        tool(lambda *a: None)


async def test_toolbox_runs_calls_with_bound_arguments_and_reports_errors():
    box = Toolbox([find_order])
    msg, ok = await box.call(
        ToolCall(id="1", name="find_order", arguments={"order_id": "#W1"}), db="conn"
    )
    assert ok and '"db": "conn"' in msg.content and msg.tool_call_id == "1"
    msg, ok = await box.call(ToolCall(id="2", name="find_ordr", arguments={}), db=None)
    assert not ok and "unknown tool 'find_ordr'. Did you mean find_order?" in msg.content


def test_parse_native_calls_first():
    a = Action(content="x", tool_calls=[ToolCall(id="a", name="f", arguments={})])
    assert parse_tool_calls(a).calls[0].id == "a"


def test_parse_hermes_blocks():
    text = (
        'Let me look.\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>\n'
        '<tool_call>{"name": "g", "arguments": "{\\"y\\": 2}"}</tool_call>'
    )
    parsed = parse_tool_calls(Action(content=text))
    assert [(c.name, c.arguments) for c in parsed.calls] == [("f", {"x": 1}), ("g", {"y": 2})]
    assert parsed.text == "Let me look." and not parsed.problems


def test_parse_unclosed_hermes_block_from_a_truncated_generation():
    parsed = parse_tool_calls(Action(content='<tool_call>{"name": "f", "arguments": {}}'))
    assert parsed.calls[0].name == "f"


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "f", "arguments": {"x": 1}}',
        '```json\n{"name": "f", "arguments": {"x": 1}}\n```',
        '{"function": {"name": "f", "arguments": "{\\"x\\": 1}"}}',
    ],
)
def test_parse_json_text(text):
    parsed = parse_tool_calls(Action(content=text))
    assert (
        parsed.calls[0].name == "f"
        and parsed.calls[0].arguments == {"x": 1}
        and parsed.text is None
    )


@pytest.mark.parametrize(
    "text,problem",
    [
        ("<tool_call>{oops</tool_call>", "could not read <tool_call> block 1"),
        ('<tool_call>{"arguments": {}}</tool_call>', 'needs a "name"'),
        (
            '<tool_call>{"name": "f", "arguments": [1]}</tool_call>',
            '"arguments" must be a JSON object',
        ),
        ('{"name": "f", "arguments": ', "could not read the tool call"),
    ],
)
def test_malformed_calls_become_problems(text, problem):
    parsed = parse_tool_calls(Action(content=text))
    assert not parsed.calls and problem in parsed.problems[0]


def test_plain_text_is_not_a_call():
    parsed = parse_tool_calls(Action(content="Your order {name} is on its way."))
    assert not parsed.calls and not parsed.problems
