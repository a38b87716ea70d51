"""Every registered env passes Gymnasium's check_env (STYLE.md rule 11).

Envs that need a browser or a sandbox carry the matching marker; they run in CI all the same.
MiniWoB++ registers 130 pages that share one env class: check_env runs on a fixed sample of them
(every page is loaded and reset in tests/environments/web/test_miniwob.py); set
AGENTGYM_CONFORMANCE=all to check every one.
"""

from __future__ import annotations

import os

import pytest
from gymnasium.utils.env_checker import check_env

import agentgym

MARKS = {"web": [pytest.mark.browser], "swe": [pytest.mark.bwrap]}


MINIWOB_SAMPLE_EVERY = 16


def _registered():
    check_all = os.environ.get("AGENTGYM_CONFORMANCE") == "all"
    miniwob = 0
    for env_id, spec in agentgym.registry().items():
        if spec.family == "test":
            continue
        marks = list(MARKS.get(spec.family, []))
        if env_id.startswith("web/miniwob."):
            miniwob += 1
            if not check_all and (miniwob - 1) % MINIWOB_SAMPLE_EVERY:
                continue
            marks.append(pytest.mark.slow)
        yield pytest.param(env_id, marks=marks, id=env_id)


@pytest.mark.parametrize("env_id", list(_registered()))
def test_every_registered_env_passes_check_env(env_id):
    if env_id.startswith("web/"):
        from tests.environments.web.conftest import require_browser

        require_browser()  # skips without Chromium, except in CI where it fails
    env = agentgym.make(env_id)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


def test_every_family_is_registered():
    families = {spec.family for spec in agentgym.registry().values()}
    assert {"tooluse", "web", "swe"} <= families


CHECKED = [
    pytest.param("tooluse/Retail-v0", 3, id="tooluse/Retail-v0"),
    pytest.param("tooluse/Airline-v0", 3, id="tooluse/Airline-v0"),
    pytest.param("web/Shop-v0", 1, marks=[pytest.mark.browser, pytest.mark.slow], id="web/Shop-v0"),
    pytest.param("web/miniwob.click-button-v0", 1, marks=[pytest.mark.browser, pytest.mark.slow],
                 id="web/miniwob.click-button-v0"),
    pytest.param("swe/Mutants-v1", 1, marks=[pytest.mark.bwrap, pytest.mark.slow], id="swe/Mutants-v1"),
]


@pytest.mark.parametrize("env_id, n_tasks", CHECKED)
def test_built_in_envs_pass_agentgym_check(env_id, n_tasks):
    """The same checks `agentgym check` runs (oracle, no-op, determinism, fork, close...)."""
    import asyncio

    from agentgym.conformance import run_checks

    if env_id.startswith("web/"):
        from tests.environments.web.conftest import require_browser

        require_browser()
    results = asyncio.run(run_checks(agentgym.spec(env_id), n_tasks))
    failed = [f"{r.name}: {r.detail}" for r in results if r.status == "fail"]
    assert not failed, failed
    assert {r.name for r in results if r.status == "pass"} >= {"oracle", "no-op", "close", "determinism"} - ({"oracle"} if "miniwob" in env_id else set())
