"""Documents with uncertain fields through the real Label Studio review queue: push (only the uncertain
fields are asked), annotate, pull, accept (the answers merged with the auto-accepted fields).

The server is the session's one (`label_studio`, from review_fixtures, shared with test_review.py). The
document model is trained as tests/test_documents.py trains it (bundled labelled documents, eight answers per
question) and codes three bundled example documents plus a renamed copy of one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from review_browser import Browser, open_task_page
from review_fixtures import coder

from coder.documents.batch import BatchOptions, code_folder
from coder.documents.review import DOCUMENTS_FILE, FIELDS, document_store, label_config
from coder.documents.train import train
from coder.documents.vocab import DOC_TYPES, PRIORITIES
from coder.labelstudio.client import Client
from coder.labelstudio.projects import find_project, projects_with_marker
from coder.labelstudio.state import credentials_for
from coder.returns import read_table
from coder.review.tasks import CONFIG_MARKER

pytest_plugins = ["review_server"]

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "coder" / "data" / "documents"
ANSWERS = ROOT / "coder" / "data" / "answers.jsonl"
ARTIFACTS = Path(os.environ.get("CODER_TEST_ARTIFACTS", ROOT / "tests" / "artifacts"))
EXAMPLES = ("03-information-sharing-protocol.txt", "14-advocacy-policy.md", "06-register-maintenance-protocol.pdf")


@pytest.fixture(scope="session")
def docs_model(tmp_path_factory) -> Path:
    """A document model on the labelled examples and eight answers per question (quick to embed)."""
    per_q: dict[int, int] = {}
    lines = []
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        qid = json.loads(line)["qid"]
        if per_q.get(qid, 0) < 8:
            per_q[qid] = per_q.get(qid, 0) + 1
            lines.append(line)
    answers = tmp_path_factory.mktemp("answers") / "answers-small.jsonl"
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = tmp_path_factory.mktemp("docs-model")
    train(DOCS / "labels.csv", answers, model, evaluate=False)
    return model


@pytest.fixture(scope="session")
def coded(tmp_path_factory, docs_model) -> Path:
    """Three documents coded once, then re-routed without re-coding at the highest target precision (from
    0.95 down) at which two have uncertain fields and one has none; a renamed copy of one of the two is added,
    and `coder docs code --target-precision` re-routes the folder (the re-run codes nothing again)."""
    inp = tmp_path_factory.mktemp("docs-in")
    for name in EXAMPLES:
        shutil.copy(DOCS / name, inp / name)
    out = tmp_path_factory.mktemp("docs-out") / "coded.csv"
    code_folder(inp, docs_model, out, options=BatchOptions(workers=0))
    seen = {}
    for target in (round(0.95 - 0.005 * i, 3) for i in range(71)):  # 0.95 down to 0.6
        s = code_folder(inp, docs_model, out, options=BatchOptions(workers=0, target_precision=target))
        assert s.coded == 0
        routes = {d["file"]: d["route"] for d in details(out).values()}
        seen[target] = routes
        if sorted(routes.values()) == ["auto", "review", "review"]:
            break
    else:
        pytest.fail(f"no target precision gives two documents to review and one without: {seen}")
    first_review = next(f for f in EXAMPLES if routes[f] == "review")
    shutil.copy(inp / first_review, inp / f"scan0001{Path(first_review).suffix}")
    r = coder("docs", "code", "--input", str(inp), "--model-dir", str(docs_model), "--out", str(out),
              "--target-precision", str(target), "--workers", "0")
    assert r.returncode == 0, r.stderr
    assert "0 coded, 4 already done" in r.stdout
    assert "routing: 1 document(s) need no review, 3 have uncertain fields" in r.stdout
    return out


def details(coded: Path) -> dict[str, dict]:
    return {d["file"]: d for d in json.loads(coded.with_suffix(".json").read_text())["documents"]}


def tasks_of(project: str) -> list:
    client = Client()
    pid = find_project(client, project).id
    return sorted(client.ls.tasks.list(project=pid, fields="all"), key=lambda t: t.id)


def annotate(task, change: dict[str, list[str]] | None = None) -> None:
    """Submit a review as the labeling page does: the prediction kept, or some fields' choices replaced."""
    pred = task.predictions[0]
    result = [dict(r if isinstance(r, dict) else r.model_dump()) for r in pred.result]
    for name, choices in (change or {}).items():
        result = [r for r in result if r["from_name"] != name]
        if choices:  # ticking nothing is no region at all, as in the page
            result.append({"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": choices}})
    Client().ls.annotations.create(id=task.id, result=result, parent_prediction=pred.id, lead_time=12.5)


