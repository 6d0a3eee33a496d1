"""Documents in the review queue: push the documents with uncertain fields to Label Studio, pull the human
codes, and accept them, merged with the auto-accepted fields, into the final documents table.

It is the answers' review loop with a document-shaped task, on the same sync layer (coder.labelstudio):

* **One project for documents** (default title ``coder documents``), one task per document, keyed by content
  (``doc|<sha256>``), so pushing again, or pushing a copy under another name, adds nothing already queued.
  Only documents with a field waiting (coder.documents.route) are queued.
* **A generated labeling config** (`label_config`, coder.documents.fieldreview): the codes accepted
  automatically are settled text; only the uncertain fields are asked, through per-task dynamic choices, each
  with its evidence passage. Each choice carries the code in ``alias``, so results hold codes. Its marker
  differs from the answers' queue, so ``coder review pull`` never mistakes a documents project for its own.
* **Human codes are kept apart** from the answers' reviews, in ``<store>/documents.jsonl`` (same append-only,
  deduplicated `ReviewStore`), and `accept` lets them win over the model's codes field by field, whatever
  the route of a later model run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from coder.codebook import Codebook
from coder.documents.batch import details_path
from coder.documents.fieldreview import canonical, field_label_config, field_task, legacy_fields, merge_codes
from coder.documents.vocab import DOC_TYPES, PRIORITIES
from coder.errors import InputError
from coder.labelstudio.client import Client
from coder.labelstudio.projects import Project, ensure_project, find_project
from coder.labelstudio.sync import (
    PullResult,
    PushResult,
    annotation_choices,
    annotation_provenance,
    collect_annotations,
    queue_tasks,
    reviewer_of,
)
from coder.review.store import DOCUMENTS_FILE, ReviewStore
from coder.spreadsheet import write_table

DEFAULT_PROJECT = "coder documents"
CONFIG_MARKER = "coder document review"


FIELDS = ("doc_type", "sections", "questions", "priorities")




ACCEPTED_COLUMNS = ["file", "sha256", "status", "error", "source", "doc_type", "sections", "questions",
                    "priorities", "confidence", "route", "model_version", "suggested_doc_type",
                    "suggested_sections", "suggested_questions", "suggested_priorities", "reviewer",
                    "reviewed_at", "agreed", "waiting"]


def label_config(codebook: Codebook) -> str:
    """The documents' labeling config: settled codes as text, dynamic choices for the uncertain fields."""
    return field_label_config(codebook, CONFIG_MARKER)


def read_coded(coded: str | Path) -> dict:
    """The details JSON `coder docs code` wrote beside its CSV (it holds the evidence and content hashes)."""
    coded = Path(coded)
    if not coded.exists():
        raise InputError("coded documents file not found (run `coder docs code` first)", file=str(coded))
    details = details_path(coded)
    try:
        data = json.loads(details.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no {details.name} beside it: the JSON `coder docs code` writes with the CSV is "
                         f"needed (it holds the evidence)", file=str(coded)) from None
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read ({e})", file=str(details)) from None
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise InputError("not a `coder docs code` details file (no documents list)", file=str(details))
    return data


def _codes(d: dict, fld: str) -> str:
    if fld == "doc_type":
        return str(d["doc_type"]["code"])
    return ";".join(str(x["code"]) for x in d[fld])


def document_task_key(sha256: str) -> str:
    """A document's task key in Label Studio (data.key, as coder.review uses for answers): its content, so
    a re-push never queues the same document twice, whatever it is called."""
    return f"doc|{sha256}"


def document_tasks(details: dict, codebook: Codebook) -> list[dict]:
    """One task per document (by content) with fields waiting for review, least confident first: it shows
    the settled codes and asks only about the uncertain fields (coder.documents.fieldreview)."""
    names: dict[str, list[str]] = {}
    for d in details["documents"]:
        if d.get("status") == "ok":
            names.setdefault(d["sha256"], []).append(d["file"])
    tasks, seen = [], set()
    for d in details["documents"]:
        if d.get("status") != "ok" or d["sha256"] in seen:
            continue
        d = {**d, "fields": d.get("fields") or legacy_fields(d)}
        if not any(f["route"] == "review" for f in d["fields"]):
            continue  # nothing uncertain: never queued
        seen.add(d["sha256"])
        also = [f for f in names[d["sha256"]] if f != d["file"]]
        heading = (f"{d['file']} · {d.get('pages', '?')} page(s)"
                   + (f" (same content as {', '.join(also)})" if also else ""))
        tasks.append(field_task(d, codebook, document_task_key(d["sha256"]), heading))
    tasks.sort(key=lambda t: t["data"]["confidence"])  # least confident first, as coder.review queues answers
    return tasks


