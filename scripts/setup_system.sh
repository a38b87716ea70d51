#!/usr/bin/env bash
# Installs what the sandbox, web and SWE families need from the system. Each part is idempotent,
# installs as root, and says clearly what is missing otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
for part in setup_sandbox.sh setup_web.sh setup_swe.sh; do
  if [[ -f "scripts/$part" ]]; then
    echo "== scripts/$part"
    bash "scripts/$part"
  fi
done
