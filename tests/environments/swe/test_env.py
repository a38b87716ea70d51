"""The SWE env end to end in a real sandbox: rewards, fork, integrity of the verifier."""

import pytest
from gymnasium.utils.env_checker import check_env

import agentgym
from agentgym.core.types import Action, ToolCall
from agentgym.environments.swe.env import SWEEnv
from tests.environments.swe.helpers import F2P, call, edit, sample_task

pytestmark = pytest.mark.bwrap

FIX = dict(old_str="    if value > high:\n        return low", new_str="    if value > high:\n        return high")


@pytest.fixture
async def env():
    env = SWEEnv([sample_task()])
    await env.reset()
    yield env
    await env.close()


async def test_fix_earns_step_reward_once_and_outcome_one(env):
    looked = await env.step(call("bash", command="ls"))
    assert looked.reward.value == 0.0 and looked.reward.components["fail_to_pass"] == 0.0
    fixed = await env.step(edit("str_replace", "minicalc/__init__.py", **FIX))
    assert fixed.reward.value == 1.0 and fixed.reward.source == "swe_step"
    runs = env.verifier.runs
    again = await env.step(call("bash", command="ls -la"))  # same tree: cached, no test run
    assert again.reward.value == 0.0 and env.verifier.runs == runs
    undone = await env.step(edit("undo_edit", "minicalc/__init__.py"))
    assert undone.reward.value == -1.0
    redone = await env.step(edit("str_replace", "minicalc/__init__.py", **FIX))
    assert redone.reward.value == 1.0 and env.verifier.runs == runs  # both trees were seen: cached
    done = await env.step(call("submit"))
    assert done.terminated and done.info["outcome"]["value"] == 1.0
    assert "FAIL_TO_PASS 1/1 pass" in done.info["outcome"]["explanation"]


async def test_no_op_scores_zero_and_names_failed_tests(env):
    done = await env.step(call("submit"))
    outcome = done.info["outcome"]
    assert outcome["value"] == 0.0 and F2P[0] in outcome["explanation"]


async def test_breaking_other_tests_scores_zero(env):
    await env.step(edit("str_replace", "minicalc/__init__.py", **FIX))
    await env.step(edit("str_replace", "minicalc/__init__.py", old_str="return n % 2 == 0", new_str="return True"))
    reward = await env.score()
    assert reward.value == 0.0 and "test_is_even[3-False]" in reward.explanation
    assert reward.components["fail_to_pass"] == 1.0


async def test_edited_and_added_test_files_are_restored_before_scoring(env):
    # make the failing test pass by weakening it, and add a conftest that fakes every result
    await env.step(edit("str_replace", "tests/test_minicalc.py", old_str="assert clamp(50, 0, 10) == 10", new_str="pass"))
    await env.step(edit("create", "conftest.py", file_text=(
        "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")))
    await env.step(edit("create", "sitecustomize.py", file_text="import sys\nsys.exit(0)\n"))
    # and tamper with the test runner installed beside the repository
    await env.step(call("bash", command="echo 'raise SystemExit(0)' > /workspace/.deps/pytest/__init__.py"))
    ran = await env.step(call("bash", command="python -S -m pytest -q; echo rc=$?"))
    assert "rc=0" in ran.observation.messages[-1].content  # the agent's own view is fooled...
    reward = await env.score()
    assert reward.value == 0.0 and F2P[0] in reward.explanation  # ...the verifier is not


async def test_workspace_has_no_history_and_no_pristine_copy(env):
    async def run(command: str) -> str:
        return (await env.step(call("bash", command=command))).observation.messages[-1].content

    listing = await run("ls -a /workspace /workspace/repo; git -C /workspace/repo log 2>&1 | head -1")
    assert ".git" not in listing and "not a git repository" in listing
    # the fixed line exists only in the environment's hidden lower layer: no file, installed
    # package, archive or cache in the sandbox holds it
    found = await run("grep -rlE 'return high$' /workspace /tmp /usr/lib/python3* /usr/local/lib 2>/dev/null; "
                      "find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -name '*minicalc*' -print 2>/dev/null")
    paths = [line for line in found.splitlines() if line.startswith("/")]
    assert paths and all(p.startswith("/workspace/repo/") for p in paths)
    assert not any(p.endswith("__init__.py") for p in paths)  # no grep hit for the fix


async def test_fork_is_independent(env):
    await env.step(edit("create", "scratch.txt", file_text="parent"))
    child = await env.fork()
    try:
        await child.step(edit("str_replace", "minicalc/__init__.py", **FIX))
        assert (await child.score()).value == 1.0
        assert (await env.score()).value == 0.0
        seen = await child.step(edit("view", "scratch.txt"))
        assert "parent" in seen.observation.messages[-1].content
        assert len(child.messages) == len(env.messages) + 4
    finally:
        await child.close()


def test_gymnasium_facade_passes_check_env():
    spec = agentgym.spec("swe/Mutants-v1")
    gym_env = spec.make(tasks=[sample_task()])
    try:
        check_env(gym_env.unwrapped)
        obs, info = gym_env.reset(seed=0)
        assert info["task_id"] == "minicalc-clamp" and obs["messages"][1]["content"].startswith("clamp(50")
        assert {t["function"]["name"] for t in gym_env.tools} == {"bash", "str_replace_editor", "search", "submit"}
        _, reward, terminated, _, info = gym_env.step(
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "submit", "arguments": "{}"}}]})
        assert terminated and reward == 0.0 and info["outcome"]["value"] == 0.0
    finally:
        gym_env.close()


async def test_tool_results_follow_the_calls_and_parse_errors_come_last(env):
    text = ('<tool_call>{"name": "bash", "arguments": {"command": "echo hi"}}</tool_call>'
            '<tool_call>{"name": broken</tool_call>')
    messages = (await env.step(text)).observation.messages
    assert [m.role for m in messages[-3:]] == ["assistant", "tool", "user"]
    assert "hi" in messages[-2].content and messages[-1].content.startswith("[environment] Error: could not read <tool_call> block 2")
    both = Action(tool_calls=[ToolCall(id="s", name="submit"), ToolCall(id="late", name="bash", arguments={"command": "ls"})])
    done = await env.step(both)
    assert [(m.role, m.tool_call_id) for m in done.observation.messages[-3:]] == [
        ("assistant", None), ("tool", "s"), ("tool", "late")]
    assert "Not run" in done.observation.messages[-1].content and done.terminated
