import json

import pytest

from agentgym.core.errors import TaskFileError
from agentgym.environments.swe.diffs import PatchError, apply_file_patch, make_patch, parse_patch
from agentgym.environments.swe.schema import dump_tasks, load_tasks
from tests.environments.swe.helpers import BUGGY, LIBRARY, sample_task


def _instance(**changes) -> dict:
    """A SWE-bench-shaped line as SWE-bench files have it (lists JSON-encoded)."""
    line = {
        "instance_id": "demo__demo-1", "repo": "demo/demo", "base_commit": "abc123",
        "problem_statement": "It breaks.", "hints_text": "", "created_at": "2024-01-01", "version": "1.0",
        "patch": make_patch("demo.py", "a = 1\n", "a = 2\n"), "test_patch": "",
        "FAIL_TO_PASS": json.dumps(["tests/test_demo.py::test_a"]),
        "PASS_TO_PASS": json.dumps([]),
        "environment": {"git": "https://example.invalid/demo.git", "commit": "abc123"},
    }
    line.update(changes)
    return line


def _write(tmp_path, *lines) -> str:
    path = tmp_path / "tasks.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return str(path)


def test_shipped_tasks_load_and_cover_four_projects():
    tasks = load_tasks()
    assert len(tasks) >= 60
    projects = {t.data.environment.pypi_sdist for t in tasks}
    assert len(projects) >= 4 and all("==" in p for p in projects)
    for task in tasks:
        assert task.family == "swe" and task.prompt == task.data.problem_statement
        assert task.data.FAIL_TO_PASS and task.reference
        assert not set(task.data.FAIL_TO_PASS) & set(task.data.PASS_TO_PASS)


def test_swe_bench_line_with_json_encoded_lists_loads_as_is(tmp_path):
    [task] = load_tasks(_write(tmp_path, _instance()))
    assert task.id == "demo__demo-1"
    assert task.data.FAIL_TO_PASS == ["tests/test_demo.py::test_a"]
    assert task.data.PASS_TO_PASS == []
    assert task.data.environment.git.endswith("demo.git")


def test_round_trip_through_dump(tmp_path):
    task = sample_task()
    path = tmp_path / "t.jsonl"
    path.write_text(dump_tasks([task]))
    [again] = load_tasks(path)
    assert again.data == task.data


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"FAIL_TO_PASS": "[not json"}, "FAIL_TO_PASS"),
        ({"FAIL_TO_PASS": "[]"}, "FAIL_TO_PASS"),
        ({"patch": "no diff here"}, "patch"),
        ({"environment": {"git": "x"}}, "environment"),
        ({"environment": {"pypi_sdist": "toolz"}}, "environment"),
        ({"environment": {"pypi_sdist": "a==1", "local_dir": "/x"}}, "environment"),
        ({"problem_statement": None}, "problem_statement"),
    ],
)
def test_bad_line_names_line_and_field(tmp_path, bad, field):
    path = _write(tmp_path, _instance(instance_id="ok"), _instance(**bad))
    with pytest.raises(TaskFileError) as err:
        load_tasks(path)
    assert ":2:" in str(err.value) and field in str(err.value)


def test_not_json_duplicates_and_empty_files(tmp_path):
    with pytest.raises(TaskFileError, match=r":1: not valid JSON"):
        load_tasks(_write(tmp_path, "{oops"))
    with pytest.raises(TaskFileError, match=r":2: duplicate task id"):
        load_tasks(_write(tmp_path, _instance(), _instance()))
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(TaskFileError, match="no tasks"):
        load_tasks(tmp_path / "empty.jsonl")


def test_reference_is_made_from_the_patch():
    task = sample_task()
    edits, submit = task.reference
    [call] = edits.tool_calls
    assert call.name == "str_replace_editor" and call.arguments["command"] == "str_replace"
    assert BUGGY.replace(call.arguments["old_str"], call.arguments["new_str"]) == LIBRARY
    assert submit.tool_calls[0].name == "submit"


def test_patches_apply_strictly():
    [fp] = parse_patch(make_patch("m.py", LIBRARY, BUGGY))
    assert apply_file_patch(LIBRARY, fp) == BUGGY
    with pytest.raises(PatchError, match="hunk 1"):
        apply_file_patch("something else\n", fp)
    with pytest.raises(PatchError, match="not a well-formed unified diff"):
        parse_patch("@@ -1 +1 @@\n-a\n+b\n")
    new = parse_patch(make_patch("n.py", "", "x = 1\n").replace("--- a/n.py", "--- /dev/null"))[0]
    assert new.is_new and apply_file_patch(None, new) == "x = 1\n"


def test_swe_bench_rows_load_as_they_are_with_their_own_fields_kept(tmp_path):
    row = _instance(environment_setup_commit="def456", created_at="2023-05-01T00:00:00Z", version="4.2",
                    image_name="sweb.eval.x86_64.demo", difficulty=3)
    (task,) = load_tasks(_write(tmp_path, row))
    assert task.data.metadata == {"environment_setup_commit": "def456", "created_at": "2023-05-01T00:00:00Z",
                                  "version": "4.2", "image_name": "sweb.eval.x86_64.demo"}
    assert task.difficulty == 3
    (again,) = load_tasks(_write(tmp_path, json.loads(dump_tasks([task]))))  # and round-trip
    assert again.data.metadata == task.data.metadata


def test_every_rejected_field_is_named(tmp_path):
    with pytest.raises(TaskFileError) as caught:
        load_tasks(_write(tmp_path, _instance(surprise=1, another_one=2, third=3, fourth=4)))
    message = str(caught.value)
    assert all(name in message for name in ("surprise", "another_one", "third", "fourth"))
    assert "more" not in message


def test_a_sha256_pin_belongs_to_an_sdist():
    from agentgym.environments.swe.schema import EnvironmentSpec

    with pytest.raises(ValueError, match="needs pypi_sdist"):
        EnvironmentSpec(local_dir="/tmp", sha256="0" * 64)
    with pytest.raises(ValueError):
        EnvironmentSpec(pypi_sdist="toolz==0.12.1", sha256="not-a-hash")
    unpinned = EnvironmentSpec(pypi_sdist="toolz==0.12.1")
    assert EnvironmentSpec(pypi_sdist="toolz==0.12.1", sha256="0" * 64).key() != unpinned.key()
