"""A fork server for the command line: imports coder once, then runs each `coder ARGS` in a fresh process.

Hundreds of bad-input cases each starting Python and importing pandas, scikit-learn, torch and
sentence-transformers spent most of the test suite's time on imports. Here one process imports them, then
forks a child per command. The child is a real process, as when a user types `coder ...`: its own working
folder and environment, stdin from /dev/null, stdout and stderr to files, `sys.argv` set, then the entry
point the installed `coder` script calls (`coder.cli:main`); its exit code is what that process exits
with, and an uncaught exception prints a traceback exactly as it would. Only the imports are shared.

Run as `python tests/cli_forkserver.py SOCKET`; tests use `ForkServer` (tests/cli_runner.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from typing import NoReturn


def warm_up() -> None:
    """Import what the commands import lazily, so no child pays for it (nothing is run or loaded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    import sentence_transformers  # noqa: F401

    import coder.cli  # noqa: F401
    import coder.documents.batch  # noqa: F401
    import coder.documents.train  # noqa: F401
    import coder.model.pipeline  # noqa: F401
    import coder.report.build  # noqa: F401
    from coder.model.safe_load import skops_io

    skops_io()


def child(conn: socket.socket) -> NoReturn:
    """Run one command as its own process would, and exit with its exit code."""
    import traceback

    request = json.loads(conn.makefile("r", encoding="utf-8").readline())
    conn.sendall(f"{os.getpid()}\n".encode())
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # commands may start and wait for their own children
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["coder", *request["args"]]
    from coder.cli import main

    code = 0
    try:
        main()
    except SystemExit as e:
        if isinstance(e.code, int):
            code = e.code
        elif e.code is not None:  # sys.exit("message"): printed, exit 1, as Python does
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - an uncaught error ends the process as Python would end it
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(f"{code}\n".encode())
    # Straight out: tearing down the interpreter the server built (torch and all) takes longer than the
    # command did, and coder registers nothing to run at exit.
    os._exit(code)


def serve(path: str) -> NoReturn:
    """Accept one connection per command; fork; the child runs it, the server goes on listening."""
    warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            child(conn)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
