"""Run the command line the way users do: the installed `coder` script.

Not `python -m coder`: that puts the working folder first on `sys.path`, so a folder named `coder/` there (a
test's copy of `coder/data`, as the README's paths need) would shadow the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CODER = str(Path(sys.executable).with_name("coder")) if Path(sys.executable).with_name("coder").exists() \
    else shutil.which("coder") or "coder"
NO_SERVER = ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")


def coder(*args: str, cwd: Path | str | None = None, env: dict | None = None, timeout: int = 900,
          unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`coder ARGS...` in `cwd`, wide output, offline; `env` adds variables and `unset` removes them."""
    full = os.environ | {"COLUMNS": "200", "HF_HUB_OFFLINE": "1"} | (env or {})
    for key in unset:
        full.pop(key, None)
    return subprocess.run([CODER, *args], capture_output=True, text=True, cwd=cwd, env=full, timeout=timeout)