def ensure_documents_project(client: Client, title: str, codebook: Codebook,
                             reset_config: bool = False) -> Project:
    return ensure_project(client, title, label_config(codebook),
                          f"Documents routed to review by coder (codebook {codebook.name}); least confident first.",
                          reset_config=reset_config, command="coder docs push")


def push_documents(coded: str | Path, codebook: Codebook, project: str | None = None,
                   client: Client | None = None, reset_config: bool = False, batch_size: int = 50,
                   progress: Callable[[int, int], None] | None = None) -> PushResult:
    """Queue every `review` document as a task; skip documents (by content) already queued."""
    details = read_coded(coded)
    client = client or Client()
    client.whoami()
    docs = details["documents"]
    result = PushResult()
    result.routed_auto = sum(d.get("status") == "ok" and d.get("route") == "auto" for d in docs)
    proj = ensure_documents_project(client, project or DEFAULT_PROJECT, codebook, reset_config=reset_config)
    plan = [(proj, document_tasks(details, codebook))]  # copies of one content share a key: one task
    return queue_tasks(client, plan, result, batch_size=batch_size, progress=progress, what="document tasks")


def document_store(path: str | Path = "annotations") -> ReviewStore:
    """Human document codes: `<store>/documents.jsonl`, append-only, deduplicated like the answers' reviews."""
    return ReviewStore(path, DOCUMENTS_FILE)


def fetch_document_reviews(codebook: Codebook, project: str | None = None,
                           client: Client | None = None) -> PullResult:
    """Every completed annotation of the documents project as a record (codes checked against the codebook
    and the documents' vocabulary). Cancelled (skipped) annotations leave the document in the queue."""
    client = client or Client()
    client.whoami()
    proj = find_project(client, project or DEFAULT_PROJECT)
    return collect_annotations(client, [proj], lambda a, data, p, users, url, task_id: _document_record(
        a, data, p, users, codebook, url, task_id))


def _check(fld: str, chosen: list[str], codebook: Codebook, asked: set[str] | None = None) -> str:
    """The chosen codes of one field, checked and in a canonical order; ValueError names a bad one.
    `asked`: the codes the task asked about (a field-level task); a code outside them is refused."""
    if fld == "doc_type":
        if len(chosen) != 1 or chosen[0] not in DOC_TYPES:
            raise ValueError(f"the document type must be one of {', '.join(DOC_TYPES)} (got "
                             f"{';'.join(chosen) or 'none'})")
        return chosen[0]
    if asked is not None:
        extra = [c for c in chosen if c not in asked]
        if extra:
            raise ValueError(f"{fld} {extra[0]!r} was not asked about in this task")
    if fld == "priorities":
        bad = [c for c in chosen if c not in PRIORITIES]
        if bad:
            raise ValueError(f"priority {bad[0]!r} is not one of {', '.join(PRIORITIES)}")
        return canonical(fld, chosen)
    valid = {s.id for s in codebook.sections} if fld == "sections" else set(codebook.by_id)
    for c in chosen:
        if (int(c) if c.isdigit() else None) not in valid:
            raise ValueError(f"{fld[:-1]} {c!r} is not in codebook {codebook.name!r}")
    return canonical(fld, chosen)


