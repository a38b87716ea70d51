"""Tools from a JSON schema and a callable: the schema is shown to the agent and checked."""

import copy

import pytest

from agentgym.core.types import ToolCall
from agentgym.tools import Tool, Toolbox, ToolCallError

PARAMETERS = {
    "type": "object",
    "properties": {
        "user_id": {"type": "string", "description": "Such as u12.", "pattern": r"^u\d+$"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        "status": {"type": ["string", "null"], "enum": ["pending", "delivered", None]},
        "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 3},
        "price": {"type": "number", "exclusiveMinimum": 0},
        "address": {
            "type": "object",
            "properties": {"zip": {"type": "string", "maxLength": 5}},
            "required": ["zip"],
        },
        "gift": {"type": "boolean", "nullable": True},
    },
    "required": ["user_id"],
}
SCHEMA = {
    "type": "function",
    "function": {
        "name": "find_orders",
        "description": "Find a user's orders.",
        "parameters": PARAMETERS,
    },
}


def find_orders(user_id, limit=3, status=None, tags=(), price=None, address=None, gift=None):
    """Not shown: the schema has its own description."""
    return {
        "user_id": user_id,
        "limit": limit,
        "status": status,
        "tags": list(tags),
        "price": price,
        "address": address,
        "gift": gift,
    }


FIND = Tool.from_schema(SCHEMA, find_orders)


def test_the_agent_sees_the_schema_as_given():
    spec = FIND.spec
    assert (spec.name, spec.description) == ("find_orders", "Find a user's orders.")
    assert spec.parameters == PARAMETERS
    assert spec.to_openai() == SCHEMA


def test_valid_arguments_pass_with_the_schema_defaults_filled_in():
    # the agent was told limit defaults to 10; the function's own default (3) is not what it saw
    assert FIND.validate({"user_id": "u1"}) == {"user_id": "u1", "limit": 10}
    args = {
        "user_id": "u1",
        "limit": 50,
        "status": None,
        "tags": ["a"],
        "price": 0.5,
        "address": {"zip": "12345"},
        "gift": None,
    }
    assert FIND.validate(copy.deepcopy(args)) == args


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({}, "user_id: Field required"),
        ({"user_id": "x1"}, r"user_id: String should match pattern '^u\d+$'"),
        ({"user_id": "u1", "limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"user_id": "u1", "limit": 51}, "limit: Input should be less than or equal to 50"),
        ({"user_id": "u1", "limit": "3"}, "limit: Input should be a valid integer"),
        ({"user_id": "u1", "limit": True}, "limit: Input should be a valid integer"),
        ({"user_id": "u1", "limit": 2.0}, "limit: Input should be a valid integer"),
        (
            {"user_id": "u1", "status": "lost"},
            "status: Input should be 'pending', 'delivered' or null",
        ),
        (
            {"user_id": "u1", "tags": ["a", ""]},
            "tags.1: String should have at least 1 character, not 0",
        ),
        ({"user_id": "u1", "tags": list("abcd")}, "tags: List should have at most 3 items, not 4"),
        ({"user_id": "u1", "tags": "a"}, "tags: Input should be a valid list"),
        ({"user_id": "u1", "price": 0}, "price: Input should be greater than 0"),
        ({"user_id": "u1", "address": {}}, "address.zip: Field required"),
        (
            {"user_id": "u1", "address": {"zip": "123456"}},
            "address.zip: String should have at most 5 characters, not 6",
        ),
        ({"user_id": "u1", "color": "red"}, "color: Extra inputs are not permitted"),
        ({"user_id": "u1", "gift": "yes"}, "gift: Input should be a valid boolean"),
        ({"user_id": 12}, "user_id: Input should be a valid string"),
    ],
)
def test_bad_arguments_say_what_is_wrong(arguments, message):
    with pytest.raises(ToolCallError) as e:
        FIND.validate(arguments)
    assert str(e.value).startswith("invalid arguments for find_orders: ")
    assert message in str(e.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ToolCallError) as e:
        FIND.validate({"limit": "x", "color": 1})
    text = str(e.value)
    assert "limit: Input should be a valid integer" in text and "color: Extra inputs" in text
    assert "user_id: Field required" in text


def test_lax_mode_coerces_only_what_reads_one_way():
    lax = FIND.with_validation("lax")
    got = lax.validate(
        {"user_id": "u1", "limit": "5", "price": "2.5", "gift": "true", "tags": '["a"]'}
    )
    assert got == {"user_id": "u1", "limit": 5, "price": 2.5, "gift": True, "tags": ["a"]}
    assert lax.validate({"user_id": "u1", "limit": 7.0})["limit"] == 7
    for bad, message in [
        ("five", "valid integer"),
        ("0", "greater than or equal to 1"),
        ("2.5", "valid integer"),
    ]:
        with pytest.raises(ToolCallError, match=message):
            lax.validate({"user_id": "u1", "limit": bad})
    with pytest.raises(ToolCallError, match="color: Extra inputs"):  # lax is about types, not names
        lax.validate({"user_id": "u1", "color": "red"})


def test_lax_numbers_become_strings_and_enum_members_match_by_value():
    tool = Tool.from_schema(
        {"type": "object", "properties": {"zip": {"type": "string"}, "level": {"enum": [1, 2, 3]}}},
        lambda zip=None, level=None: zip,
        name="t",
        validate="lax",
    )
    assert tool.validate({"zip": 12345, "level": "2"}) == {"zip": "12345", "level": 2}


def test_an_exact_match_of_a_union_beats_a_coerced_one():
    tool = Tool.from_schema(
        {
            "type": "object",
            "properties": {"x": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
        },
        lambda x: x,
        name="t",
        validate="lax",
    )
    assert tool.validate({"x": "3"}) == {"x": "3"} and tool.validate({"x": 3}) == {"x": 3}
    with pytest.raises(ToolCallError) as e:
        tool.validate({"x": [3]})
    assert (
        "x: Input should match one of the allowed shapes (Input should be a valid integer; "
        "Input should be a valid string)" in str(e.value)
    )
    optional = Tool.from_schema(
        {
            "type": "object",
            "properties": {"n": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}},
        },
        lambda n=None: n,
        name="t",
    )
    with pytest.raises(ToolCallError, match="n: Input should be greater than or equal to 1$"):
        optional.validate({"n": 0})


def test_validate_false_passes_arguments_as_given_but_the_call_must_fit_the_function():
    raw = FIND.with_validation(False)
    assert raw.validate({"user_id": 5, "limit": "x"}) == {"user_id": 5, "limit": "x"}
    with pytest.raises(ToolCallError, match="unexpected keyword argument 'color'"):
        raw.validate({"user_id": "u1", "color": "red"})
    with pytest.raises(ToolCallError, match="missing a required argument: 'user_id'"):
        raw.validate({})


def test_a_parameters_schema_alone_takes_name_and_description_from_the_function():
    def lookup(sku: str) -> str:
        """Look up a product by SKU."""
        return sku

    tool = Tool.from_schema({"type": "object", "properties": {"sku": {"type": "string"}}}, lookup)
    assert (tool.spec.name, tool.spec.description) == ("lookup", "Look up a product by SKU.")
    named = Tool.from_schema(
        {"properties": {"sku": {"type": "string"}}},
        lookup,
        name="sku_info",
        description="Product info.",
    )
    assert (named.name, named.description, named.parameters["type"]) == (
        "sku_info",
        "Product info.",
        "object",
    )


def test_benchmark_type_names_become_json_schema_ones():
    doc = {
        "name": "convert",
        "description": "Convert.",
        "parameters": {
            "type": "dict",
            "properties": {"amount": {"type": "float"}, "unit": {"type": "any"}},
            "required": ["amount", "unit"],
        },
    }
    tool = Tool.from_schema(doc, lambda amount, unit: amount)
    assert tool.parameters["type"] == "object"
    assert tool.parameters["properties"] == {"amount": {"type": "number"}, "unit": {}}
    assert tool.validate({"amount": 2, "unit": ["anything"]}) == {"amount": 2, "unit": ["anything"]}
    assert doc["parameters"]["type"] == "dict"  # the caller's doc is left alone


def test_refs_and_definitions_are_followed():
    schema = {
        "type": "object",
        "$defs": {
            "Item": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                "required": ["sku"],
            }
        },
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "uniqueItems": True}
        },
    }
    tool = Tool.from_schema(schema, lambda items: items, name="order")
    assert tool.validate({"items": [{"sku": "a", "qty": 2}]}) == {"items": [{"sku": "a", "qty": 2}]}
    with pytest.raises(
        ToolCallError, match="items.0.qty: Input should be greater than or equal to 1"
    ):
        tool.validate({"items": [{"sku": "a", "qty": 0}]})
    with pytest.raises(ToolCallError, match="items: List items should be unique"):
        tool.validate({"items": [{"sku": "a"}, {"sku": "a"}]})


