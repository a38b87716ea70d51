"""`agentgym eval` on a web env through the real binary: real Chromium, nothing left running."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

AGENTGYM = Path(sys.executable).parent / "agentgym"


def chromium_processes(marker: Path) -> set[int]:
    """Chromium processes whose profile lives under `marker` (the run's TMPDIR), so browsers of
    other tests running at the same time do not count."""
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"chromium" in cmdline and str(marker).encode() in cmdline:
                pids.add(int(proc.name))
    return pids


@pytest.mark.browser
def test_eval_on_a_web_app_scores_the_oracle_and_leaves_no_browser(tmp_path):
    from tests.environments.web.conftest import require_browser

    require_browser()
    # a short TMPDIR of its own: Chromium keeps its profile (and a socket, whose path is limited
    # to 108 bytes) there, so pytest's long tmp_path would stop it from starting
    tmpdir = Path(tempfile.mkdtemp(prefix="agw-"))
    out = tmp_path / "out"
    proc = subprocess.run([AGENTGYM, "eval", "web/Shop-v0", "-p", "oracle", "-n", "3", "--out", out],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "TMPDIR": str(tmpdir)})
    errors = [json.loads(line).get("error") for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr, errors)
    assert json.loads((out / "results.json").read_text())["success_rate"] == 1.0
    assert chromium_processes(tmpdir) == set()
    shutil.rmtree(tmpdir, ignore_errors=True)
