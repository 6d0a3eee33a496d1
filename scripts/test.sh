#!/usr/bin/env bash
# The test command: installs everything the tests need (coder, Label Studio in its own venv, Chromium),
# then runs the whole suite. Safe to re-run; installs are skipped when already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/ci_labelstudio.sh
.venv/bin/ruff check coder tests bench
.venv/bin/python -m pytest "$@"
