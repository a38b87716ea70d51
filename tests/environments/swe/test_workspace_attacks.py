"""What the agent does to its own workspace that makes scoring impossible is the agent's failure:
0 with an explanation, never a VerifierError (an infra error would drop the episode from every
metric). And the host stays bounded while it reads the workspace: regular files only, capped."""

import threading
import time

import pytest

from agentgym.environments.swe.env import SWEEnv
from tests.environments.swe.helpers import call, edit, sample_task
from tests.sandbox.conftest import docker_reason, need

pytestmark = pytest.mark.bwrap

FIX = dict(old_str="    if value > high:\n        return low", new_str="    if value > high:\n        return high")
LIB = "minicalc/__init__.py"
ATTACKS = {
    "chmod 000 on a file": (f"chmod 000 {LIB}", f"{LIB} Permission denied"),
    "chmod 000 on a directory": ("chmod 000 minicalc", "minicalc Permission denied"),
    "a FIFO where a file was": (f"rm {LIB} && mkfifo {LIB}", f"{LIB} is no longer a regular file"),
    "a symlink to /dev/zero": (f"ln -sf /dev/zero {LIB}", f"{LIB} is no longer a regular file"),
    "a symlink loop": (f"ln -sf __init__.py {LIB} && ln -s b minicalc/a && ln -s a minicalc/b",
                       f"{LIB} is no longer a regular file"),
    "a directory where a file was": (f"rm {LIB} && mkdir {LIB}", f"{LIB} was replaced by a directory"),
    "a huge sparse file": ("truncate -s 200M minicalc/data.py", "minicalc/data.py is larger than"),
}


class RssWatch:
    """The peak growth of this process's resident memory while the block runs."""

    def __enter__(self):
        self.start, self.peak, self.running = self.rss(), 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.rss() - self.start)
            time.sleep(0.01)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) << 10 for line in f if line.startswith("VmRSS:"))


@pytest.mark.parametrize("name", list(ATTACKS))
async def test_a_workspace_that_cannot_be_scored_scores_zero(name):
    command, expected = ATTACKS[name]
    env = SWEEnv([sample_task()])
    try:
        await env.reset()
        await env.step(edit("str_replace", LIB, **FIX))
        done = await env.step(call("bash", command=command))
        assert "[exit code 0]" in done.observation.messages[-1].content
        with RssWatch() as watch:
            reward = await env.score()
    finally:
        await env.close()
    assert reward.value == 0.0 and "the workspace cannot be scored" in reward.explanation
    assert expected in reward.explanation
    assert watch.peak < 64 << 20, f"the host grew by {watch.peak >> 20} MB"


async def test_the_editor_refuses_special_files_without_reading_them():
    env = SWEEnv([sample_task()])
    try:
        await env.reset()
        await env.step(call("bash", command="ln -s /dev/zero minicalc/zero.py && mkfifo minicalc/pipe.py"))
        with RssWatch() as watch:
            zero = await env.step(edit("view", "minicalc/zero.py"))
            pipe = await env.step(edit("str_replace", "minicalc/pipe.py", old_str="a", new_str="b"))
    finally:
        await env.close()
    assert "cannot edit /workspace/repo/minicalc/zero.py" in zero.observation.messages[-1].content
    assert "not a regular file" in pipe.observation.messages[-1].content
    assert watch.peak < 64 << 20


async def test_docker_backend_scores_an_unreadable_workspace_zero():
    need(docker_reason() is None, docker_reason() or "")
    env = SWEEnv([sample_task()], backend="docker")
    try:
        await env.reset()
        await env.step(edit("str_replace", LIB, **FIX))
        await env.step(call("bash", command=f"ln -sf /dev/zero {LIB}"))
        with RssWatch() as watch:
            reward = await env.score()
    finally:
        await env.close()
    assert reward.value == 0.0 and f"{LIB} is no longer a regular file" in reward.explanation
    assert watch.peak < 64 << 20


test_docker_backend_scores_an_unreadable_workspace_zero = pytest.mark.docker(
    test_docker_backend_scores_an_unreadable_workspace_zero)
