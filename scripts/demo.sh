#!/usr/bin/env bash
# `make demo`: evaluate on the tool-use env. Without an API key: the oracle and the random policy
# (no model needed). With OPENAI_API_KEY or OPENAI_BASE_URL set: openai:$AGENTGYM_MODEL as well.
set -euo pipefail
cd "$(dirname "$0")/.."
AG=.venv/bin/agentgym
ENV_ID="${AGENTGYM_ENV:-tooluse/Retail-v0}"
OUT="${AGENTGYM_OUT:-runs/demo}"
$AG list --family tooluse
for policy in oracle random; do
  $AG eval "$ENV_ID" --policy "$policy" --out "$OUT/$policy"
done
if [[ -n "${OPENAI_API_KEY:-}" || -n "${OPENAI_BASE_URL:-}" ]]; then
  MODEL="${AGENTGYM_MODEL:-gpt-4o-mini}"
  $AG eval "$ENV_ID" --policy "openai:$MODEL" -n "${AGENTGYM_N:-20}" --concurrency 4 \
    --out "$OUT/openai-${MODEL//\//_}"
else
  echo "Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) and AGENTGYM_MODEL to evaluate a model."
fi
echo "Episodes and results are in $OUT/"
