"""Attacks on the verifier from the agent's own code, in a real sandbox: each must score 0 (or,
when the agent also fixed the bug honestly, 1), never fool the tests and never become infra_error."""

import pytest

from agentgym.environments.swe.env import SWEEnv
from tests.environments.swe.helpers import LIBRARY, call, edit, sample_task

pytestmark = pytest.mark.bwrap

FIX = dict(old_str="    if value > high:\n        return low", new_str="    if value > high:\n        return high")
FAKE_PASSES = '''
import _pytest.reports as _reports
_real_init = _reports.TestReport.__init__
def _always_passed(self, *args, **kwargs):
    _real_init(self, *args, **kwargs)
    self.outcome = "passed"
    self.longrepr = None
_reports.TestReport.__init__ = _always_passed
'''
# a fake `pytest` at the repo root: it would run instead of the real one and print passes
FAKE_PYTEST = '''
import sys
print("\\n".join(f"PASSED {arg}" for arg in sys.argv[1:]))
'''


@pytest.fixture
async def env():
    env = SWEEnv([sample_task()])
    await env.reset()
    yield env
    await env.close()


async def append_to_library(env, code: str) -> None:
    await env.step(edit("insert", "minicalc/__init__.py", insert_line=len(LIBRARY.splitlines()), new_str=code))


async def test_library_code_patching_test_reports_scores_zero(env):
    await append_to_library(env, FAKE_PASSES)
    ran = await env.step(call("bash", command="python -m pytest -q tests; echo rc=$?"))
    assert "rc=0" in ran.observation.messages[-1].content  # the attack fools a plain pytest...
    reward = await env.score()
    assert reward.value == 0.0 and reward.components["fail_to_pass"] == 0.0  # ...not the verifier
    assert "the test machinery was tampered with: _pytest.reports.TestReport.__init__ was replaced" in reward.explanation


async def test_fake_pytest_at_the_repo_root_is_ignored(env):
    await env.step(edit("create", "pytest.py", file_text=FAKE_PYTEST))
    await env.step(edit("create", "json/__init__.py", file_text="raise SystemExit(0)\n"))
    reward = await env.score()
    assert reward.value == 0.0 and "FAIL_TO_PASS 0/1 pass" in reward.explanation


async def test_library_code_exiting_the_test_run_scores_zero(env):
    await env.step(edit("str_replace", "minicalc/__init__.py", **FIX))
    await append_to_library(env, "import os, sys\nif 'pytest' in sys.modules:\n    os._exit(0)\n")
    reward = await env.score()
    assert reward.value == 0.0
    assert "the test run ended without sending a verdict" in reward.explanation


async def test_thousands_of_files_do_not_stop_scoring(env):
    await env.step(edit("str_replace", "minicalc/__init__.py", **FIX))
    await env.step(call("bash", command="mkdir -p minicalc/data && cd minicalc/data && "
                                        "for i in $(seq 1500); do echo $i > file_with_a_long_name_$i.txt; done"))
    reward = await env.score()
    assert reward.value == 1.0, reward.explanation


async def test_directory_replaced_by_a_file_scores_zero(env):
    await env.step(call("bash", command="rm -rf minicalc && echo 'clamp = None' > minicalc"))
    reward = await env.score()
    assert reward.value == 0.0
    assert "the changes could not be applied to a clean copy: /workspace/repo/minicalc" in reward.explanation


async def test_test_directory_replaced_by_a_file_scores_zero(env):
    await env.step(edit("str_replace", "minicalc/__init__.py", **FIX))
    await env.step(call("bash", command="rm -rf tests && touch tests"))
    reward = await env.score()
    assert reward.value == 0.0 and "could not be applied" in reward.explanation
