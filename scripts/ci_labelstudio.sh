#!/usr/bin/env bash
# Installs what the review tests (tests/test_review.py) need, once per machine:
#   - chromium from Debian (headless screenshots of the labeling page), ~45 s;
#   - Label Studio 1.23.2 into its own venv, through coder's own installer (`coder review server install`),
#     ~100 s on first run, instant after. Location: $CODER_LABEL_STUDIO_VENV, else
#     $CODER_HOME/labelstudio-venv, else ~/.local/share/coder/labelstudio-venv.
# Run after scripts/install.sh (it needs .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/python -m coder review server install
