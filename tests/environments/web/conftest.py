"""Browser fixtures for the web family: one Chromium for the whole session, shared by every test.

Browser tests run on the session's event loop (`loop_scope="session"`) so they all reuse the one
browser the env layer keeps per loop. Without Chromium/playwright they skip, except in CI
(`CI=true`), where a missing browser is a failure.
"""

from __future__ import annotations

import os

import pytest
import pytest_asyncio


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (run scripts/setup_web.sh)"
    from agentgym.environments.web.browser import chromium_path

    if chromium_path() is None:
        return "Chromium is not installed (run scripts/setup_web.sh)"
    return None


def require_browser() -> None:
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs the browser tests: {reason}")
    pytest.skip(reason)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser():
    """The shared Chromium of the session's loop, launched once and closed at the end."""
    require_browser()
    from agentgym.environments.web.browser import shared_browser

    shared = shared_browser()
    await shared.browser()
    yield shared
    await shared.close()
