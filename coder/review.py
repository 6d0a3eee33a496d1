"""The review queue in a real Label Studio: run the server, push low-confidence suggestions, pull human codes.

Design of the queue (why it looks like this):

* **One Label Studio project per round** (default title ``coder <round>``; ``--project NAME`` names it
  instead). A round is one review campaign: reviewers finish it, and its queue is ordered least-confident
  first across every question, which separate per-question or per-section projects would break up. The
  task key (round, locality, qid) is stored in each task, so a project holding several rounds still works.
* **One labeling config for every question**, with *dynamic choices*: each task carries its own
  question's codes (from the codebook) as options ``{"value": "3 - In process", "alias": "3"}``; the config's
  ``<Choices value="$choices_single" choice="single">`` and ``<Choices value="$choices_multi"
  choice="multiple">`` (for questions the codebook marks ``multi``) build the Choice tags from them. The
  other list is empty, so only one block shows. Results hold codes (the alias), never display text, and a
  project needs no per-question conditional blocks (``visibleWhen`` cannot be keyed on task data in Label
  Studio 1.23; dynamic choices can, and were checked in a real browser). The model's suggestion is a
  prediction (model_version, score), so its codes are pre-selected.
* The config is generated (``labeling_config``); a project whose config differs from it was edited by hand
  in Label Studio, and coder stops rather than push into a form it does not know (``--reset-config``).

The server: installed on first use into its own virtual environment (``CODER_LABEL_STUDIO_VENV``, default
``$CODER_HOME/labelstudio-venv``, ``CODER_HOME`` defaulting to ``~/.local/share/coder``), bound to
127.0.0.1, with an admin user and an API token that coder generates and keeps in a user-only file
(``$CODER_HOME/labelstudio/credentials.json``, mode 600) and never prints. Clients connect with
``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY`` from the environment, else with what ``server start``
recorded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from coder.codebook import Codebook, Question, format_codes
from coder.errors import InputError
from coder.files import write_json_atomic

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_PORT = 8080
CONFIG_MARKER = "coder review queue"
SINGLE, MULTI, COMMENT, ANSWER = "code", "codes", "comment", "answer"
SUGGESTION_COLUMNS = ["round", "locality", "region", "qid", "text", "suggested", "confidence", "route",
                      "model_version", "ref", "support", "source_id"]
SUGGESTION_REQUIRED = ["round", "locality", "qid", "suggested", "confidence", "route"]
OPTIONAL_SUGGESTION_COLUMNS = ["human_codes", "priority"]


# --------------------------------------------------------------------------------------------- locations

def coder_home() -> Path:
    return Path(os.environ.get("CODER_HOME") or Path.home() / ".local" / "share" / "coder").expanduser()


def venv_dir() -> Path:
    env = os.environ.get("CODER_LABEL_STUDIO_VENV")
    return Path(env).expanduser() if env else coder_home() / "labelstudio-venv"


def state_dir() -> Path:
    return coder_home() / "labelstudio"


def default_data_dir() -> Path:
    return state_dir() / "data"


def _state_path() -> Path:
    return state_dir() / "server.json"


def _credentials_path() -> Path:
    return state_dir() / "credentials.json"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read ({e})", file=str(path)) from None


def _write_private_json(path: Path, obj: dict) -> None:
    """Atomic write of a user-only file (0600): the temp file is created 0600 and renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    write_json_atomic(path, obj)
    os.chmod(path, 0o600)


# --------------------------------------------------------------------------------------------- the server

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


