#!/usr/bin/env bash
# Create or reuse .venv and install surematch with the extras named in $1 (e.g. "dev").
# Sourced by scripts/demo and scripts/test; reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="${1:-}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($py --version)"
  "$py" -m venv .venv
fi
stamp=".venv/.surematch-installed-$(sha1sum pyproject.toml | cut -c1-12)-${extras:-base}"
if [ ! -f "$stamp" ]; then
  echo "installing surematch and its dependencies into .venv (first run: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch first and pinned: pip takes the CPU build from this machine's disk, never a CUDA one.
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
  rm -f .venv/.surematch-installed-*
  touch "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
