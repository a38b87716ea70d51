"""The shipped retail tasks, their generator, and the loader's errors."""

import json
import os

import pytest

import agentgym
from agentgym.core.errors import TaskFileError
from agentgym.environments.tooluse import count_tasks, load_tasks, specs
from agentgym.environments.tooluse.taskgen import generate_tasks
from agentgym.environments.tooluse.tasks import OutputSpec, default_tasks_path, dump_tasks
from agentgym.verifiers import money_mentions, output_present
from agentgym.verifiers.answers import parse_amount

WRITE_KINDS = {"cancel", "order_address", "user_address", "modify_items", "return", "return_gift_card",
               "exchange", "cancel_and_user_address"}
REFUSAL_KINDS = {"refuse_cancel", "refuse_return", "refuse_exchange", "refuse_other_user"}


def test_shipped_file_is_what_the_generator_makes():
    assert default_tasks_path().read_text(encoding="utf-8") == dump_tasks(generate_tasks())


def test_shipped_tasks_cover_every_kind():
    tasks = load_tasks()
    assert len(tasks) >= 50 and count_tasks() == len(tasks)
    kinds = {t.data.kind for t in tasks}
    assert WRITE_KINDS | REFUSAL_KINDS <= kinds
    assert {"status", "total_paid", "gift_card_balance", "product_price"} <= kinds
    for task in tasks:
        assert task.family == "tooluse"
        assert task.reference and task.reference[-1].content and not task.reference[-1].tool_calls
        final = task.reference[-1].content
        for output in task.data.required_outputs:
            if isinstance(output, OutputSpec):
                assert any(o in final for o in output.any_of) and not any(o in final for o in output.not_with)
            else:
                assert output in final
        for amount in task.data.required_amounts:
            assert parse_amount(amount) in {m.value for m in money_mentions(final)}, task.id
        said = [a.content for a in task.reference if a.content]
        assert not [p for p in task.data.must_not_say if output_present(p, said)], task.id
        if task.data.kind in REFUSAL_KINDS:  # a refusal cannot also claim the action was done
            assert any(p.endswith("cancelled") or p.endswith("requested") for p in task.data.must_not_say)
        if task.data.kind in WRITE_KINDS:  # a request carried out cannot also be refused
            assert "not on your account" in task.data.must_not_say and "out of stock" in task.data.must_not_say
        assert task.id == f"retail-s{task.data.db_seed}-{task.id[-2:]}" and task.data.kind not in task.id


def test_registered_with_a_task_count():
    spec = next(s for s in specs() if s.id == "tooluse/Retail-v0")
    assert spec.count_tasks() == agentgym.spec("tooluse/Retail-v0").count_tasks() == count_tasks()


def write(tmp_path, text: str):
    path = tmp_path / "tasks.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def good_line() -> dict:
    return json.loads(default_tasks_path().read_text().splitlines()[0])


def test_env_loads_another_task_file(tmp_path):
    task = good_line()
    task["id"] = "mine"
    env = agentgym.make_async("tooluse/Retail-v0", tasks=write(tmp_path, json.dumps(task) + "\n"))
    assert list(env.tasks) == ["mine"]


def test_not_json(tmp_path):
    path = write(tmp_path, json.dumps(good_line()) + "\n{not json\n")
    with pytest.raises(TaskFileError, match=r"tasks.jsonl:2: not valid JSON") as err:
        load_tasks(path)
    assert err.value.line == 2


def test_missing_field(tmp_path):
    task = good_line()
    del task["data"]["db_seed"]
    with pytest.raises(TaskFileError, match=r":1: field data.db_seed: Field required"):
        load_tasks(write(tmp_path, json.dumps(task)))


def test_wrong_type(tmp_path):
    task = good_line()
    task["reference"] = "cancel it"
    with pytest.raises(TaskFileError, match=r":1: field reference: "):
        load_tasks(write(tmp_path, json.dumps(task)))


def test_bad_required_output(tmp_path):
    task = good_line()
    task["data"]["required_outputs"] = [{"any_of": [], "not_with": ["pending"]}]
    with pytest.raises(TaskFileError, match=r":1: field data.required_outputs.0"):
        load_tasks(write(tmp_path, json.dumps(task)))


def test_amounts_are_declared_as_amounts(tmp_path):
    task = good_line()
    task["data"]["required_amounts"] = ["forty"]
    with pytest.raises(TaskFileError, match=r":1: field data.required_amounts: .*not one dollar amount"):
        load_tasks(write(tmp_path, json.dumps(task)))
    task = good_line()  # a phrase holding an amount would escape the hedging rules for amounts
    task["data"]["required_outputs"] = ["a refund of $12.50"]
    with pytest.raises(TaskFileError, match=r":1: field data.required_outputs: .*put amounts in required_amounts"):
        load_tasks(write(tmp_path, json.dumps(task)))


def test_wrong_family_and_non_object(tmp_path):
    task = good_line()
    task["family"] = "web"
    with pytest.raises(TaskFileError, match=r":1: field family"):
        load_tasks(write(tmp_path, json.dumps(task)))
    with pytest.raises(TaskFileError, match=r":1: a task is a JSON object, not list"):
        load_tasks(write(tmp_path, "[1, 2]\n"))


def test_duplicate_ids(tmp_path):
    line = json.dumps(good_line())
    with pytest.raises(TaskFileError, match=r":3: duplicate task id .* \(first on line 1\)"):
        load_tasks(write(tmp_path, f"{line}\n\n{line}\n"))


def test_empty_file(tmp_path):
    with pytest.raises(TaskFileError, match="has no tasks"):
        load_tasks(write(tmp_path, "\n  \n"))


def test_unreadable_file(tmp_path):
    with pytest.raises(TaskFileError, match="cannot read"):
        load_tasks(tmp_path / "missing.jsonl")
    with pytest.raises(TaskFileError, match="cannot read"):
        load_tasks(tmp_path)  # a directory
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TaskFileError, match="cannot read"):
        load_tasks(binary)
    if os.geteuid() != 0:  # root reads anything
        locked = write(tmp_path, "{}")
        locked.chmod(0)
        with pytest.raises(TaskFileError, match="cannot read"):
            load_tasks(locked)
