"""Run a real Label Studio on 127.0.0.1: install it into its own venv on first use, start, stop.

Its ~1 GB of pinned Django packages would clash with coder's own environment, hence the separate venv.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coder.errors import InputError
from coder.labelstudio.client import Client
from coder.labelstudio.state import (
    credentials_for,
    credentials_path,
    default_data_dir,
    now_iso,
    read_json,
    state_dir,
    state_path,
    venv_dir,
    write_private_json,
)

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_PORT = 8080


@dataclass
class ServerInfo:
    url: str
    port: int
    pid: int
    data_dir: str
    log: str
    username: str


def label_studio_executable() -> Path:
    return venv_dir() / "bin" / "label-studio"


def ensure_installed(echo: Callable[[str], None] = print, activity: Callable[[str], None] | None = None) -> Path:
    """Install Label Studio (pinned) into its own venv on first use: its ~1 GB of pinned Django packages
    would clash with coder's own environment. Returns the `label-studio` executable.

    `activity(message)` hears what is happening while pip works (packages collected so far, the current
    step), so the two minutes are not a silent pause."""
    exe = label_studio_executable()
    if exe.exists():
        return exe
    venv = venv_dir()
    echo(f"Installing Label Studio {LABEL_STUDIO_VERSION} into {venv} "
         f"(first use only; takes about 2 minutes)...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = _base_python()
    t0 = time.time()
    steps = [("making its virtual environment", [python, "-m", "venv", str(venv)]),
             ("installing packages", [str(venv / "bin" / "python"), "-m", "pip", "install",
                                      "--disable-pip-version-check", "--progress-bar", "off",
                                      f"label-studio=={LABEL_STUDIO_VERSION}"])]
    collected: list[str] = []
    for what, cmd in steps:
        code, tail = run_reporting(
            cmd, lambda line, w=what: activity and activity(pip_activity(w, line, t0, collected)))
        if code != 0:
            raise InputError(f"installing Label Studio failed ({' '.join(cmd[-3:])}):\n{tail}")
    if not exe.exists():
        raise InputError(f"installing Label Studio left no {exe}")
    echo(f"Label Studio installed in {time.time() - t0:.0f} s.")
    return exe


def run_reporting(cmd: list[str], on_line: Callable[[str], object]) -> tuple[int, str]:
    """Run `cmd`, handing each output line to `on_line`; returns (exit code, its last lines)."""
    lines: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout or []:
            line = line.rstrip()
            if line:
                lines = (lines + [line])[-5:]
                on_line(line)
    return proc.returncode, "\n".join(lines)


def pip_activity(what: str, line: str, t0: float, collected: list[str]) -> str:
    """One status line from pip's output: how far it is, in words."""
    if line.startswith("Collecting "):
        collected.append(line.split()[1])
    step = line if len(line) <= 70 else line[:67] + "..."
    return (f"Installing Label Studio ({time.time() - t0:.0f} s, {len(collected)} packages collected): "
            f"{what}: {step}")


def _base_python() -> str:
    # The interpreter coder runs on, outside any venv, builds the new venv (same Python version).
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(base) if base.exists() else sys.executable


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As servers do: connections of a server just stopped (TIME_WAIT) do not make the port busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) != 0


def _health(url: str, timeout: float = 3) -> bool:
    import httpx

    try:
        r = httpx.get(f"{url}/health", timeout=timeout)
        return r.status_code == 200 and r.json().get("status") == "UP"
    except (httpx.HTTPError, ValueError):
        return False


def _pid_is_label_studio(pid: int) -> bool:
    import psutil

    try:
        cmd = " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return "label-studio" in cmd or "label_studio" in cmd


def running_server() -> ServerInfo | None:
    """The server `server start` recorded, if its process is still alive."""
    state = read_json(state_path())
    if not state or not state.get("pid"):
        return None
    info = ServerInfo(**{k: state[k] for k in ServerInfo.__dataclass_fields__})
    return info if _pid_is_label_studio(info.pid) else None


