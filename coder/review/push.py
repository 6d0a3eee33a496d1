"""Queue the answers routed to review in Label Studio, least-confident (or highest-priority) first.

One project per round (default title ``coder <round>``; ``--project NAME`` names it instead): a round is one
review campaign, and its queue is ordered across every question, which per-question projects would break up.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from coder.codebook import Codebook
from coder.labelstudio.client import Client
from coder.labelstudio.projects import Project, ensure_project
from coder.labelstudio.sync import PushResult, existing_task_data, queue_tasks
from coder.review.groups import group_rows
from coder.review.tasks import answer_keys_of, group_task, labeling_config
from coder.suggestions import task_key


def project_title_for(round_: str, project: str | None) -> str:
    return project or f"coder {round_}"


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


def review_tasks(review: pd.DataFrame, codebook: Codebook, covered: set[str] | None = None) -> list[dict]:
    """The tasks for `review` rows (queue order): one per written answer, grouped over identical copies.

    Copies whose answer a task already decides (`covered`: round|locality|qid keys) are left out, so an area
    whose return arrives later gets its own task instead of being dropped from an old one.
    """
    if covered:
        keys = [task_key(r, loc, q) for r, loc, q in zip(review["round"], review["locality"], review["qid"],
                                                            strict=True)]
        review = review[[k not in covered for k in keys]]
    return [group_task(rows, codebook) for rows in group_rows(review)]


def push(suggestions: pd.DataFrame, codebook: Codebook, project: str | None = None,
         client: Client | None = None, batch_size: int = 50, reset_config: bool = False,
         progress: Callable[[int, int], None] | None = None) -> PushResult:
    """Queue every `review` row as a task, least-confident first, in batches; skip tasks already queued.

    Identical answers to one question in a round are one task (`coder.review.groups`): one decision for
    every copy.

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
        proj = ensure_project(client, str(title), labeling_config(codebook),
                              f"Review queue made by coder from codebook {codebook.name}. Tasks are ordered "
                              f"least-confident first.", reset_config=reset_config)
        existing = [set(answer_keys_of(d)) for d in existing_task_data(client, proj.id) if d.get("key")]
        wanted = {task_key(r, loc, q) for r, loc, q in zip(rows["round"], rows["locality"], rows["qid"],
                                                           strict=True)}
        result.already += sum(1 for keys in existing if keys & wanted)
        tasks = review_tasks(rows, codebook, set().union(*existing) if existing else set())
        result.answers += sum(len(t["data"]["copies"]) for t in tasks)
        plan.append((proj, tasks))
    return queue_tasks(client, plan, result, batch_size=batch_size, progress=progress)
