"""The object-state verifier and the result check, on plain Python objects."""

from dataclasses import dataclass, field

from agentgym.verifiers.object_state import ObjectStateVerifier, public_state, results_check


@dataclass
class Item:
    name: str
    qty: int = 1


@dataclass
class Cart:
    items: list[Item] = field(default_factory=list)
    owner: str = "ana"
    _cache: dict = field(default_factory=dict)  # private: never compared

    def total(self):  # methods are not state
        return sum(i.qty for i in self.items)


def test_equal_states_score_one_and_private_attributes_are_ignored():
    gold = Cart([Item("milk", 2)], _cache={"x": 1})
    agent = Cart([Item("milk", 2)], _cache={"y": 2})
    reward = ObjectStateVerifier(gold).score_episode(agent)
    assert reward.value == 1.0 and reward.source == "object_state"
    assert public_state(gold) == {"items": [{"name": "milk", "qty": 2}], "owner": "ana"}


def test_differences_are_named_by_path():
    gold = Cart([Item("milk", 2), Item("eggs")])
    agent = Cart([Item("milk", 1)], owner="bob")
    reward = ObjectStateVerifier(gold).score_episode(agent)
    assert reward.value == 0.0 and reward.components["differences"] == 3
    assert "items[0].qty: 1 (agent) vs 2 (reference)" in reward.explanation
    assert "items[1]: '<missing>' (agent)" in reward.explanation
    assert "owner: 'bob' (agent) vs 'ana' (reference)" in reward.explanation


def test_ignored_paths_and_types_matter():
    gold = {"id": 1, "n": 1, "flag": True}
    assert ObjectStateVerifier(gold, ignore=["id"]).score_episode({"id": 9, "n": 1.0, "flag": True}).value == 1.0
    assert ObjectStateVerifier(gold).score_episode({"id": 1, "n": 1, "flag": 1}).value == 0.0  # True is not 1
    assert ObjectStateVerifier(gold).score_episode({"id": 1, "n": "1", "flag": True}).value == 0.0


def test_a_do_everything_agent_does_not_match():
    gold = Cart([Item("milk")])
    greedy = Cart([Item("milk"), Item("eggs"), Item("bread")])
    assert ObjectStateVerifier(gold).score_episode(greedy).value == 0.0


def test_results_check_needs_every_reference_result_once():
    reference = [{"balance": 10}, {"balance": 10}, "ok"]
    assert results_check(reference, ["ok", {"balance": 10}, {"balance": 10}, "extra"]).value == 1.0
    missing = results_check(reference, ["ok", {"balance": 10}])
    assert missing.value == 0.0 and missing.components["missing"] == 1
    assert "{'balance': 10}" in missing.explanation
