"""Procedural generation on a real (small, local) project, and the `agentgym tasks` commands."""

import ast
import json
import random

import pytest
from typer.testing import CliRunner

from agentgym.environments.swe.build import TaskSetupError
from agentgym.environments.swe.cli import tasks_app
from agentgym.environments.swe.diffs import apply_file_patch, parse_patch
from agentgym.environments.swe.generate import generate_tasks, is_test_file, source_files
from agentgym.environments.swe.mutate import KINDS, apply_mutations, find_sites, pick_combination
from agentgym.environments.swe.schema import dump_tasks, load_tasks
from tests.environments.swe.helpers import F2P, LIBRARY, P2P, sample_project, sample_task

runner = CliRunner()


def test_every_mutation_kind_is_found_and_keeps_the_code_valid():
    sites = find_sites("minicalc/__init__.py", LIBRARY)
    assert {s.kind for s in sites} == set(KINDS) - {"swap_args"}
    for site in sites:
        mutated = apply_mutations(LIBRARY, [site])
        ast.parse(mutated)
        assert mutated != LIBRARY
    swaps = find_sites("m.py", "def f(a, b):\n    return divmod(a, b)\n")
    assert any(s.kind == "swap_args" and "divmod(b, a)" in apply_mutations("def f(a, b):\n    return divmod(a, b)\n", [s])
               for s in swaps)


def test_operator_swaps_keep_the_rest_of_the_expression_as_written():
    source = 'def f(s):\n    return s == r"\\d" and (len(s)  > 2)\n'
    texts = {apply_mutations(source, [s]).splitlines()[1] for s in find_sites("m.py", source)}
    assert '    return s != r"\\d" and (len(s)  > 2)' in texts
    assert '    return s == r"\\d" or (len(s)  > 2)' in texts
    assert '    return s == r"\\d" and (len(s)  >= 2)' in texts


def test_higher_difficulty_spreads_mutations_over_functions():
    sites = find_sites("minicalc/__init__.py", LIBRARY)
    rng = random.Random(1)
    assert len(pick_combination(sites, 1, rng)) == 1
    two = []
    while not two:  # a draw in a one-line function has no second site: it comes back empty
        two = pick_combination(sites, 2, rng)
    assert len(two) == 2 and two[0].function == two[1].function
    three = pick_combination(sites, 4, rng)
    assert len(three) == 3 and len({m.function for m in three}) == 3


def test_test_files_are_told_apart_from_library_code():
    assert is_test_file("tests/test_x.py") and is_test_file("pkg/tests/helpers.py") and is_test_file("conftest.py")
    assert not is_test_file("pkg/core.py")
    assert source_files(sample_project()) == ["minicalc/__init__.py"]


def test_generated_tasks_are_caught_by_some_tests_and_reversible(tmp_path):
    tasks = generate_tasks(f"local:{sample_project()}", n=3, difficulty=1, seed=3)
    assert len(tasks) == 3 and len({t.id for t in tasks}) == 3
    every_test = set(F2P + P2P)
    for task in tasks:
        data = task.data
        assert data.FAIL_TO_PASS and set(data.FAIL_TO_PASS) | set(data.PASS_TO_PASS) == every_test
        assert not set(data.FAIL_TO_PASS) & set(data.PASS_TO_PASS)
        assert data.FAIL_TO_PASS[0] in task.prompt and "Output of the failing tests" in task.prompt
        [bug] = parse_patch(data.base_patch)
        [fix] = parse_patch(data.patch)
        assert apply_file_patch(apply_file_patch(LIBRARY, bug), fix) == LIBRARY
        assert data.mutations and data.environment.local_dir
    (tmp_path / "gen.jsonl").write_text(dump_tasks(tasks))
    assert [t.id for t in load_tasks(tmp_path / "gen.jsonl")] == [t.id for t in tasks]


def test_bad_sources_name_the_source_and_the_step(tmp_path):
    with pytest.raises(TaskSetupError, match=r"local:/nonexistent.*'read source'"):
        generate_tasks("local:/nonexistent")
    with pytest.raises(TaskSetupError, match="'read source'"):
        generate_tasks("pypi:toolz")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mod.py").write_text("def f():\n    return 1\n")
    with pytest.raises(TaskSetupError, match="'find tests'"):
        generate_tasks(f"local:{tmp_path / 'lib'}")


def test_cli_generate_then_validate(tmp_path):
    out = tmp_path / "gen.jsonl"
    result = runner.invoke(tasks_app, ["generate", "swe", "--source", f"local:{sample_project()}",
                                       "--n", "1", "--seed", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 1 task(s)" in result.output
    result = runner.invoke(tasks_app, ["validate", str(out)])
    assert result.exit_code == 0 and "1 task(s) match the schema" in result.output
    wrong = runner.invoke(tasks_app, ["generate", "web", "--source", "pypi:x==1", "--out", str(out)])
    assert wrong.exit_code == 2


def test_cli_validate_reports_bad_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    line = json.loads(dump_tasks([sample_task()]))
    line["FAIL_TO_PASS"] = "[]"
    path.write_text(json.dumps(line) + "\n")
    result = runner.invoke(tasks_app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output and "FAIL_TO_PASS" in result.output


def test_cli_generate_rewrites_statements_through_a_policy(tmp_path, openai_env):
    openai_env.push("clamp() gives the low bound back when the value is above the high bound.")
    out = tmp_path / "rewritten.jsonl"
    result = runner.invoke(tasks_app, ["generate", "swe", "--source", f"local:{sample_project()}", "--n", "1",
                                       "--seed", "5", "--out", str(out), "--rewrite-policy", "openai:test-model"])
    assert result.exit_code == 0, result.output
    [task] = load_tasks(out)
    assert task.prompt == task.data.problem_statement
    assert task.prompt.startswith("clamp() gives the low bound back")
    assert "failing tests" in openai_env.requests[0]["messages"][0]["content"]