def start_server(port: int = DEFAULT_PORT, data_dir: str | Path | None = None, timeout: float = 600,
                 echo: Callable[[str], None] = print,
                 activity: Callable[[str], None] | None = None) -> ServerInfo:
    """Start Label Studio on 127.0.0.1:port and wait until /health answers; idempotent if already running."""
    data_dir = Path(data_dir or default_data_dir()).expanduser().resolve()
    current = running_server()
    if current:
        if current.port == port and Path(current.data_dir) == data_dir and _health(current.url):
            echo(f"Label Studio is already running at {current.url} (pid {current.pid}).")
            return current
        raise InputError(f"a Label Studio started by coder is already running at {current.url} "
                         f"(data {current.data_dir}); stop it first with `coder review server stop`")
    if not port_is_free(port):
        raise InputError(f"port {port} is already in use on 127.0.0.1 (Label Studio would silently move to "
                         f"another port); choose a free one with --port")
    exe = ensure_installed(echo, activity)
    creds = credentials_for(data_dir)
    fresh = not (data_dir / "label_studio.sqlite3").exists()
    if creds is None:
        if not fresh:
            raise InputError(f"{data_dir} holds a Label Studio database that coder did not create, so "
                             f"coder does not know its API key; use another --data-dir, or run that server "
                             f"yourself and set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY")
        creds = {"username": os.environ.get("CODER_LABEL_STUDIO_EMAIL") or f"{_login_name()}@coder.local",
                 "password": secrets.token_urlsafe(18), "token": secrets.token_hex(20)}
        all_creds = read_json(credentials_path())
        all_creds[str(data_dir)] = creds
        write_private_json(credentials_path(), all_creds)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
    env.update({
        "LABEL_STUDIO_USERNAME": creds["username"], "LABEL_STUDIO_PASSWORD": creds["password"],
        "LABEL_STUDIO_USER_TOKEN": creds["token"],
        # Static tokens are off by default since 1.17 and the switch is only read when the database is made.
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
    })
    log = state_dir() / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(exe), "start", "--no-browser", "--data-dir", str(data_dir), "--internal-host", "127.0.0.1",
             "--host", url, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    info = ServerInfo(url=url, port=port, pid=proc.pid, data_dir=str(data_dir), log=str(log),
                      username=creds["username"])
    write_private_json(state_path(), {**info.__dict__, "started_at": now_iso()})
    echo(f"Starting Label Studio at {url} (first start builds its database: about a minute)...")
    deadline = time.time() + timeout
    while not _health(url):
        if proc.poll() is not None:
            write_private_json(state_path(), {**info.__dict__, "pid": 0})
            raise InputError(f"Label Studio exited (code {proc.returncode}) before answering; "
                             f"last lines of {log}:\n{_tail(log)}")
        if time.time() > deadline:
            stop_server(echo=lambda _m: None)
            raise InputError(f"Label Studio did not answer {url}/health within {timeout:.0f} s; see {log}")
        if activity:
            last = _tail(log, 1).strip()
            activity(f"Starting Label Studio ({time.time() - deadline + timeout:.0f} s"
                     f"{', building its database' if fresh else ''}): {last[:70]}")
        time.sleep(1)
    _check_credentials(url, creds["token"])
    echo(f"Label Studio is up at {url} (pid {proc.pid}). Log in as {creds['username']}; the password and "
         f"API key are in {credentials_path()} (readable by you only).")
    return info


def _login_name() -> str:
    import getpass

    name = re.sub(r"[^a-z0-9._-]", "", getpass.getuser().lower())
    return name or "reviewer"


def _check_credentials(url: str, token: str) -> None:
    client = Client(url, token)
    client.whoami()


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def stop_server(echo: Callable[[str], None] = print, timeout: float = 30) -> bool:
    """Stop the server `server start` recorded, by its process id (and its process group)."""
    state = read_json(state_path())
    pid = int(state.get("pid") or 0)
    if not pid or not _pid_is_label_studio(pid):
        if state:
            write_private_json(state_path(), {**state, "pid": 0})
        echo("No Label Studio started by coder is running.")
        return False
    import psutil

    try:
        family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    _gone, alive = psutil.wait_procs(family, timeout=timeout)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)
    _reap(pid)
    write_private_json(state_path(), {**state, "pid": 0})
    echo(f"Label Studio (pid {pid}) stopped.")
    return True


def _reap(pid: int) -> None:
    # When this process started the server (tests, notebooks), collect the child so it is not left a zombie.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