def ensure_installed(echo: Callable[[str], None] = print) -> Path:
    """Install Label Studio (pinned) into its own venv on first use: its ~1 GB of pinned Django packages
    would clash with coder's own environment. Returns the `label-studio` executable."""
    exe = label_studio_executable()
    if exe.exists():
        return exe
    venv = venv_dir()
    echo(f"Installing Label Studio {LABEL_STUDIO_VERSION} into {venv} "
         f"(first use only; takes about 2 minutes)...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = _base_python()
    t0 = time.time()
    steps = [[python, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
              f"label-studio=={LABEL_STUDIO_VERSION}"]]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise InputError(f"installing Label Studio failed ({' '.join(cmd[-3:])}):\n{tail}")
    if not exe.exists():
        raise InputError(f"installing Label Studio left no {exe}")
    echo(f"Label Studio installed in {time.time() - t0:.0f} s.")
    return exe


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
    state = _read_json(_state_path())
    if not state or not state.get("pid"):
        return None
    info = ServerInfo(**{k: state[k] for k in ServerInfo.__dataclass_fields__})
    return info if _pid_is_label_studio(info.pid) else None


def _credentials_for(data_dir: Path) -> dict | None:
    return _read_json(_credentials_path()).get(str(data_dir))


def start_server(port: int = DEFAULT_PORT, data_dir: str | Path | None = None, timeout: float = 600,
                 echo: Callable[[str], None] = print) -> ServerInfo:
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
    exe = ensure_installed(echo)
    creds = _credentials_for(data_dir)
    fresh = not (data_dir / "label_studio.sqlite3").exists()
    if creds is None:
        if not fresh:
            raise InputError(f"{data_dir} holds a Label Studio database that coder did not create, so "
                             f"coder does not know its API key; use another --data-dir, or run that server "
                             f"yourself and set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY")
        creds = {"username": os.environ.get("CODER_LABEL_STUDIO_EMAIL") or f"{_login_name()}@coder.local",
                 "password": secrets.token_urlsafe(18), "token": secrets.token_hex(20)}
        all_creds = _read_json(_credentials_path())
        all_creds[str(data_dir)] = creds
        _write_private_json(_credentials_path(), all_creds)
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
    _write_private_json(_state_path(), {**info.__dict__, "started_at": _now()})
    echo(f"Starting Label Studio at {url} (first start builds its database: about a minute)...")
    deadline = time.time() + timeout
    while not _health(url):
        if proc.poll() is not None:
            _write_private_json(_state_path(), {**info.__dict__, "pid": 0})
            raise InputError(f"Label Studio exited (code {proc.returncode}) before answering; "
                             f"last lines of {log}:\n{_tail(log)}")
        if time.time() > deadline:
            stop_server(echo=lambda _m: None)
            raise InputError(f"Label Studio did not answer {url}/health within {timeout:.0f} s; see {log}")
        time.sleep(1)
    _check_credentials(url, creds["token"])
    echo(f"Label Studio is up at {url} (pid {proc.pid}). Log in as {creds['username']}; the password and "
         f"API key are in {_credentials_path()} (readable by you only).")
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
    state = _read_json(_state_path())
    pid = int(state.get("pid") or 0)
    if not pid or not _pid_is_label_studio(pid):
        if state:
            _write_private_json(_state_path(), {**state, "pid": 0})
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
    _write_private_json(_state_path(), {**state, "pid": 0})
    echo(f"Label Studio (pid {pid}) stopped.")
    return True


def _reap(pid: int) -> None:
    # When this process started the server (tests, notebooks), collect the child so it is not left a zombie.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# --------------------------------------------------------------------------------------------- connecting

def connection() -> tuple[str, str]:
    """URL and API key: LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY, else what `server start` recorded."""
    state = _read_json(_state_path())
    url = os.environ.get("LABEL_STUDIO_URL") or state.get("url")
    key = os.environ.get("LABEL_STUDIO_API_KEY")
    if not key and state.get("data_dir"):
        creds = _credentials_for(Path(state["data_dir"])) or {}
        env_url = os.environ.get("LABEL_STUDIO_URL", "").rstrip("/")
        if not env_url or env_url == state.get("url"):
            key = creds.get("token")
    if not url:
        raise InputError("no Label Studio server known: start one with `coder review server start`, or set "
                         "LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY")
    if not key:
        raise InputError(f"no API key for {url}: set LABEL_STUDIO_API_KEY (Label Studio: Account & Settings "
                         f"-> Access Token)")
    return url.rstrip("/"), key


class Client:
    """The Label Studio SDK with coder's messages: a stopped server or a refused key is one clear line."""

    def __init__(self, url: str | None = None, api_key: str | None = None) -> None:
        if url is None or api_key is None:
            env_url, env_key = connection()
            url, api_key = url or env_url, api_key or env_key
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        self.ls = LabelStudio(base_url=self.url, api_key=api_key, timeout=120)

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            return fn(*args, **kwargs)
        except httpx.ConnectError:
            raise InputError(f"Label Studio is not running at {self.url} (connection refused while {what}): "
                             f"start it with `coder review server start`") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.TimeoutException) as e:
            raise InputError(f"Label Studio at {self.url} stopped answering while {what} "
                             f"({type(e).__name__}); re-run when it is up: nothing is duplicated") from None
        except ApiError as e:
            detail = _api_detail(e.body)
            if e.status_code == 401:
                hint = ""
                if "legacy" in detail.lower():
                    hint = (" (this server has legacy tokens disabled: use a personal access token, or "
                            "enable legacy tokens under Organization -> API Tokens Settings)")
                raise InputError(f"Label Studio at {self.url} refused the API key (401: {detail}){hint}; "
                                 f"check LABEL_STUDIO_API_KEY, or unset it to use the key "
                                 f"`coder review server start` recorded") from None
            raise InputError(f"Label Studio at {self.url} answered {e.status_code} while {what}: "
                             f"{detail}") from None

    def whoami(self) -> Any:
        return self.call("checking the API key", self.ls.users.whoami)


