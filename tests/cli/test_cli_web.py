"""`agentgym eval` on a web env through the real binary: real Chromium, nothing left running."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

AGENTGYM = Path(sys.executable).parent / "agentgym"


def chromium_processes() -> set[int]:
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"chromium" in (proc / "cmdline").read_bytes():
                    pids.add(int(proc.name))
            except OSError:
                pass
    return pids


@pytest.mark.browser
def test_eval_on_a_web_app_scores_the_oracle_and_leaves_no_browser(tmp_path):
    from tests.environments.web.conftest import require_browser

    require_browser()
    before = chromium_processes()
    proc = subprocess.run([AGENTGYM, "eval", "web/Shop-v0", "-p", "oracle", "-n", "3", "--out", tmp_path],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "results.json").read_text())["success_rate"] == 1.0
    assert chromium_processes() - before == set()
