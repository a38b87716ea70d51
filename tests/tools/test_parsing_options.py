"""The call parser's choices are the env's: text calls on or off, and which text forms count."""

import pytest

from agentgym.core.types import Action, ToolCall
from agentgym.tools import parse_tool_calls

TAGGED = 'Checking.\n<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>'
JSON_ONLY = '{"name": "f", "arguments": {"x": 1}}'


@pytest.mark.parametrize("text", [TAGGED, JSON_ONLY])
def test_without_text_calls_text_that_looks_like_a_call_stays_text(text):
    parsed = parse_tool_calls(Action(content=text), text_calls=False)
    assert parsed.calls == [] and parsed.problems == [] and parsed.text == text


def test_without_text_calls_native_calls_still_count():
    action = Action(content=TAGGED, tool_calls=[ToolCall(id="n1", name="g", arguments={})])
    parsed = parse_tool_calls(action, text_calls=False)
    assert [c.id for c in parsed.calls] == ["n1"] and parsed.text == TAGGED


def test_one_text_form_can_be_chosen():
    tags_only = parse_tool_calls(Action(content=JSON_ONLY), text_calls=("tags",))
    assert tags_only.calls == [] and tags_only.text == JSON_ONLY
    assert parse_tool_calls(Action(content=TAGGED), text_calls=("tags",)).calls[0].name == "f"
    json_only = parse_tool_calls(Action(content=TAGGED), text_calls=["json"])
    assert json_only.calls == [] and json_only.text == TAGGED
    assert parse_tool_calls(Action(content=JSON_ONLY), text_calls=["json"]).calls[0].arguments == {
        "x": 1
    }


@pytest.mark.parametrize("bad", ["tags", ("tags", "xml"), None])
def test_an_unknown_choice_is_refused(bad):
    with pytest.raises(ValueError, match="text_calls is True, False or a subset"):
        parse_tool_calls(Action(content="hi"), text_calls=bad)


def test_every_call_is_reported_in_order():
    text = "".join(
        f'<tool_call>{{"name": "t{i}", "arguments": {{"i": {i}}}}}</tool_call>' for i in range(4)
    )
    parsed = parse_tool_calls(Action(content=text))
    assert [(c.id, c.name, c.arguments) for c in parsed.calls] == [
        (f"call_{i}", f"t{i}", {"i": i}) for i in range(4)
    ]
    native = [ToolCall(id=f"n{i}", name="t", arguments={}) for i in range(3)]
    assert [c.id for c in parse_tool_calls(Action(tool_calls=native)).calls] == ["n0", "n1", "n2"]


@pytest.mark.parametrize(
    "answer",
    [
        '{"name": "Ann Lee", "age": 34}',
        '```json\n{"name": "Ann Lee", "email": "ann@example.com"}\n```',
    ],
)
def test_a_json_answer_with_a_name_field_is_not_a_call(answer):
    parsed = parse_tool_calls(Action(content=answer))
    assert parsed.calls == [] and parsed.problems == [] and parsed.text == answer