def _api_detail(body: object) -> str:
    if isinstance(body, dict):
        for k in ("detail", "validation_errors", "message"):
            if k in body:
                return str(body[k])[:500]
    return str(body)[:500]


def invite_url(client: Client | None = None) -> str:
    """A sign-up link for another reviewer (each reviewer gets their own account, so `who` is known)."""
    client = client or Client()
    invite = client.call("asking for an invite link", client.ls.organizations.invites.get_invite_link)
    link = str(invite.invite_url or "")
    return f"{client.url}{link}" if link.startswith("/") else link


# ----------------------------------------------------------------------------------------- labeling config

def labeling_config(codebook: Codebook) -> str:
    """The one labeling config every coder project uses (codes come from each task, see module docstring)."""
    return f"""<View>
  <!-- {CONFIG_MARKER}: codes of codebook '{_xml(codebook.name)}' come with each task; generated by coder,
       edit the codebook, not this config -->
  <Header value="$heading" size="4"/>
  <View style="background: #f3f5fb; border-left: 4px solid #5b6fd6; padding: 6px 12px; margin: 6px 0 12px 0">
    <Text name="question" value="$question"/>
  </View>
  <Header value="Answer" size="6"/>
  <View style="border: 1px solid #d9d9d9; padding: 8px 12px; margin-bottom: 12px; white-space: pre-wrap">
    <Text name="{ANSWER}" value="$text"/>
  </View>
  <Header value="Code (the model's suggestion is pre-selected: keep it or change it)" size="6"/>
  <Choices name="{SINGLE}" toName="{ANSWER}" choice="single" value="$choices_single" showInline="false"/>
  <Choices name="{MULTI}" toName="{ANSWER}" choice="multiple" value="$choices_multi" showInline="false"/>
  <Header value="Comment (optional)" size="6"/>
  <TextArea name="{COMMENT}" toName="{ANSWER}" rows="2" maxSubmissions="1" editable="true"
            placeholder="Why this code, if it is not obvious"/>
</View>
"""


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _normalise_config(xml: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", xml or "")).strip()


def choice_options(question: Question, blank_code: str) -> list[dict[str, str]]:
    """The question's codes as dynamic Choice options: the code is the alias (what results hold)."""
    options = [{"value": c.display, "alias": c.code} for c in question.codes]
    options.append({"value": f"{blank_code} - No response / does not answer the question",
                    "alias": blank_code})
    return options


@dataclass
class Project:
    id: int
    title: str
    created_at: str
    created: bool = False


def ensure_project(client: Client, title: str, codebook: Codebook, reset_config: bool = False, *,
                   config: str | None = None, description: str | None = None,
                   command: str = "coder review push") -> Project:
    """Find the project by title (create it if absent); refuse one whose labeling config was hand-edited.

    `config`/`description` default to the answers' queue; other queues (documents) pass their own, and
    `command` names the push that takes --reset-config in the message.
    """
    wanted = config or labeling_config(codebook)
    matches = [p for p in client.call("listing projects", lambda: list(client.ls.projects.list()))
               if p.title == title]
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise InputError(f"Label Studio at {client.url} has {len(matches)} projects titled {title!r} "
                         f"(ids {ids}); rename all but one")
    if not matches:
        p = client.call("creating the project", client.ls.projects.create, title=title, label_config=wanted,
                        description=description or f"Review queue made by coder from codebook "
                                                   f"{codebook.name}. Tasks are ordered least-confident first.",
                        show_skip_button=True, maximum_annotations=1)
        return Project(int(p.id), title, _iso(p.created_at), created=True)
    p = client.call("reading the project", client.ls.projects.get, id=matches[0].id)
    if _normalise_config(p.label_config) != _normalise_config(wanted):
        if not reset_config:
            raise InputError(f"the labeling config of Label Studio project {title!r} (id {p.id}) was "
                             f"edited by hand (it differs from the one coder generates), so its results may "
                             f"not hold codes; restore it with `{command} ... --reset-config`, or "
                             f"use another --project")
        client.call("restoring the labeling config", client.ls.projects.update, id=p.id, label_config=wanted)
    return Project(int(p.id), title, _iso(p.created_at))


def find_project(client: Client, title: str) -> Project:
    for p in client.call("listing projects", lambda: list(client.ls.projects.list())):
        if p.title == title:
            return Project(int(p.id), p.title, _iso(p.created_at))
    raise InputError(f"Label Studio at {client.url} has no project titled {title!r}")


def coder_projects(client: Client) -> list[Project]:
    """Every project whose labeling config coder generated (pull without --project pulls them all)."""
    out = []
    for p in client.call("listing projects", lambda: list(client.ls.projects.list())):
        if CONFIG_MARKER in (getattr(p, "label_config", "") or ""):
            out.append(Project(int(p.id), p.title, _iso(p.created_at)))
    return out


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value or "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------- suggestions

def read_suggestions(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read a suggestions CSV (`coder suggest`), checking each row; errors name the file, row and column."""
    from coder.returns import read_table

    df = read_table(path)
    missing = [c for c in SUGGESTION_REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"not a suggestions file: missing column(s) {', '.join(missing)} "
                         f"(expected {', '.join(SUGGESTION_COLUMNS)})", file=str(path))
    for c in SUGGESTION_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    # optional: `priority` (coder review order) decides the queue order; `human_codes` are codes the input
    # already had, which no model suggestion replaces
    df = df[SUGGESTION_COLUMNS + [c for c in OPTIONAL_SUGGESTION_COLUMNS if c in df.columns]].copy()
    conf, qids, suggested = [], [], []
    for i, row in enumerate(df.itertuples(index=False)):
        where = {"file": str(path), "row": i + 2}
        try:
            q = codebook.question(int(str(row.qid).strip().lstrip("Qq")))
        except (KeyError, ValueError):
            raise InputError(f"question {row.qid!r} is not in codebook {codebook.name!r}", column="qid",
                             **where) from None
        qids.append(q.id)
        try:
            c = float(row.confidence)
        except ValueError:
            raise InputError(f"confidence {row.confidence!r} is not a number", column="confidence",
                             **where) from None
        if not 0 <= c <= 1:
            raise InputError(f"confidence {c} is outside 0..1", column="confidence", **where)
        conf.append(c)
        if row.route not in ("auto", "review"):
            raise InputError(f"route {row.route!r} is neither 'auto' nor 'review'", column="route", **where)
        try:
            suggested.append(format_codes(codebook.parse_codes(q.id, row.suggested)))
        except ValueError as e:
            raise InputError(str(e), column="suggested", **where) from None
        if not str(row.round).strip() or not str(row.locality).strip():
            raise InputError("round and locality must not be blank", **where)
    df["qid"] = qids
    df["confidence"] = conf
    df["suggested"] = suggested
    key = df[["round", "locality", "qid"]].astype(str).agg("|".join, axis=1)
    dup = key.duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"({df['round'].iat[i]}, {df['locality'].iat[i]}, Q{df['qid'].iat[i]}) "
                         f"appears twice", file=str(path), row=i + 2)
    return df


def task_key(round_: str, locality: str, qid: int | str) -> str:
    return f"{round_}|{locality}|{int(qid)}"


def task_payload(row: Any, codebook: Codebook) -> dict:
    """One Label Studio task: what the reviewer reads, the question's codes, and the model's suggestion."""
    q = codebook.question(int(row.qid))
    options = choice_options(q, codebook.blank_code)
    codes = list(codebook.parse_codes(q.id, row.suggested))
    region = f" ({row.region})" if str(row.region).strip() else ""
    data = {
        "key": task_key(row.round, row.locality, q.id),
        "heading": f"Round {row.round} · {row.locality}{region}",
        "question": f"Q{q.id} ({q.ref}): {q.text}",
        "text": str(row.text),
        "round": str(row.round), "locality": str(row.locality), "region": str(row.region),
        "qid": q.id, "ref": q.ref, "support": str(row.support), "source_id": str(row.source_id),
        "suggested": str(row.suggested), "confidence": round(float(row.confidence), 4),
        "model_version": str(row.model_version),
        "choices_single": [] if q.multi else options,
        "choices_multi": options if q.multi else [],
    }
    prediction = {
        "model_version": str(row.model_version) or "unknown",
        "score": float(row.confidence),
        "result": [{"from_name": MULTI if q.multi else SINGLE, "to_name": ANSWER, "type": "choices",
                    "value": {"choices": codes}}],
    }
    return {"data": data, "predictions": [prediction]}


# --------------------------------------------------------------------------------------------- push

@dataclass
class PushResult:
    projects: dict[str, int] = field(default_factory=dict)   # title -> project id
    created: list[str] = field(default_factory=list)
    added: int = 0
    already: int = 0
    routed_auto: int = 0


def project_title_for(round_: str, project: str | None) -> str:
    return project or f"coder {round_}"


def existing_keys(client: Client, project_id: int) -> set[str]:
    tasks = client.call("listing tasks", lambda: list(client.ls.tasks.list(project=project_id, fields="all")))
    return {str((t.data or {}).get("key")) for t in tasks if (t.data or {}).get("key")}


def review_queue(suggestions: pd.DataFrame) -> pd.DataFrame:
    """The rows to review, in queue order: `priority` first where given (coder review order), else
    least-confident first. Answers a person already coded in the input (`human_codes`) need no review."""
    review = suggestions[suggestions["route"] == "review"]
    if "human_codes" in review.columns:
        review = review[review["human_codes"].fillna("").astype(str).str.strip() == ""]
    if "priority" in review.columns:  # most report-moving first
        return review.assign(_p=pd.to_numeric(review["priority"], errors="coerce").fillna(0.0)).sort_values(
            ["_p", "confidence", "round", "locality", "qid"], ascending=[False, True, True, True, True],
            kind="stable").drop(columns="_p")
    return review.sort_values(["confidence", "round", "locality", "qid"], kind="stable")


def push(suggestions: pd.DataFrame, codebook: Codebook, project: str | None = None,
         client: Client | None = None, batch_size: int = 50, reset_config: bool = False,
         progress: Callable[[int, int], None] | None = None) -> PushResult:
    """Queue every `review` row as a task, least-confident first, in batches; skip tasks already queued.

    Each batch is one import (one database transaction on the server), and the task key is checked against
    what the project already holds, so an interrupted push re-run finishes the job without duplicates, and a
    task a reviewer has touched is never changed.
    """
    client = client or Client()
    client.whoami()
    result = PushResult()
    review = review_queue(suggestions)
    result.routed_auto = int((suggestions["route"] == "auto").sum())
    plan: list[tuple[Project, list[dict]]] = []
    titles = review["round"].map(lambda r: project_title_for(r, project))
    for title, rows in review.groupby(titles, sort=False):
        proj = ensure_project(client, str(title), codebook, reset_config=reset_config)
        result.projects[proj.title] = proj.id
        if proj.created:
            result.created.append(proj.title)
        have = existing_keys(client, proj.id)
        todo = [task_payload(r, codebook) for r in rows.itertuples(index=False)]
        new = [t for t in todo if t["data"]["key"] not in have]
        result.already += len(todo) - len(new)
        plan.append((proj, new))
    total = sum(len(new) for _, new in plan)
    done = 0
    if progress:
        progress(0, total)
    for proj, new in plan:
        for start in range(0, len(new), batch_size):
            batch = new[start:start + batch_size]
            client.call(f"importing tasks ({done} of {total} done)", client.ls.projects.import_tasks,
                        id=proj.id, request=batch, return_task_ids=True)
            done += len(batch)
            result.added += len(batch)
            if progress:
                progress(done, total)
    return result


# --------------------------------------------------------------------------------------------- pull

@dataclass
class PullResult:
    projects: list[str] = field(default_factory=list)
    new: list[dict] = field(default_factory=list)
    seen: int = 0
    skipped: int = 0           # cancelled (skipped) annotations: task stays in the queue
    waiting: int = 0           # tasks without a completed annotation
    problems: list[str] = field(default_factory=list)


def fetch_reviews(codebook: Codebook, project: str | None = None,
                  client: Client | None = None) -> PullResult:
    """Read every completed annotation of the project(s) as a review record (codes checked by the codebook).

    A cancelled (skipped) annotation is no decision: the task stays in the queue. An annotation whose code is
    not a code of its question is reported in `problems` and left out; the others are still returned.
    """
    client = client or Client()
    client.whoami()
    projects = [find_project(client, project)] if project else coder_projects(client)
    if not projects:
        raise InputError(f"Label Studio at {client.url} has no project made by coder; push one first "
                         f"(`coder review push`)")
    return collect_annotations(client, projects, lambda a, data, proj, users, url, task_id: _review_record(
        a, data, proj, users, codebook, url, task_id))


def collect_annotations(client: Client, projects: list[Project], make_record: Callable) -> PullResult:
    """Every completed annotation of `projects`, turned into a record by `make_record(annotation, task data,
    project, users, url, task id) -> (record, problem)`. Cancelled (skipped) ones leave the task queued."""
    users = {u.id: u.email for u in client.call("listing users", client.ls.users.list)}
    out = PullResult(projects=[p.title for p in projects])
    for proj in projects:
        tasks = client.call("listing tasks",
                            lambda p=proj: list(client.ls.tasks.list(project=p.id, fields="all")))
        for t in tasks:
            data = t.data or {}
            done_here = False
            for a in (t.annotations or []):
                a = a if isinstance(a, dict) else a.model_dump(mode="json")
                if a.get("was_cancelled"):
                    out.skipped += 1
                    continue
                rec, problem = make_record(a, data, proj, users, client.url, int(t.id))
                if problem:
                    out.problems.append(problem)
                    continue
                done_here = True
                out.new.append(rec)
            if not done_here:
                out.waiting += 1
    out.seen = len(out.new)
    return out


def _review_record(a: dict, data: dict, proj: Project, users: dict[int, str], codebook: Codebook,
                   url: str, task_id: int) -> tuple[dict, str | None]:
    where = (f"project {proj.title!r}, task {task_id} ({data.get('round')}, {data.get('locality')}, "
             f"Q{data.get('qid')}), annotation {a.get('id')}")
    if not data.get("key"):
        return {}, f"{where}: the task was not made by coder (no key in its data); ignored"
    chosen: list[str] = []
    comment = ""
    for item in a.get("result") or []:
        if item.get("from_name") in (SINGLE, MULTI) and item.get("type") == "choices":
            chosen += [str(c) for c in item.get("value", {}).get("choices", [])]
        elif item.get("from_name") == COMMENT:
            comment = " ".join(str(x) for x in item.get("value", {}).get("text", []))
    reviewer = users.get(a.get("completed_by"), str(a.get("completed_by", "")))
    if not chosen:
        return {}, f"{where} by {reviewer}: no code chosen; not recorded"
    try:
        codes = format_codes(codebook.parse_codes(int(data["qid"]), ";".join(chosen)))
    except (ValueError, KeyError) as e:
        msg = str(e).strip("'\"")
        return {}, (f"{where} by {reviewer}: {msg}; not recorded (fix the annotation in Label Studio, "
                    f"then pull again)")
    suggested = str(data.get("suggested", ""))
    rec = {
        "record_id": f"{proj.created_at}|{proj.id}|{a.get('id')}|{a.get('updated_at')}",
        "annotation": f"{proj.created_at}|{proj.id}|{a.get('id')}",
        "round": str(data.get("round", "")), "locality": str(data.get("locality", "")),
        "region": str(data.get("region", "")), "qid": int(data["qid"]), "ref": str(data.get("ref", "")),
        "text": str(data.get("text", "")), "support": str(data.get("support", "")),
        "source_id": str(data.get("source_id", "")),
        "codes": codes, "suggested": suggested, "confidence": data.get("confidence", ""),
        "model_version": str(data.get("model_version", "")), "agreed": codes == suggested,
        **annotation_provenance(a, proj, url, task_id, reviewer, comment),
    }
    return rec, None


def annotation_provenance(a: dict, proj: Project, url: str, task_id: int, reviewer: str, comment: str) -> dict:
    """Who reviewed, when, where: the fields every recorded human decision carries."""
    return {"reviewer": reviewer, "reviewed_at": str(a.get("updated_at") or a.get("created_at") or ""),
            "comment": comment, "lead_time": a.get("lead_time"), "server": url, "project": proj.title,
            "project_id": proj.id, "task_id": task_id, "annotation_id": a.get("id")}


def pull(store: str | Path, codebook: Codebook, project: str | None = None,
         client: Client | None = None) -> tuple[PullResult, int]:
    """Fetch completed annotations and add the new ones to the store; returns (result, number recorded)."""
    from coder.accept import ReviewStore

    result = fetch_reviews(codebook, project=project, client=client)
    added = ReviewStore(store).add(result.new)
    return result, added


def iter_keys(rows: Iterable[dict]) -> set[str]:
    return {task_key(r["round"], r["locality"], r["qid"]) for r in rows}
