"""Bring completed reviews of answers back from Label Studio, checked against the codebook, into the store.
"""

from __future__ import annotations

from pathlib import Path

from coder.codebook import Codebook, format_codes
from coder.errors import InputError
from coder.labelstudio.client import Client
from coder.labelstudio.projects import Project, find_project, projects_with_marker
from coder.labelstudio.sync import (
    PullResult,
    annotation_choices,
    annotation_provenance,
    collect_annotations,
    reviewer_of,
)
from coder.review.store import ReviewStore
from coder.review.tasks import COMMENT, CONFIG_MARKER, MULTI, SINGLE


def fetch_reviews(codebook: Codebook, project: str | None = None,
                  client: Client | None = None) -> PullResult:
    """Read every completed annotation of the project(s) as a review record (codes checked by the codebook).

    A cancelled (skipped) annotation is no decision: the task stays in the queue. An annotation whose code is
    not a code of its question is reported in `problems` and left out; the others are still returned.
    """
    client = client or Client()
    client.whoami()
    projects = [find_project(client, project)] if project else projects_with_marker(client, CONFIG_MARKER)
    if not projects:
        raise InputError(f"Label Studio at {client.url} has no project made by coder; push one first "
                         f"(`coder review push`)")
    return collect_annotations(client, projects, lambda a, data, proj, users, url, task_id: review_record(
        a, data, proj, users, codebook, url, task_id))


def review_record(a: dict, data: dict, proj: Project, users: dict[int, str], codebook: Codebook,
                   url: str, task_id: int) -> tuple[list[dict], str | None]:
    where = (f"project {proj.title!r}, task {task_id} ({data.get('round')}, {data.get('locality')}, "
             f"Q{data.get('qid')}), annotation {a.get('id')}")
    if not data.get("key"):
        return [], f"{where}: the task was not made by coder (no key in its data); ignored"
    by_control, comment = annotation_choices(a, COMMENT)
    chosen = by_control.get(SINGLE, []) + by_control.get(MULTI, [])
    reviewer = reviewer_of(a, users)
    if not chosen:
        return [], f"{where} by {reviewer}: no code chosen; not recorded"
    try:
        codes = format_codes(codebook.parse_codes(int(data["qid"]), ";".join(chosen)))
    except (ValueError, KeyError) as e:
        msg = str(e).strip("'\"")
        return [], (f"{where} by {reviewer}: {msg}; not recorded (fix the annotation in Label Studio, "
                    f"then pull again)")
    copies = data.get("copies") or [data]  # tasks pushed before grouping hold one answer, in `data` itself
    if not isinstance(copies, list) or not all(isinstance(c, dict) for c in copies):
        return [], f"{where}: the task's copies are not a list of answers (not made by coder); not recorded"
    blank = [k for k, v in (("round", data.get("round")), *(("locality", c.get("locality")) for c in copies))
             if not str(v if v is not None else "").strip()]
    if blank:  # a record without its answer's key could never be matched, and would stop accept and status
        return [], f"{where}: the task's {blank[0]} is blank (not made by coder); not recorded"
    base = annotation_provenance(a, proj, url, task_id, reviewer, comment)
    records = []
    for c in copies:
        suggested = str(c.get("suggested", ""))
        rec = {
            "round": str(data.get("round", "")), "locality": str(c.get("locality", "")),
            "region": str(c.get("region", "")), "qid": int(data["qid"]), "ref": str(data.get("ref", "")),
            "text": str(c.get("text", data.get("text", ""))), "support": str(c.get("support", "")),
            "source_id": str(c.get("source_id", "")),
            "codes": codes, "suggested": suggested, "confidence": c.get("confidence", ""),
            "model_version": str(c.get("model_version", "")), "agreed": codes == suggested, **base,
        }
        if len(copies) > 1:  # one decision for every copy: each copy's record names the task and its areas
            rec["record_id"] = f"{base['record_id']}|{rec['locality']}"
            rec["annotation"] = f"{base['annotation']}|{rec['locality']}"
            rec["group"] = {"task_key": str(data.get("key", "")), "areas": len(copies),
                            "localities": [str(x.get("locality", "")) for x in copies]}
        records.append(rec)
    return records, None


def pull(store: str | Path, codebook: Codebook, project: str | None = None,
         client: Client | None = None) -> tuple[PullResult, int]:
    """Fetch completed annotations and add the new ones to the store; returns (result, number recorded)."""

    result = fetch_reviews(codebook, project=project, client=client)
    added = ReviewStore(store).add(result.new)
    return result, added
