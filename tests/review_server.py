"""The session's real Label Studio server, as a pytest plugin module.

Test files that need it say `pytest_plugins = ["review_server"]`: a plugin's session fixture exists once, so
one server serves every such file in a session (a fixture imported into two test files would start two).
The server runs on a test-only port (18080 and up) with a temporary data folder and CODER_HOME, so a user's
own server and settings are never touched. Set CODER_SKIP_LABEL_STUDIO=1 to skip the tests that need it.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from coder.labelstudio.server import port_is_free, start_server, stop_server
from coder.labelstudio.state import venv_dir

START_ACTIVITY: list[str] = []  # what the first start said while the user waited


def _free_port(start: int) -> int:
    for port in range(start, start + 200):
        if port_is_free(port):
            return port
    raise RuntimeError("no free port")


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory):
    """A real Label Studio, started by `coder.review.start_server` (what `coder review server start` runs)."""
    if os.environ.get("CODER_SKIP_LABEL_STUDIO") == "1":
        pytest.skip("CODER_SKIP_LABEL_STUDIO=1")
    names = ("CODER_HOME", "CODER_LABEL_STUDIO_VENV", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")
    saved = {k: os.environ.get(k) for k in names}
    venv = venv_dir()  # the user's Label Studio install is reused: it takes ~2 minutes to make
    home = tmp_path_factory.mktemp("coder-home")
    os.environ.update({"CODER_HOME": str(home), "CODER_LABEL_STUDIO_VENV": str(venv)})
    os.environ.pop("LABEL_STUDIO_URL", None)
    os.environ.pop("LABEL_STUDIO_API_KEY", None)
    # Several test sessions may start at once on one machine: each starts its search at its own offset, so two
    # do not both find 18080 free and one end up talking to the other's server.
    port = _free_port(18080 + os.getpid() % 1000)
    t0 = time.time()
    info = start_server(port=port, data_dir=home / "ls-data", echo=lambda m: print(m, file=sys.stderr),
                        activity=START_ACTIVITY.append)
    print(f"Label Studio up in {time.time() - t0:.0f} s", file=sys.stderr)
    try:
        yield info
    finally:
        stop_server(echo=lambda m: None)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
