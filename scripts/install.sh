#!/usr/bin/env bash
# Creates .venv with coder and everything it needs (CPU torch only), offline-ready.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first and pinned: any other version pulls GBs of CUDA packages.
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -c scripts/constraints.txt -e ".[dev]"
echo "coder installed in .venv (activate with: source .venv/bin/activate)"
