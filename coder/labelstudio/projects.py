"""Label Studio projects coder owns: found by title, made with a generated labeling config, and refused
when that config was edited by hand (its results might no longer hold codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from coder.errors import InputError
from coder.labelstudio.client import Client


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")



def comment_text(s: str) -> str:
    """Text safe inside an XML comment of a labeling config: escaped, and no `--`, which XML forbids inside a
    comment (Label Studio would reject the config)."""
    return re.sub(r"-(?=-)", "- ", xml_escape(s))

def _normalise_config(xml: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", xml or "")).strip()


@dataclass
class Project:
    id: int
    title: str
    created_at: str
    created: bool = False


def ensure_project(client: Client, title: str, config: str, description: str, reset_config: bool = False, *,
                   command: str = "coder review push") -> Project:
    """Find the project by title (create it if absent); refuse one whose labeling config was hand-edited.

    Each queue (answers, documents) passes its own generated `config` and `description`; `command` names the
    push that takes --reset-config in the message.
    """
    wanted = config
    matches = [p for p in client.call("listing projects", lambda: list(client.ls.projects.list()))
               if p.title == title]
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise InputError(f"Label Studio at {client.url} has {len(matches)} projects titled {title!r} "
                         f"(ids {ids}); rename all but one")
    if not matches:
        p = client.call("creating the project", client.ls.projects.create, title=title, label_config=wanted,
                        description=description,
                        show_skip_button=True, maximum_annotations=1)
        return Project(int(p.id), title, iso_time(p.created_at), created=True)
    p = client.call("reading the project", client.ls.projects.get, id=matches[0].id)
    if _normalise_config(p.label_config) != _normalise_config(wanted):
        if not reset_config:
            raise InputError(f"the labeling config of Label Studio project {title!r} (id {p.id}) was "
                             f"edited by hand (it differs from the one coder generates), so its results may "
                             f"not hold codes; restore it with `{command} ... --reset-config`, or "
                             f"use another --project")
        client.call("restoring the labeling config", client.ls.projects.update, id=p.id, label_config=wanted)
    return Project(int(p.id), title, iso_time(p.created_at))


def find_project(client: Client, title: str) -> Project:
    for p in client.call("listing projects", lambda: list(client.ls.projects.list())):
        if p.title == title:
            return Project(int(p.id), p.title, iso_time(p.created_at))
    raise InputError(f"Label Studio at {client.url} has no project titled {title!r}")


def projects_with_marker(client: Client, marker: str) -> list[Project]:
    """Every project whose labeling config carries `marker` (pull without --project pulls them all)."""
    out = []
    for p in client.call("listing projects", lambda: list(client.ls.projects.list())):
        if marker in (getattr(p, "label_config", "") or ""):
            out.append(Project(int(p.id), p.title, iso_time(p.created_at)))
    return out


def iso_time(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value or "")
