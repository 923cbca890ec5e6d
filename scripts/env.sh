#!/usr/bin/env bash
# Create or reuse .venv and install surematch with the extras named in $1 (e.g. "dev").
# Sourced by scripts/demo and scripts/test; reinstalls only when pyproject.toml changed.
# One line per install step; pip's own output goes to .venv/install.log, shown on failure.
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
  log=.venv/install.log
  : >"$log"
  step() {
    echo "$1"
    shift
    if ! "$@" >>"$log" 2>&1; then
      echo "install failed; the last lines of $log:" >&2
      tail -n 25 "$log" >&2
      exit 1
    fi
  }
  step "installing: pip" .venv/bin/python -m pip install --upgrade pip
  # torch first and pinned: pip takes the CPU build from this machine's disk, never a CUDA one.
  step "installing: torch 2.13.0 (CPU)" .venv/bin/python -m pip install "torch==2.13.0"
  step "installing: surematch${extras:+[$extras]} and its dependencies (first run: minutes)" \
    .venv/bin/python -m pip install -e ".${extras:+[$extras]}"
  rm -f .venv/.surematch-installed-*
  touch "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
