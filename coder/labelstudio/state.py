"""Where coder keeps Label Studio's venv, server state and credentials, and how clients find the server.

The API token lives in a user-only file (mode 600) and is never printed; clients use LABEL_STUDIO_URL /
LABEL_STUDIO_API_KEY from the environment, else what `coder review server start` recorded.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from coder.errors import InputError
from coder.files import write_json_atomic


def coder_home() -> Path:
    return Path(os.environ.get("CODER_HOME") or Path.home() / ".local" / "share" / "coder").expanduser()


def venv_dir() -> Path:
    env = os.environ.get("CODER_LABEL_STUDIO_VENV")
    return Path(env).expanduser() if env else coder_home() / "labelstudio-venv"


def state_dir() -> Path:
    return coder_home() / "labelstudio"


def default_data_dir() -> Path:
    return state_dir() / "data"


def state_path() -> Path:
    return state_dir() / "server.json"


def credentials_path() -> Path:
    return state_dir() / "credentials.json"


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read ({e})", file=str(path)) from None


def write_private_json(path: Path, obj: dict) -> None:
    """Atomic write of a user-only file (0600): the temp file is created 0600 and renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    write_json_atomic(path, obj)
    os.chmod(path, 0o600)


def credentials_for(data_dir: Path) -> dict | None:
    return read_json(credentials_path()).get(str(data_dir))


def connection() -> tuple[str, str]:
    """URL and API key: LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY, else what `server start` recorded."""
    state = read_json(state_path())
    url = os.environ.get("LABEL_STUDIO_URL") or state.get("url")
    key = os.environ.get("LABEL_STUDIO_API_KEY")
    if not key and state.get("data_dir"):
        creds = credentials_for(Path(state["data_dir"])) or {}
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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
