#!/usr/bin/env bash
# Set up the SWE environments: fetch each shipped task's pinned sdist from PyPI into the cache and
# build its environment (source + pytest) once. Idempotent: built environments are reused.
# Needs python3.11 in /usr/bin (the interpreter the sandboxes run) and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[setup_swe] $*"; }

if [ ! -x /usr/bin/python3.11 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "/usr/bin/python3.11 is missing (the sandboxes' interpreter); as root: apt-get install -y python3.11"
    exit 0
  fi
  say "installing python3.11 (the sandboxes' interpreter)"
  apt-get update -qq && apt-get install -y -qq python3.11 >/dev/null
fi
.venv/bin/python -m agentgym.environments.swe.cli prepare "${1:-tasks/swe}"
say "done"
