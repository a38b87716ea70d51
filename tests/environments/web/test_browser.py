"""The shared browser leaves nothing behind: stale spare contexts, browsers of dead loops, or Chromium at exit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environments.web.conftest import require_browser

ROOT = Path(__file__).resolve().parents[3]

# Launches a browser on a loop that ends without closing it, then one more (left for exit) on a new loop.
SCRIPT = """
import asyncio, json, os, time
from agentgym.environments.web.browser import shared_browser

def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
        except OSError:
            pass
    return out

async def launch():
    shared = shared_browser()
    await shared.browser()
    return children(shared.driver_pid)

first = asyncio.run(launch())
second = asyncio.run(launch())  # finding the dead loop's browser ends it
def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
for _ in range(50):  # while this process still lives
    if not any(running(p) for p in first):
        break
    time.sleep(0.1)
print(json.dumps({"first": first, "second": second, "first_left": [p for p in first if running(p)]}), flush=True)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.browser
def test_no_chromium_outlives_its_loop_or_the_process():
    require_browser()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    pids = json.loads(done.stdout.strip().splitlines()[-1])
    assert pids["first"] and pids["second"], "no Chromium process was found under the driver"
    assert not pids["first_left"], "the browser of a closed loop was left running"
    for _ in range(50):
        if not any(_running(p) for p in pids["first"] + pids["second"]):
            break
        asyncio.run(asyncio.sleep(0.1))
    left = [p for p in pids["first"] + pids["second"] if _running(p)]
    assert not left, f"Chromium left running: {left}"


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
async def test_stale_spares_are_closed_when_claiming(browser):
    first = await browser.claim()
    await asyncio.gather(*browser._refills)  # the spares are ready
    stale = list(browser._ready)
    assert stale
    for _, _, (page, *_) in stale:
        await page.close()
    claimed = await browser.claim()
    contexts = (await browser.browser()).contexts
    assert all(context not in contexts for context, _, _ in stale)
    for context, _, _ in (first, claimed):
        await context.close()
