"""Tools from an object's methods: from their signatures and docstrings, or from JSON docs."""

from typing import Annotated

import pytest
from pydantic import Field

from agentgym.core.types import ToolCall
from agentgym.tools import Tool, Toolbox


class Library:
    """An API class, as benchmarks ship them next to their tool docs."""

    def __init__(self) -> None:
        self.loans: list[tuple[str, int]] = []

    def borrow(self, title: str, weeks: Annotated[int, Field(ge=1, le=4)] = 2) -> str:
        """Borrow a book.

        Args:
            title: The book's title.
            weeks: For how long.
        """
        self.loans.append((title, weeks))
        return f"{title} is yours for {weeks} weeks"

    async def search(self, query: str) -> list[str]:
        """Search the catalogue.

        :param query: Words of the title.
        """
        return [t for t in ("Dune", "Emma") if query.lower() in t.lower()]

    def _audit(self) -> None:
        raise AssertionError("private methods are not tools")

    @property
    def busy(self) -> bool:
        raise AssertionError("binding must not evaluate properties")


DOCS = [
    {
        "name": "borrow",
        "description": "Borrow a book for some weeks.",
        "parameters": {
            "type": "dict",
            "properties": {
                "title": {"type": "string", "description": "The title."},
                "weeks": {
                    "type": "integer",
                    "description": "Weeks, 1 to 4.",
                    "minimum": 1,
                    "maximum": 4,
                },
            },
            "required": ["title"],
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
        },
    },
]


async def test_public_methods_become_tools_with_their_docstrings():
    lib = Library()
    box = Toolbox.bind(lib)
    assert list(box.tools) == ["borrow", "search"]
    borrow, search = box.specs
    assert borrow.description == "Borrow a book."
    assert borrow.parameters["properties"]["weeks"] == {
        "default": 2,
        "description": "For how long.",
        "maximum": 4,
        "minimum": 1,
        "type": "integer",
    }
    assert "self" not in borrow.parameters["properties"]
    assert search.parameters["properties"]["query"]["description"] == "Words of the title."
    msg, ok = await box.call(
        ToolCall(id="1", name="borrow", arguments={"title": "Dune", "weeks": 3})
    )
    assert ok and lib.loans == [("Dune", 3)]
    msg, ok = await box.call(ToolCall(id="2", name="search", arguments={"query": "em"}))
    assert ok and msg.content == '["Emma"]'
    msg, ok = await box.call(
        ToolCall(id="3", name="borrow", arguments={"title": "Emma", "weeks": 9})
    )
    assert (
        not ok
        and "weeks: Input should be less than or equal to 4" in msg.content
        and len(lib.loans) == 1
    )


async def test_each_instance_gets_its_own_calls():
    first, second = Library(), Library()
    box1, box2 = Toolbox.bind(first), Toolbox.bind(second)
    await box2.call(ToolCall(id="1", name="borrow", arguments={"title": "Emma"}))
    assert first.loans == [] and second.loans == [("Emma", 2)]
    # the second binding reuses the description built for the first, so a new episode is cheap
    assert box2.get("borrow").parameters is box1.get("borrow").parameters
    assert box2.specs[0] is box1.specs[0]


def test_methods_picks_some_and_a_missing_one_is_named():
    assert list(Toolbox.bind(Library(), methods=["search"]).tools) == ["search"]
    with pytest.raises(
        TypeError, match=r"Library has no method 'renew' \(its public methods: borrow, search\)"
    ):
        Toolbox.bind(Library(), methods=["renew"])
    with pytest.raises(TypeError, match="methods must be a list"):
        Toolbox.bind(Library(), methods="borrow")


def test_a_bound_method_alone_is_a_tool():
    tool = Tool.from_function(Library().borrow)
    assert tool.name == "borrow" and list(tool.parameters["properties"]) == ["title", "weeks"]


async def test_json_docs_describe_the_methods():
    lib = Library()
    box = Toolbox.bind(lib, docs=DOCS)
    borrow, search = box.specs
    assert (
        borrow.description == "Borrow a book for some weeks."
        and borrow.parameters["type"] == "object"
    )
    assert search.to_openai() == DOCS[1]
    # a benchmark's own ground truth passing a string where its docs say integer
    truth = ToolCall(id="1", name="borrow", arguments={"title": "Dune", "weeks": "2"})
    msg, ok = await box.call(truth)
    assert not ok and "weeks: Input should be a valid integer" in msg.content
    msg, ok = await Toolbox.bind(lib, docs=DOCS, validate="lax").call(truth)
    assert ok and lib.loans == [("Dune", 2)]
    msg, ok = await Toolbox.bind(lib, docs=DOCS, validate=False).call(truth)
    assert ok and lib.loans[-1] == ("Dune", "2")  # passed through as given


def test_docs_and_methods_together():
    box = Toolbox.bind(Library(), methods=["search"], docs=DOCS)
    assert list(box.tools) == ["search"]
    with pytest.raises(TypeError, match="no tool doc for renew"):
        Toolbox.bind(Library(), methods=["renew"], docs=DOCS)


@pytest.mark.parametrize(
    "docs,message",
    [
        (
            [{"name": "renew", "parameters": {"type": "object", "properties": {}}}],
            "Library has no method 'renew' (its public methods: borrow, search)",
        ),
        (
            [
                {
                    "name": "borrow",
                    "parameters": {"type": "object", "properties": {"title": {}, "color": {}}},
                }
            ],
            "tool borrow: the schema has color, which borrow(title: str, weeks:",
        ),
        (
            [{"name": "search", "parameters": {"type": "object", "properties": {}}}],
            "needs query, which the schema does not declare",
        ),
        ([DOCS[1], DOCS[1]], "two tool docs are named 'search'"),
        ([{"description": "no name"}], 'a tool doc needs a "name"'),
        (
            [
                {
                    "name": "search",
                    "parameters": {"type": "object", "properties": {"query": {"type": "text"}}},
                }
            ],
            "tool search: parameters.query.type: unknown type 'text'",
        ),
    ],
)
def test_docs_that_do_not_match_fail_when_the_toolbox_is_built(docs, message):
    with pytest.raises(TypeError) as e:
        Toolbox.bind(Library(), docs=docs)
    assert message in str(e.value)


def test_a_doc_naming_a_plain_attribute_is_refused():
    class WithShelf(Library):
        shelf = 3

    with pytest.raises(TypeError, match="WithShelf.shelf is not a method"):
        Toolbox.bind(WithShelf(), docs=[{"name": "shelf", "parameters": {"type": "object"}}])


def test_two_tools_of_one_name_are_refused():
    with pytest.raises(TypeError, match="two tools are named 'borrow'"):
        Toolbox([*Toolbox.bind(Library()), *Toolbox.bind(Library(), methods=["borrow"])])


async def test_an_instance_attribute_callable_is_not_confused_with_the_class_method():
    lib = Library()
    lib.search = lambda query: ["only this instance"]  # type: ignore[method-assign]
    box = Toolbox.bind(lib, docs=DOCS, methods=["search"])
    msg, ok = await box.call(ToolCall(id="1", name="search", arguments={"query": "x"}))
    assert ok and msg.content == '["only this instance"]'
    msg, ok = await Toolbox.bind(Library(), docs=DOCS, methods=["search"]).call(
        ToolCall(id="2", name="search", arguments={"query": "du"})
    )
    assert ok and msg.content == '["Dune"]'