def f_ab(a, b=1):
    return a


@pytest.mark.parametrize(
    "schema,fn,message",
    [
        (
            {"type": "object", "properties": {"a": {"type": "strng"}}},
            f_ab,
            "parameters.a.type: unknown type 'strng'",
        ),
        (
            {"type": "object", "properties": {"a": {}}, "required": ["a", "c"]},
            f_ab,
            "required: c not in properties",
        ),
        (
            {"type": "object", "properties": {"a": {"pattern": "("}}},
            f_ab,
            "'(' is not a regular expression",
        ),
        (
            {"type": "object", "properties": {"a": {"not": {"type": "string"}}}},
            f_ab,
            "not is not supported",
        ),
        (
            {"type": "object", "properties": {"a": {"minimum": "1"}}},
            f_ab,
            "minimum: must be a number",
        ),
        (
            {"type": "object", "properties": {"a": {"maxLength": -1}}},
            f_ab,
            "maxLength: must be a whole number",
        ),
        (
            {"type": "object", "properties": {"a": {"enum": []}}},
            f_ab,
            "enum: must be a non-empty list",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}},
            f_ab,
            "points at nothing",
        ),
        (
            {"type": "object", "properties": {"a": {"$ref": "http://x/y.json"}}},
            f_ab,
            "only local $refs",
        ),
        ({"type": "string"}, f_ab, "must be an object schema, not type 'string'"),
        ({"type": "object", "properties": []}, f_ab, "properties: must be an object"),
        (
            {"type": "object", "properties": {"a": {}, "color": {}}},
            f_ab,
            "the schema has color, which f_ab(a, b=1) does not take",
        ),
        (
            {"type": "object", "properties": {"b": {}}},
            f_ab,
            "f_ab(a, b=1) needs a, which the schema does not declare",
        ),
        (
            {"name": "get user", "parameters": {"type": "object", "properties": {"a": {}}}},
            f_ab,
            "tool name 'get user'",
        ),
        ([], f_ab, "a tool schema must be a dict"),
        ({"type": "object", "properties": {"a": {}}}, "not callable", "is not callable"),
    ],
)
def test_bad_schemas_are_refused_when_the_tool_is_built(schema, fn, message):
    with pytest.raises(TypeError) as e:
        Tool.from_schema(schema, fn, name=None if "name" in schema else "t")
    assert message in str(e.value)


