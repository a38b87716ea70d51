"""`agentgym compare`: paired differences, bootstrap CI and exact McNemar on real eval folders."""

from __future__ import annotations

import json
import math

import pytest

from agentgym.evaluation.compare import mcnemar_exact
from tests.evaluation.runs import TOKEN_IDS, invoke, make_run, mixed, overshooter, solver
from tests.fakes.openai_server import error


def test_exact_mcnemar_is_the_two_sided_binomial_tail():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 2**6)  # the smallest count under 0.05
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 2**5) and mcnemar_exact(0, 5) > 0.05
    assert mcnemar_exact(1, 9) == mcnemar_exact(9, 1) == pytest.approx(2 * (1 + 10) / 2**10)
    assert mcnemar_exact(5, 5) == 1.0
    b, c = 3, 12
    assert mcnemar_exact(b, c) == pytest.approx(2 * sum(math.comb(15, i) for i in range(4)) / 2**15)


def compare_json(a, b) -> dict:
    result = invoke("compare", a, b, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_real_difference_is_called_real_and_no_difference_is_not(openai_env, tmp_path):
    good = make_run(openai_env, tmp_path / "good", solver, "-n", 5, "-k", 2)
    bad = make_run(openai_env, tmp_path / "bad", overshooter, "-n", 5, "-k", 2)
    again = make_run(openai_env, tmp_path / "again", solver, "-n", 5, "-k", 2)

    worse = compare_json(good, bad)
    assert (worse["success_a"], worse["success_b"], worse["diff"]) == (1.0, 0.0, -1.0)
    assert worse["pairs"] == 10 and (worse["a_only_wins"], worse["b_only_wins"]) == (10, 0)
    assert worse["mcnemar_p"] == pytest.approx(2 / 2**10) and worse["ci95"] == [-1.0, -1.0]
    assert worse["significant"] and worse["verdict"].startswith("A is better")
    assert "the difference is real at 95%" in worse["verdict"]
    assert [t["diff"] for t in worse["tasks"]] == [-1.0] * 5

    better = compare_json(bad, good)
    assert better["significant"] and better["verdict"].startswith("B is better")

    same = compare_json(good, again)
    assert not same["significant"] and same["diff"] == 0.0 and same["mcnemar_p"] == 1.0
    assert "at 95% the difference is not shown to be real" in same["verdict"]

    table = invoke("compare", good, bad)
    assert table.exit_code == 0
    assert "reach-3" in table.output and "only A succeeded: 10" in table.output
    assert "real at 95%" in " ".join(table.output.split())


def test_a_small_difference_on_partly_shared_tasks_is_not_called_real(openai_env, tmp_path):
    good = make_run(openai_env, tmp_path / "good", solver, "-n", 5, "-k", 2)
    # mixed: reach-4 fails, reach-5 is an infra error (left out), the rest succeed
    mostly = make_run(openai_env, tmp_path / "mostly", mixed, "-n", 5, "-k", 2)
    result = compare_json(good, mostly)
    assert [t["task_id"] for t in result["tasks"]] == ["reach-1", "reach-2", "reach-3", "reach-4"]
    assert result["pairs"] == 8 and result["a_only_wins"] == 2 and result["b_only_wins"] == 0
    assert result["mcnemar_p"] == pytest.approx(0.5) and not result["significant"]
    assert result["diff"] == pytest.approx(-0.25)
    assert result["ci95"][0] < 0 <= result["ci95"][1]
    assert "1 task(s) only in A" in " ".join(result["notes"])


def test_bad_input_gets_one_line_and_exit_2(openai_env, tmp_path):
    counter = make_run(openai_env, tmp_path / "counter", solver, "-n", 2)
    retail = tmp_path / "retail"
    assert (
        invoke("eval", "tooluse/Retail-v0", "-p", "oracle", "-n", 1, "--out", retail).exit_code == 0
    )
    openai_env.responder = lambda request: error(400, "refused")
    down = tmp_path / "down"  # every episode an infra error: nothing scored to compare
    assert (
        invoke(
            "eval",
            "test/Counter-v0",
            "-p",
            "openai:fake-model",
            "--policy-arg",
            TOKEN_IDS,
            "-n",
            2,
            "--out",
            down,
        ).exit_code
        == 3
    )
    cases = [
        ([counter, retail], "different envs"),
        ([counter, tmp_path / "missing"], "no such run folder"),
        ([counter, down], "no scored task in common"),
    ]
    for args, message in cases:
        result = invoke("compare", *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