def _document_record(a: dict, data: dict, proj: Project, users: dict[int, str], codebook: Codebook,
                     url: str, task_id: int) -> tuple[dict, str | None]:
    """A completed annotation as a record. A field-level task (`asked_*` in its data) decides only the asked
    fields (`scope: fields`); a whole-document task from before field routing decides all four."""
    where = f"project {proj.title!r}, task {task_id} ({data.get('file')}), annotation {a.get('id')}"
    if not str(data.get("key", "")).startswith("doc|"):
        return {}, f"{where}: the task was not made by `coder docs push` (no document key); ignored"
    reviewer = reviewer_of(a, users)
    by_control, comment = annotation_choices(a)
    field_level = "asked_questions" in data
    asked = {f: set(str(data.get(f"asked_{f}", "")).split(";")) - {""} for f in FIELDS}
    decided = [f for f in FIELDS if not field_level or asked[f]]
    codes = dict.fromkeys(FIELDS, "")
    for fld in decided:
        try:
            codes[fld] = _check(fld, by_control.get(fld, []), codebook,
                                asked[fld] if field_level and fld != "doc_type" else None)
        except ValueError as e:
            return {}, f"{where} by {reviewer}: {e}; not recorded (fix it in Label Studio, then pull again)"
    suggested = {f: str(data.get(f"suggested_{f}", "")) for f in FIELDS}
    changed = [f for f in decided if codes[f] != suggested[f]]
    rec = {
        "sha256": str(data.get("sha256", "")), "file": str(data.get("file", "")),
        "scope": "fields" if field_level else "document",
        **codes, **{f"suggested_{f}": v for f, v in suggested.items()},
        **({f"asked_{f}": ";".join(sorted(asked[f])) for f in FIELDS} if field_level else {}),
        "confidence": data.get("confidence", ""), "model_version": str(data.get("model_version", "")),
        "agreed": not changed, "changed": changed,
        **annotation_provenance(a, proj, url, task_id, reviewer, comment),
    }
    return rec, None


def pull_documents(store: str | Path, codebook: Codebook, project: str | None = None,
                   client: Client | None = None) -> tuple[PullResult, int]:
    """Fetch completed document annotations and add the new ones to the store; returns (result, recorded)."""
    result = fetch_document_reviews(codebook, project=project, client=client)
    return result, document_store(store).add(result.new)


def build_accepted(details: dict, store: ReviewStore) -> pd.DataFrame:
    """One row per coded file. Per field, a reviewer's decision wins (the latest, whatever a later model run
    says), else an auto-accepted decision stands, else the field waits: the row is `pending`, its code columns hold what
    is settled so far and `waiting` names the rest. `source` is `auto` when nothing needed a person, `human`
    when a reviewer decided some of it and nothing waits."""
    humans: dict[str, list[dict]] = {}
    for r in store.latest():  # every annotation's latest version; field answers add up per document
        if not isinstance(r.get("sha256"), str) or not r["sha256"]:
            raise InputError("a document review has no sha256 (was the file edited by hand?)",
                             file=str(store.reviews_path), row=r.get("_line"), column="sha256")
        humans.setdefault(r["sha256"], []).append(r)
    rows = []
    for d in details["documents"]:
        row = dict.fromkeys(ACCEPTED_COLUMNS, "")
        row.update({"file": d.get("file", ""), "sha256": d.get("sha256", ""), "status": d.get("status", ""),
                    "error": d.get("error", ""), "route": d.get("route", "review"),
                    "model_version": d.get("model_version", "")})
        if d.get("status") != "ok":
            row["source"] = "error"
            rows.append(row)
            continue
        row["confidence"] = d.get("confidence", "")
        for f in FIELDS:
            row[f"suggested_{f}"] = _codes(d, f)
        mine = humans.get(d["sha256"], [])
        codes, still, used = merge_codes(d, mine)
        row.update(codes)
        row["waiting"] = "; ".join(still)
        row["source"] = "pending" if still else "human" if used else "auto"
        if used:
            h = max(mine, key=lambda r: str(r.get("reviewed_at", "")))
            row.update({"reviewer": h["reviewer"], "reviewed_at": h["reviewed_at"],
                        "agreed": "yes" if h["agreed"] else "no"})
        rows.append(row)
    return pd.DataFrame(rows, columns=ACCEPTED_COLUMNS)


def accept_documents(coded: str | Path, out: str | Path, store: str | Path = "annotations") -> pd.DataFrame:
    """Write the final documents table (`build_accepted`) atomically; returns it."""
    table = build_accepted(read_coded(coded), document_store(store))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_table(table, out)
    return table
