"""The agent's tools, through the env, in a real bubblewrap sandbox."""

import pytest

from agentgym.environments.swe.env import SWEEnv
from tests.environments.swe.helpers import BUGGY, call, edit, sample_task

pytestmark = pytest.mark.bwrap


@pytest.fixture
async def env():
    env = SWEEnv([sample_task()], step_rewards=False, max_output_chars=2000)
    await env.reset()
    yield env
    await env.close()


async def answer(env, action) -> str:
    result = await env.step(action)
    return result.observation.messages[-1].content


async def test_view_with_ranges_and_directories(env):
    text = await answer(env, edit("view", "minicalc/__init__.py", view_range=[4, 6]))
    assert "     4\tdef clamp(value, low, high):" in text and "     7\t" not in text
    whole = await answer(env, edit("view", "/workspace/repo/minicalc/__init__.py"))
    assert "return low" in whole and whole.count("\n") > 20
    listing = await answer(env, edit("view", "."))
    assert "/workspace/repo/minicalc/__init__.py" in listing and "tests" in listing
    bad = await answer(env, edit("view", "minicalc/__init__.py", view_range=[40, 50]))
    assert bad.startswith("Error:") and "outside" in bad
    missing = await answer(env, edit("view", "nope.py"))
    assert missing.startswith("Error:") and "does not exist" in missing


async def test_str_replace_needs_a_unique_match_and_undo_restores(env):
    none = await answer(env, edit("str_replace", "minicalc/__init__.py", old_str="no such text", new_str="x"))
    assert none.startswith("Error:") and "not found" in none
    many = await answer(env, edit("str_replace", "minicalc/__init__.py", old_str="return low", new_str="x"))
    assert many.startswith("Error:") and "3 times" in many and "[7, 9, 28]" in many
    ok = await answer(env, edit("str_replace", "minicalc/__init__.py",
                                old_str="        return low\n    return value", new_str="        return high\n    return value"))
    assert ok.startswith("Edited") and "return high" in ok
    assert "return high" in await env.sandbox.read_file("repo/minicalc/__init__.py")
    await answer(env, edit("undo_edit", "minicalc/__init__.py"))
    assert await env.sandbox.read_file("repo/minicalc/__init__.py") == BUGGY
    nothing = await answer(env, edit("undo_edit", "minicalc/__init__.py"))
    assert "no edit" in nothing


async def test_create_insert_and_paths_outside_the_workspace(env):
    assert (await answer(env, edit("create", "notes/todo.txt", file_text="one\nthree\n"))).startswith("Created")
    again = await answer(env, edit("create", "notes/todo.txt", file_text="x"))
    assert "already exists" in again
    await answer(env, edit("insert", "notes/todo.txt", insert_line=1, new_str="two"))
    assert await env.sandbox.read_file("repo/notes/todo.txt") == "one\ntwo\nthree\n"
    bad_line = await answer(env, edit("insert", "notes/todo.txt", insert_line=99, new_str="x"))
    assert "outside" in bad_line
    await answer(env, edit("undo_edit", "notes/todo.txt"))
    await answer(env, edit("undo_edit", "notes/todo.txt"))
    assert "does not exist" in await answer(env, edit("view", "notes/todo.txt"))
    outside = await answer(env, edit("create", "../../etc/x", file_text="x"))
    assert "only files under /workspace" in outside


async def test_bash_keeps_cwd_times_out_and_bounds_output(env):
    out = await answer(env, call("bash", command="cd tests && export GREETING=hi"))
    assert "[exit code 0]" in out
    out = await answer(env, call("bash", command="pwd; echo $GREETING; python -m pytest -q 2>&1 | tail -1"))
    assert "/workspace/repo/tests" in out and "hi" in out and "1 failed, 10 passed" in out
    slow = await answer(env, call("bash", command="sleep 30", timeout=1))
    assert "timed out after 1s" in slow
    big = await answer(env, call("bash", command="seq 1 100000"))
    assert "output cut" in big and len(big) < 3000 and big.rstrip().endswith("[exit code 0]")
    bad = await answer(env, call("bash", command="echo", timeout=100000))
    assert bad.startswith("Error:") and "timeout" in bad


async def test_search_and_submit(env):
    found = await answer(env, call("search", pattern=r"def (clamp|mean)"))
    assert "minicalc/__init__.py:4:def clamp" in found and "2 match(es)" in found
    assert "No matches" in await answer(env, call("search", pattern="zzz_nothing"))
    capped = await answer(env, call("search", pattern="assert", max_matches=2))
    assert "more matches not shown" in capped
    unknown = await answer(env, call("grep", pattern="x"))
    assert "unknown tool" in unknown
    result = await env.step(call("submit"))
    assert result.terminated and result.info["outcome"]["value"] == 0.0
