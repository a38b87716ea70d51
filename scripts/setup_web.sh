#!/usr/bin/env bash
# Set up the web family: Debian's Chromium (Playwright cannot download browsers here) and the
# `web` extra (playwright, miniwob, starlette, jinja2). Idempotent: does nothing already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup_web: /usr/bin/chromium is missing; as root run: apt-get install -y chromium" >&2
    echo "setup_web: the browser tests will be skipped (and fail under CI=true)" >&2
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  # update the package lists only when they are missing or do not know chromium yet
  if ! apt-cache show chromium >/dev/null 2>&1; then apt-get update -q; fi
  apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
fi

if ! "$PY" -c "import playwright, miniwob, starlette, jinja2" >/dev/null 2>&1; then
  # the `web` extra's requirements, read from pyproject.toml (no editable build needed)
  mapfile -t WEB_REQS < <("$PY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["web"]))')
  "$PY" -m pip install -q "${WEB_REQS[@]}"
fi

"$PY" - <<'PYEOF'
import asyncio
from playwright.async_api import async_playwright

async def main():
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        print("setup_web: chromium", browser.version, "works with playwright")
        await browser.close()

asyncio.run(main())
PYEOF
