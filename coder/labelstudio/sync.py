"""Moving tasks in and annotations out, the same way for every queue (answers, documents).

Tasks are imported in batches (one transaction each) and skipped when their key is already queued, so an
interrupted push re-run finishes without duplicates; every completed annotation comes back with the same
provenance (who, when, where) and a record id that changes only when the annotation is edited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from coder.labelstudio.client import Client
from coder.labelstudio.projects import Project


@dataclass
class PushResult:
    projects: dict[str, int] = field(default_factory=dict)   # title -> project id
    created: list[str] = field(default_factory=list)
    added: int = 0
    already: int = 0
    routed_auto: int = 0
    answers: int = 0           # answers the new tasks decide (a task may hold identical answers of many areas)


@dataclass
class PullResult:
    projects: list[str] = field(default_factory=list)
    new: list[dict] = field(default_factory=list)
    seen: int = 0
    skipped: int = 0           # cancelled (skipped) annotations: task stays in the queue
    waiting: int = 0           # tasks without a completed annotation
    problems: list[str] = field(default_factory=list)


ProgressFn = Callable[[int, int], None]


def existing_task_data(client: Client, project_id: int) -> list[dict]:
    """The data of every task the project holds."""
    tasks = client.call("listing tasks", lambda: list(client.ls.tasks.list(project=project_id, fields="all")))
    return [t.data or {} for t in tasks]


def existing_keys(client: Client, project_id: int) -> set[str]:
    return {str(d.get("key")) for d in existing_task_data(client, project_id) if d.get("key")}


def queue_tasks(client: Client, plan: list[tuple[Project, list[dict]]], result: PushResult, batch_size: int = 50,
                progress: ProgressFn | None = None, what: str = "tasks") -> PushResult:
    """Import each project's tasks (in queue order) that it does not hold yet, in batches of `batch_size`.

    A task is known by `data.key`: a key already in the project, or seen earlier in the same plan (a copy),
    is skipped, so a re-run after an interruption adds only what is missing and never changes a task a
    reviewer has touched. Each batch is one import request (one transaction on the server).
    """
    todo: list[tuple[Project, list[dict]]] = []
    for proj, tasks in plan:
        result.projects[proj.title] = proj.id
        if proj.created:
            result.created.append(proj.title)
        have = existing_keys(client, proj.id)
        unique: dict[str, dict] = {}
        for t in tasks:
            unique.setdefault(str(t["data"]["key"]), t)
        new = [t for k, t in unique.items() if k not in have]
        result.already += len(unique) - len(new)
        todo.append((proj, new))
    total = sum(len(new) for _, new in todo)
    if progress:
        progress(0, total)
    for proj, new in todo:
        for start in range(0, len(new), batch_size):
            batch = new[start:start + batch_size]
            client.call(f"importing {what} ({result.added} of {total} done)", client.ls.projects.import_tasks,
                        id=proj.id, request=batch, return_task_ids=True)
            result.added += len(batch)
            if progress:
                progress(result.added, total)
    return result


def collect_annotations(client: Client, projects: list[Project], make_record: Callable) -> PullResult:
    """Every completed annotation of `projects`, turned into records by `make_record(annotation, task data,
    project, users, url, task id) -> (record or list of records, problem)`. Cancelled (skipped) ones leave
    the task queued."""
    users = {u.id: u.email for u in client.call("listing users", client.ls.users.list)}
    out = PullResult(projects=[p.title for p in projects])
    for proj in projects:
        tasks = client.call("listing tasks",
                            lambda p=proj: list(client.ls.tasks.list(project=p.id, fields="all")))
        records_from_tasks(((int(t.id), t.data or {}, t.annotations or []) for t in tasks), proj, users,
                           client.url, make_record, out)
    out.seen = len(out.new)
    return out


def records_from_tasks(tasks: Iterable[tuple[int, dict, list]], proj: Project, users: dict[int, str], url: str,
                       make_record: Callable, out: PullResult) -> PullResult:
    """Turn (task id, task data, annotations) into records in `out`: the one path a pull from the server
    and an import of a Label Studio JSON export share, so both record a decision the same way."""
    for task_id, data, given in tasks:
        done_here = False
        for a in given:
            a = a if isinstance(a, dict) else a.model_dump(mode="json")
            if a.get("was_cancelled"):
                out.skipped += 1
                continue
            rec, problem = make_record(a, data, proj, users, url, task_id)
            if problem:
                out.problems.append(problem)
                continue
            done_here = True
            out.new.extend(rec if isinstance(rec, list) else [rec])
        if not done_here:
            out.waiting += 1
    out.seen = len(out.new)
    return out


def reviewer_of(a: dict, users: dict[int, str]) -> str:
    """The reviewer's e-mail (each reviewer has an account), else the user id Label Studio gave."""
    who = a.get("completed_by")
    if isinstance(who, dict):  # a JSON export may give the user, not the id
        return str(who.get("email") or who.get("id", ""))
    return users.get(who, str(who if who is not None else ""))


def annotation_choices(a: dict, comment_name: str = "comment") -> tuple[dict[str, list[str]], str]:
    """What the reviewer chose, per choices control (codes: the choices' aliases), and their comment."""
    chosen: dict[str, list[str]] = {}
    comment = ""
    result = a.get("result")
    for item in result if isinstance(result, list) else []:
        if not isinstance(item, dict):  # not something Label Studio writes: nothing chosen there
            continue
        value = item.get("value") if isinstance(item.get("value"), dict) else {}
        if item.get("type") == "choices":
            choices = value.get("choices")
            chosen.setdefault(str(item.get("from_name")), []).extend(
                str(c) for c in (choices if isinstance(choices, list) else []))
        elif item.get("from_name") == comment_name:
            text = value.get("text")
            comment = " ".join(str(x) for x in (text if isinstance(text, list) else [text or ""]))
    return chosen, comment


def annotation_provenance(a: dict, proj: Project, url: str, task_id: int, reviewer: str, comment: str) -> dict:
    """Who reviewed, when, where, and the record's ids: the fields every recorded human decision carries.

    `record_id` names this version of the annotation (an edit in Label Studio makes a new one); `annotation`
    names the annotation across its versions, so the latest version can win.
    """
    annotation = f"{proj.created_at}|{proj.id}|{a.get('id')}"
    return {"record_id": f"{annotation}|{a.get('updated_at')}", "annotation": annotation,
            "reviewer": reviewer, "reviewed_at": str(a.get("updated_at") or a.get("created_at") or ""),
            "comment": comment, "lead_time": a.get("lead_time"), "server": url, "project": proj.title,
            "project_id": proj.id, "task_id": task_id, "annotation_id": a.get("id")}