def test_bad_validation_mode_is_refused():
    with pytest.raises(TypeError, match='validate must be "strict", "lax" or False'):
        Tool.from_schema(PARAMETERS, find_orders, name="t", validate="loose")


async def test_async_and_sync_callables_run_through_the_toolbox():
    async def slow_echo(text: str) -> str:
        return text * 2

    box = Toolbox(
        [
            Tool.from_schema(
                {"type": "object", "properties": {"text": {"type": "string"}}}, slow_echo
            ),
            FIND,
        ]
    )
    msg, ok = await box.call(ToolCall(id="1", name="slow_echo", arguments={"text": "ab"}))
    assert ok and msg.content == "abab"
    msg, ok = await box.call(ToolCall(id="2", name="find_orders", arguments={"user_id": "u1"}))
    assert ok and '"limit": 10' in msg.content
    msg, ok = await box.call(ToolCall(id="3", name="find_orders", arguments={"user_id": 1}))
    assert (
        not ok
        and msg.content
        == "Error: invalid arguments for find_orders: user_id: Input should be a valid string"
    )


@pytest.mark.parametrize("validate", ["strict", "lax", False])
async def test_the_agent_cannot_set_env_bound_values(validate):
    """Attack: name the env's keyword-only parameter (the db, the session) as an argument."""
    calls = []

    def refund(order_id: str, *, session: dict) -> str:
        calls.append(session)
        return "refunded"

    schema = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "additionalProperties": True,
    }
    box = Toolbox([Tool.from_schema(schema, refund, validate=validate)])
    forged = {"order_id": "#1", "session": {"user": "admin"}}
    msg, ok = await box.call(
        ToolCall(id="1", name="refund", arguments=forged), session={"user": "ann"}
    )
    assert not ok and "session: Extra inputs are not permitted" in msg.content and calls == []
    msg, ok = await box.call(
        ToolCall(id="2", name="refund", arguments={"order_id": "#1"}), session={"user": "ann"}
    )
    assert ok and calls == [{"user": "ann"}]
