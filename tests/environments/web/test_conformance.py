"""Web envs are registered and their tools hide env-side args (check_env: tests/environments/test_conformance.py)."""

from __future__ import annotations

import agentgym
from agentgym.environments.web.app_env import AppEnv

MINIWOB_SAMPLE = "web/miniwob.click-button-v0"


def test_every_app_with_tasks_is_registered():
    ids = set(agentgym.registry())
    assert "web/Shop-v0" in ids
    assert agentgym.spec("web/Shop-v0").count_tasks() >= 30


def test_tools_hide_the_session_argument():
    env = AppEnv("shop")
    names = {t.name: t.parameters for t in env.tools}
    assert set(names) == {"click", "fill", "select_option", "press", "scroll", "goto", "go_back",
                          "new_tab", "switch_tab", "answer"}
    assert set(names["fill"]["properties"]) == {"id", "text"}