def flipped(task) -> dict[str, list[str]]:
    """The opposite of the model on every asked field: uncertain codes it gives are unticked, the ones it
    leaves out are ticked, an uncertain type is changed."""
    out = {}
    for kind in ("sections", "questions", "priorities"):
        asked = [o["alias"] for o in task.data[f"{kind}_options"]]
        if asked:
            given = set(filter(None, task.data[f"suggested_{kind}"].split(";")))
            out[kind] = [c for c in asked if c not in given]
    if task.data["doc_type_options"]:
        out["doc_type"] = [next(t for t in DOC_TYPES if t != task.data["suggested_doc_type"])]
    return out


def push(coded: Path, project: str, *extra: str):
    return coder("docs", "push", "--coded", str(coded), "--project", project, *extra)


# ----------------------------------------------------------------------------------------------------------

def test_documents_review_loop(label_studio, coded, codebook, tmp_path):
    project, store, final = "documents loop", tmp_path / "annotations", tmp_path / "documents-final.csv"
    by_file = details(coded)
    review_docs = {d["sha256"]: d for d in by_file.values() if d["route"] == "review"}
    assert len(review_docs) == 2 and sum(d["route"] == "review" for d in by_file.values()) == 3  # + the copy
    assert all(d["fields_wait"] for d in review_docs.values())

    t0 = time.time()
    r = push(coded, project)
    assert r.returncode == 0, r.stderr
    assert f"created project '{project}'" in r.stdout
    assert "pushed 2 new document task(s); 0 already queued" in r.stdout
    assert "1 document(s) with nothing uncertain not queued" in r.stdout
    print(f"push: {time.time() - t0:.1f} s")

    tasks = tasks_of(project)
    assert sorted(t.data["key"] for t in tasks) == sorted(f"doc|{sha}" for sha in review_docs)
    assert [t.data["confidence"] for t in tasks] == sorted(t.data["confidence"] for t in tasks)
    copied = next(t for t in tasks if t.data["file"] in EXAMPLES and "same content as scan0001" in t.data["heading"])
    keep, change = tasks
    d = review_docs[change.data["sha256"]]
    wait = [f for f in d["fields"] if f["route"] == "review"]
    # Only the uncertain fields are asked, each with its passage; what is settled is text.
    asked = [o["alias"] for k in ("sections", "questions", "priorities") for o in change.data[f"{k}_options"]]
    assert sorted(asked) == sorted(f["code"] for f in wait if f["kind"] != "doc_type")
    pred = {r["from_name"]: r["value"]["choices"] for r in
            (x if isinstance(x, dict) else x.model_dump() for x in change.predictions[0].result)}
    for kind in ("sections", "questions", "priorities"):
        given = [f["code"] for f in wait if f["kind"] == kind and f["given"]]
        assert pred.get(kind, []) == given
    assert change.predictions[0].score == pytest.approx(min(f["confidence"] for f in wait))
    q = next((f for f in wait if f["kind"] == "questions"), None)
    if q is not None:
        ev = d["quotes"][str(d["evidence_all"]["questions"][q["code"]][0])]
        assert f"[p. {ev['page']}] {ev['quote'][:40]}" in change.data["text"]
        assert f"Q{q['code']} ({codebook.question(int(q['code'])).ref})" in change.data["text"]
    settled = [f for f in d["fields"] if f["kind"] == "questions" and f["route"] == "auto" and f["given"]]
    assert all(f"Q{f['code']} (" in change.data["settled"] for f in settled)

    # One reviewer keeps the model's view; on the other document they say the opposite on every asked field.
    annotate(keep)
    flip = flipped(change)
    annotate(change, flip)

    r = coder("docs", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert "recorded 2 new document review(s)" in r.stdout and "0 document(s) still waiting" in r.stdout
    recs = {x["sha256"]: x for x in document_store(store).records()}
    assert (store / DOCUMENTS_FILE).exists() and not (store / "reviews.jsonl").exists()
    k, c = recs[keep.data["sha256"]], recs[change.data["sha256"]]
    assert (k["agreed"], k["changed"], k["reviewer"], k["scope"]) == (True, [], label_studio.username, "fields")
    assert k["reviewed_at"] and k["lead_time"] == pytest.approx(12.5)
    assert c["agreed"] is False and sorted(c["changed"]) == sorted(flip)

    r = coder("docs", "accept", "--coded", str(coded), "--store", str(store), "--out", str(final))
    assert r.returncode == 0, r.stderr
    assert "4 document(s) (3 human, 1 auto)" in r.stdout
    table = read_table(final).set_index("file")
    assert set(table.index) == set(by_file) and set(table["waiting"]) == {""}
    for _, row in table[table["sha256"] == change.data["sha256"]].iterrows():
        assert (row["source"], row["agreed"], row["reviewer"]) == ("human", "no", label_studio.username)
        for kind in ("sections", "questions", "priorities"):  # auto-accepted codes + the reviewer's answers
            auto = {f["code"] for f in d["fields"] if f["kind"] == kind and f["route"] == "auto" and f["given"]}
            assert set(filter(None, row[kind].split(";"))) == auto | set(flip.get(kind, []))
        assert row["doc_type"] == flip.get("doc_type", [d["doc_type"]["code"]])[0]
        assert row["suggested_doc_type"] == d["doc_type"]["code"]
    for _, row in table[table["sha256"] == keep.data["sha256"]].iterrows():
        assert (row["source"], row["agreed"]) == ("human", "yes")
        assert all(row[f] == row[f"suggested_{f}"] for f in FIELDS)  # the model's view, kept field by field
    auto = table[table["source"] == "auto"]
    assert len(auto) == 1 and by_file[auto.index[0]]["route"] == "auto"
    assert auto["doc_type"].iat[0] == by_file[auto.index[0]]["doc_type"]["code"]
    copy = table.loc[[f for f in table.index if f.startswith("scan0001")][0]]
    assert copy["source"] == "human" and copy["sha256"] == copied.data["sha256"], "the copy takes its codes"

    # Push and pull again: nothing doubles.
    r = push(coded, project)
    assert r.returncode == 0 and "pushed 0 new document task(s); 2 already queued" in r.stdout, r.stdout + r.stderr
    assert len(tasks_of(project)) == 2
    r = coder("docs", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0 and "recorded 0 new document review(s)" in r.stdout and "(2 already" in r.stdout
    assert len(document_store(store).records()) == 2

    # The answers' queue never takes the documents project for one of its own.
    assert project not in [p.title for p in projects_with_marker(Client(), CONFIG_MARKER)]


def test_a_human_document_code_survives_a_later_model_run(label_studio, coded, tmp_path):
    """A later run that would accept every field automatically: the reviewer's answers still win."""
    project, store = "documents survive", tmp_path / "annotations"
    assert push(coded, project).returncode == 0
    task = tasks_of(project)[0]
    flip = flipped(task)
    annotate(task, flip)
    assert coder("docs", "pull", "--project", project, "--store", str(store)).returncode == 0
    data = json.loads(coded.with_suffix(".json").read_text())
    for doc in data["documents"]:
        doc["route"] = "auto"
        for f in doc.get("fields", []):
            f["route"] = "auto"
    later = tmp_path / "later.csv"
    shutil.copy(coded, later)
    later.with_suffix(".json").write_text(json.dumps(data))
    r = coder("docs", "accept", "--coded", str(later), "--store", str(store), "--out", str(tmp_path / "f.csv"))
    assert r.returncode == 0, r.stderr
    rows = read_table(tmp_path / "f.csv")
    mine = rows[rows["sha256"] == task.data["sha256"]]
    assert len(mine) >= 1 and set(mine["source"]) == {"human"}
    kind = next(k for k in ("questions", "sections", "priorities") if k in flip)
    for cell in mine[kind]:
        got = set(filter(None, cell.split(";")))
        asked = {o["alias"] for o in task.data[f"{kind}_options"]}
        assert got & asked == set(flip[kind])


def test_a_code_that_was_not_asked_is_reported_not_recorded(label_studio, coded, codebook, tmp_path):
    project, store = "documents not asked", tmp_path / "annotations"
    assert push(coded, project).returncode == 0
    task = tasks_of(project)[0]
    kind = next(k for k in ("questions", "sections", "priorities") if task.data[f"{k}_options"])
    asked = {o["alias"] for o in task.data[f"{kind}_options"]}
    other = {"questions": [str(q.id) for q in codebook.questions], "sections": [str(s.id) for s in
                                                                               codebook.sections],
             "priorities": list(PRIORITIES)}[kind]
    annotate(task, {kind: [next(c for c in other if c not in asked)]})
    r = coder("docs", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 1 and "was not asked about in this task" in r.stdout + r.stderr
    assert not (store / DOCUMENTS_FILE).exists() or not document_store(store).records()


def test_hand_edited_documents_config_is_reported(label_studio, coded, codebook):
    project = "documents edited"
    assert push(coded, project).returncode == 0
    client = Client()
    pid = find_project(client, project).id
    client.ls.projects.update(id=pid, label_config=label_config(codebook).replace(
        'name="doc_type" toName="text" choice="single"', 'name="doc_type" toName="text" choice="multiple"'))

    r = push(coded, project)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"labeling config of Label Studio project '{project}' (id {pid}) was edited by hand" in r.stderr
    assert "`coder docs push ... --reset-config`" in r.stderr

    r = push(coded, project, "--reset-config")
    assert r.returncode == 0, r.stderr
    assert "pushed 0 new document task(s); 2 already queued" in r.stdout


def test_a_reviewer_sees_settled_codes_and_only_the_uncertain_fields(label_studio, coded, codebook, tmp_path):
    """In a real browser: the settled codes are text, only this document's uncertain fields are choices, and
    the model's view of them is pre-selected (the aliases hold the codes)."""
    project = "documents browser"
    assert push(coded, project).returncode == 0
    task = tasks_of(project)[0]
    pred = [x if isinstance(x, dict) else x.model_dump() for x in task.predictions[0].result]
    n_expected = sum(len(r["value"]["choices"]) for r in pred)
    n_options = sum(len(task.data[f"{k}_options"]) for k in FIELDS)
    creds = credentials_for(Path(label_studio.data_dir))
    pid = find_project(Client(), project).id
    with Browser() as browser:
        open_task_page(browser, label_studio.url, creds["username"], creds["password"], pid, task.id)
        checked = browser.evaluate("document.querySelectorAll('.lsf-choice__checkbox input:checked').length")
        boxes = browser.evaluate("document.querySelectorAll('.lsf-choice__checkbox input').length")
        page_text = browser.evaluate("document.body.innerText")
        shot = browser.screenshot(tmp_path / "label-studio-document-task.png")
    assert checked == n_expected and boxes == n_options
    assert task.data["settled"].splitlines()[0] in page_text
    assert task.data["text"].splitlines()[0][:50] in page_text
    asked = {o["alias"] for o in task.data["questions_options"]}
    not_asked = next(q for q in codebook.questions if str(q.id) not in asked)
    assert f"Q{not_asked.id} ({not_asked.ref}) {not_asked.text[:40]}" not in page_text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "label-studio-document-task.png")


def test_push_without_the_details_json_is_one_clear_line(tmp_path):
    csv = tmp_path / "coded.csv"
    csv.write_text("file,status\n", encoding="utf-8")
    r = coder("docs", "push", "--coded", str(csv))
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and "coded.json beside it" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
