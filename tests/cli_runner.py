"""Run the command line the way users do: the installed `coder` script.

Not `python -m coder`: that puts the working folder first on `sys.path`, so a folder named `coder/` there (a
test's copy of `coder/data`, as the README's paths need) would shadow the installed package.
"""

from __future__ import annotations

import itertools
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
    return subprocess.run([CODER, *args], capture_output=True, text=True, cwd=cwd, env=command_env(env, unset),
                          timeout=timeout)


def command_env(env: dict | None = None, unset: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment, wide output, offline; `env` adds variables and `unset` removes them."""
    full = os.environ | {"COLUMNS": "200", "HF_HUB_OFFLINE": "1"} | (env or {})
    for key in unset:
        full.pop(key, None)
    return full


class ForkServer:
    """`coder ARGS...` run by forking a process that has imported coder once (tests/cli_forkserver.py).

    For suites of hundreds of commands: each still runs in its own process, with its own folder,
    environment, streams and exit code, through the same entry point as the installed script.
    """

    def __init__(self, env: dict | None = None, unset: tuple[str, ...] = ()) -> None:
        import tempfile

        self.folder = Path(tempfile.mkdtemp(prefix="coder-fork-"))
        self.socket = str(self.folder / "socket")
        self.env = command_env(env, unset)
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("cli_forkserver.py")),
                                         self.socket], env=self.env, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the fork server did not start (exit {self.process.wait()})")
        self.numbers = itertools.count(1)  # next() on it is atomic: safe from several threads

    def coder(self, *args: str, cwd: Path | str, timeout: int = 900) -> subprocess.CompletedProcess:
        import json
        import signal
        import socket

        n = next(self.numbers)
        out, err = self.folder / f"{n}.out", self.folder / f"{n}.err"
        request = {"args": list(args), "cwd": str(cwd), "env": self.env, "stdout": str(out), "stderr": str(err)}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket)
            s.sendall((json.dumps(request) + "\n").encode())
            reply = s.makefile("r")
            pid = int(reply.readline())
            try:
                code = reply.readline().strip()
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired([CODER, *args], timeout) from None
        # no exit code: the child was killed (by a signal) before it could say
        rc = int(code) if code else -signal.SIGKILL
        stdout, stderr = (p.read_text(encoding="utf-8") if p.exists() else "" for p in (out, err))
        return subprocess.CompletedProcess([CODER, *args], rc, stdout, stderr)

    def close(self) -> None:
        import shutil

        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
