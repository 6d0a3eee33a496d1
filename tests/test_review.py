"""The review loop against a real Label Studio server, started once per session the way users start it.

Set CODER_SKIP_LABEL_STUDIO=1 to skip these (CI does not). The server runs on a test-only port (18080 and
up) with a temporary data folder and CODER_HOME, so a user's own server and settings are never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from review_browser import Browser, open_task_page
from review_fixtures import coder, make_suggestions, sign_up_reviewer

from coder.codebook import format_codes
from coder.errors import InputError
from coder.labelstudio.client import Client, invite_url
from coder.labelstudio.projects import find_project
from coder.labelstudio.server import start_server, stop_server
from coder.labelstudio.state import connection, credentials_for, state_dir
from coder.returns import read_returns, read_table
from coder.review import push as push_lib
from coder.review.groups import count_tasks
from coder.review.status import review_status
from coder.review.store import ReviewStore
from coder.review.tasks import labeling_config
from coder.suggestions import read_suggestions

# The session's server (fixture `label_studio`) lives in review_server, shared with test_documents_review.py:
# as a plugin it is one fixture, so one server per session whichever of the files run.
pytest_plugins = ["review_server"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("CODER_TEST_ARTIFACTS", ROOT / "tests" / "artifacts"))


@pytest.fixture(scope="session")
def suggestions(tmp_path_factory: pytest.TempPathFactory, codebook, returns_path) -> Path:
    path = tmp_path_factory.mktemp("suggestions") / "suggestions.csv"
    make_suggestions(returns_path, codebook, path, localities=3)
    return path


def push(suggestions: Path, project: str, store: Path) -> subprocess.CompletedProcess:
    return coder("review", "push", "--suggestions", str(suggestions), "--project", project,
                 "--store", str(store))


def tasks_of(project: str) -> list:
    client = Client()
    pid = find_project(client, project).id
    return list(client.ls.tasks.list(project=pid, fields="all"))


def annotate(task, codes: list[str], api_key: str | None = None, cancelled: bool = False) -> None:
    """Submit a review through the API as the labeling page does: the prediction's choice, kept or changed."""
    client = Client(api_key=api_key) if api_key else Client()
    pred = task.predictions[0]
    item = dict(pred.result[0] if isinstance(pred.result[0], dict) else pred.result[0].model_dump())
    item["value"] = {"choices": codes}
    client.ls.annotations.create(id=task.id, result=[] if cancelled else [item], parent_prediction=pred.id,
                                 was_cancelled=cancelled, lead_time=4.2)


def a_different_code(codebook, qid: int, codes: str) -> str:
    q = codebook.question(qid)
    return next(c for c in q.code_values if c != codes)


# ----------------------------------------------------------------------------------------------------------

def test_full_review_loop(label_studio, suggestions, codebook, tmp_path):
    store, out = tmp_path / "annotations", tmp_path / "accepted.csv"
    project = "loop"
    sugg = read_table(suggestions)
    n_review = int((sugg["route"] == "review").sum())
    n_tasks = count_tasks(sugg[sugg["route"] == "review"])  # identical answers share a task

    r = push(suggestions, project, store)
    assert r.returncode == 0, r.stderr
    assert f"pushed {n_tasks} new task(s) for {n_review} answer(s)" in r.stdout

    tasks = tasks_of(project)
    assert len(tasks) == n_tasks
    scores = [t.data["confidence"] for t in sorted(tasks, key=lambda t: t.id)]
    assert scores == sorted(scores), "the queue starts with the least confident suggestion"

    agree, change, skip = [t for t in tasks if t.data["areas"] == 1][:3]  # grouped: test_review_groups.py
    annotate(agree, agree.data["suggested"].split(";"))
    new_code = a_different_code(codebook, change.data["qid"], change.data["suggested"])
    annotate(change, [new_code])
    annotate(skip, [], cancelled=True)

    r = coder("review", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert "recorded 2 new review(s)" in r.stdout and "1 skipped" in r.stdout

    r = coder("accept", "--suggestions", str(suggestions), "--store", str(store), "--out", str(out))
    assert r.returncode == 0, r.stderr
    table = read_table(out)
    assert len(table) == len(sugg)
    assert not table.duplicated(["round", "locality", "qid"]).any()
    by_key = table.set_index(["round", "locality", "qid"])

    row = by_key.loc[(agree.data["round"], agree.data["locality"], str(agree.data["qid"]))]
    assert (row["source"], row["codes"], row["agreed"]) == ("human", agree.data["suggested"], "yes")
    assert row["reviewer"] == label_studio.username and row["reviewed_at"]
    assert float(row["confidence"]) == pytest.approx(agree.data["confidence"])

    row = by_key.loc[(change.data["round"], change.data["locality"], str(change.data["qid"]))]
    assert (row["source"], row["codes"], row["agreed"]) == ("human", new_code, "no")
    assert row["suggested"] == change.data["suggested"]

    row = by_key.loc[(skip.data["round"], skip.data["locality"], str(skip.data["qid"]))]
    assert (row["source"], row["codes"]) == ("pending", ""), "a skipped task stays in the queue"

    sources = table["source"].value_counts()
    assert sources["human"] == 2 and sources["pending"] == n_review - 2
    assert sources["auto"] + sources.get("rule", 0) == int((sugg["route"] == "auto").sum())
    # Reports and retraining read the table as returns.
    assert len(read_returns(out, codebook)) == len(table)

    # Push and pull again: nothing doubles.
    r = push(suggestions, project, store)
    assert r.returncode == 0 and "pushed 0 new task(s)" in r.stdout and f"{n_tasks} already" in r.stdout
    assert len(tasks_of(project)) == n_tasks
    r = coder("review", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0 and "recorded 0 new review(s)" in r.stdout
    assert len(ReviewStore(store).records()) == 2

    r = coder("status", "--store", str(store))
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "2014-05" in x)
    assert [c.strip() for c in line.strip("│┃ ").split("│")][:4] == [
        "2014-05", str(sources["auto"] + sources.get("rule", 0)), str(n_review - 2), "2"]
    assert "1 (50%)" in line
    assert f"Q{change.data['qid']}" in r.stdout, "the corrected question is listed"


def test_a_human_code_survives_a_later_model_run(label_studio, suggestions, codebook, tmp_path):
    project, store, out = "survives", tmp_path / "annotations", tmp_path / "accepted.csv"
    assert push(suggestions, project, store).returncode == 0
    task = tasks_of(project)[0]
    human = a_different_code(codebook, task.data["qid"], task.data["suggested"])
    annotate(task, [human])
    assert coder("review", "pull", "--project", project, "--store", str(store)).returncode == 0
    # A new model run now auto-codes that answer with confidence: the human code still wins.
    rerun = read_table(suggestions)
    hit = (rerun["locality"] == task.data["locality"]) & (rerun["qid"] == str(task.data["qid"]))
    rerun.loc[hit, ["route", "confidence"]] = ["auto", "0.99"]
    rerun_path = tmp_path / "suggestions-rerun.csv"
    rerun.to_csv(rerun_path, index=False)
    r = coder("accept", "--suggestions", str(rerun_path), "--store", str(store), "--out", str(out))
    assert r.returncode == 0, r.stderr
    row = read_table(out).set_index(["locality", "qid"]).loc[(task.data["locality"], str(task.data["qid"]))]
    assert (row["source"], row["codes"]) == ("human", human)


def test_server_not_running_is_one_clear_line(suggestions, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = coder("review", "push", "--suggestions", str(suggestions), "--store", str(tmp_path),
              env={"LABEL_STUDIO_URL": f"http://127.0.0.1:{port}", "LABEL_STUDIO_API_KEY": "anything"})
    assert r.returncode == 2
    assert r.stderr.strip() == (f"error: Label Studio is not running at http://127.0.0.1:{port} (connection"
                                f" refused while checking the API key): start it with"
                                f" `coder review server start`")


def test_wrong_api_key_is_one_clear_line(label_studio, suggestions, tmp_path):
    r = coder("review", "pull", "--store", str(tmp_path),
              env={"LABEL_STUDIO_URL": label_studio.url, "LABEL_STUDIO_API_KEY": "not-the-key-0000"})
    assert r.returncode == 2
    assert "refused the API key (401" in r.stderr and "LABEL_STUDIO_API_KEY" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_the_api_key_is_kept_private_and_never_printed(label_studio):
    creds = state_dir() / "credentials.json"
    assert creds.stat().st_mode & 0o777 == 0o600
    token = connection()[1]
    assert token and token in creds.read_text()
    log = Path(label_studio.log).read_text(errors="replace")
    assert token not in log


def test_busy_port_is_refused_before_starting(label_studio):
    r = coder("review", "server", "start", "--port", str(label_studio.port), "--data-dir", "/nonexistent/x")
    assert r.returncode == 2
    assert "already running" in r.stderr or f"port {label_studio.port} is already in use" in r.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        env = {"CODER_HOME": str(Path(os.environ["CODER_HOME"]) / "other-user")}
        r = coder("review", "server", "start", "--port", str(busy), env=env)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"error: port {busy} is already in use on 127.0.0.1 (Label Studio would "
                                f"silently move to another port); choose a free one with --port")


def test_hand_edited_config_is_reported(label_studio, suggestions, codebook, tmp_path):
    project = "edited"
    args = ["review", "push", "--suggestions", str(suggestions), "--project", project,
            "--store", str(tmp_path)]
    assert coder(*args).returncode == 0
    client = Client()
    pid = find_project(client, project).id
    edited = labeling_config(codebook).replace('choice="single"', 'choice="multiple"')
    client.ls.projects.update(id=pid, label_config=edited)

    r = coder(*args)
    assert r.returncode == 2
    assert f"labeling config of Label Studio project '{project}' (id {pid}) was edited by hand" in r.stderr

    r = coder(*args, "--reset-config")
    assert r.returncode == 0, r.stderr
    assert "pushed 0 new task(s)" in r.stdout
    assert client.ls.projects.get(id=pid).label_config.strip() == labeling_config(codebook).strip()


def test_a_code_not_in_the_codebook_is_reported_not_recorded(label_studio, suggestions, codebook, tmp_path):
    project, store = "bad-code", tmp_path / "annotations"
    assert push(suggestions, project, store).returncode == 0
    tasks = [t for t in tasks_of(project) if not codebook.question(t.data["qid"]).multi]
    bad, good = tasks[0], tasks[1]
    annotate(bad, ["97"])
    annotate(good, good.data["suggested"].split(";"))

    r = coder("review", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 1
    q = codebook.question(bad.data["qid"])
    assert f"task {bad.id} ({bad.data['round']}, {bad.data['locality']}, Q{q.id})" in r.stderr
    assert f"code '97' is not a code of question {q.id} ({q.ref})" in r.stderr
    assert "recorded 1 new review(s)" in r.stdout
    recorded = ReviewStore(store).records()
    assert [(x["locality"], x["qid"]) for x in recorded] == [(good.data["locality"], good.data["qid"])]


def test_two_reviewers_give_kappa_per_question(label_studio, suggestions, codebook, tmp_path):
    from sklearn.metrics import cohen_kappa_score

    project, store = "two-reviewers", tmp_path / "annotations"
    assert push(suggestions, project, store).returncode == 0
    second_key = sign_up_reviewer(invite_url(), "second.reviewer@coder.local", "second-Reviewer-pw-1")
    tasks = sorted(tasks_of(project), key=lambda t: (t.data["qid"], t.id))
    qid = pd.Series([t.data["qid"] for t in tasks]).value_counts().index[0]
    same_q = [t for t in tasks if t.data["qid"] == qid][:3]
    assert len(same_q) >= 2
    first, second = [], []
    for i, t in enumerate(same_q):
        a = t.data["suggested"]
        b = a if i % 2 == 0 else a_different_code(codebook, qid, a)
        annotate(t, a.split(";"))
        annotate(t, b.split(";"), api_key=second_key)
        first.append(format_codes(a.split(";")))
        second.append(format_codes(b.split(";")))

    r = coder("review", "pull", "--project", project, "--store", str(store))
    assert r.returncode == 0, r.stderr
    reviewers = {x["reviewer"] for x in ReviewStore(store).records()}
    assert reviewers == {label_studio.username, "second.reviewer@coder.local"}

    expected = cohen_kappa_score(first, second)
    kappa = next(k for k in review_status(store, codebook)["kappa"] if k["qid"] == qid)
    assert kappa["tasks"] == len(first)
    assert kappa["agreement"] == sum(a == b for a, b in zip(first, second, strict=True)) / len(first)
    assert kappa["kappa"] == (None if pd.isna(expected) else pytest.approx(expected))
    r = coder("status", "--store", str(store))
    assert r.returncode == 0, r.stderr
    assert "Cohen's kappa" in r.stdout and f"Q{qid} ({codebook.question(qid).ref})" in r.stdout


def test_a_reviewer_sees_the_answer_and_the_preselected_code(label_studio, suggestions, codebook, tmp_path):
    project = "browser"
    assert push(suggestions, project, tmp_path).returncode == 0
    task = min(tasks_of(project), key=lambda t: t.id)  # the first task in the queue
    creds = credentials_for(Path(label_studio.data_dir))
    q = codebook.question(task.data["qid"])
    expected = [f"{c} - {q.label(c)}" for c in task.data["suggested"].split(";")]
    pid = find_project(Client(), project).id
    with Browser() as browser:
        open_task_page(browser, label_studio.url, creds["username"], creds["password"], pid, task.id)
        shot = browser.screenshot(tmp_path / "label-studio-task.png")
        checked = browser.evaluate("[...document.querySelectorAll('.lsf-choice__checkbox')]"
                                   ".filter(l => l.querySelector('input:checked'))"
                                   ".map(l => l.innerText.replace(/\\[\\d+\\]$/, '').trim())")
        page_text = browser.evaluate("document.body.innerText")
    assert checked == expected
    first_line = task.data["text"].splitlines()[0][:60]
    assert first_line in page_text and f"Q{q.id} ({q.ref})" in page_text
    assert shot.stat().st_size > 20_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "label-studio-task.png")


def test_an_interrupted_push_finishes_on_rerun_without_duplicates(label_studio, suggestions, codebook):
    """The server dies mid-push (stopped after the first batch); started again, the same push completes."""
    project = "interrupted"
    df = read_suggestions(suggestions, codebook)
    n_review = count_tasks(df[df["route"] == "review"])
    stopped = []

    def stop_after_first_batch(done: int, total: int) -> None:
        if done and not stopped:
            stopped.append(done)
            stop_server(echo=lambda m: None)

    with pytest.raises(InputError, match="not running|stopped answering"):
        push_lib.push(df, codebook, project=project, batch_size=10, progress=stop_after_first_batch)
    assert stopped == [10]
    start_server(port=label_studio.port, data_dir=label_studio.data_dir, echo=lambda m: None)
    assert len(tasks_of(project)) == 10

    result = push_lib.push(df, codebook, project=project, batch_size=10)
    assert (result.added, result.already) == (n_review - 10, 10)
    keys = [t.data["key"] for t in tasks_of(project)]
    assert len(keys) == n_review == len(set(keys))


def test_a_pull_killed_mid_write_keeps_the_store_whole_and_a_rerun_completes(label_studio, suggestions,
                                                                             tmp_path):
    """SIGKILL `coder review pull` while it writes the store: the previous reviews stay whole (every line
    parses, none lost), and pulling again records each decision exactly once."""
    import signal
    import time

    from cli_runner import CODER

    project, store_dir = "killed-pull", tmp_path / "annotations"
    assert push(suggestions, project, store_dir).returncode == 0
    done = [t for t in tasks_of(project) if t.data["areas"] == 1][:4]
    for t in done:
        annotate(t, t.data["suggested"].split(";"))
    store = ReviewStore(store_dir)
    # a season of earlier reviews (~8 MB), so the rewrite takes long enough to be caught
    store.add([{"record_id": f"earlier|{i}", "annotation": f"earlier|{i}", "codes": "1", "text": "y" * 20_000}
               for i in range(400)])
    before = store.reviews_path.read_bytes()
    cmd = [CODER, "review", "pull", "--project", project, "--store", str(store_dir)]
    caught = False
    for _ in range(5):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < 120:
            if any(store_dir.glob(".reviews.jsonl.*.tmp")):
                os.kill(proc.pid, signal.SIGKILL)
                caught = True
                break
        proc.wait()
        if caught:
            break
        store.reviews_path.write_bytes(before)  # the pull finished first: put the store back and try again
    assert caught, "coder review pull was never caught writing"
    assert store.reviews_path.read_bytes() == before, "the killed pull left the previous store as it was"

    r = coder("review", "pull", "--project", project, "--store", str(store_dir))
    assert r.returncode == 0, r.stderr
    assert f"recorded {len(done)} new review(s)" in r.stdout
    records = ReviewStore(store_dir).records()
    assert len(records) == 400 + len(done) == len({x["record_id"] for x in records})
    r = coder("review", "pull", "--project", project, "--store", str(store_dir))
    assert r.returncode == 0 and "recorded 0 new review(s)" in r.stdout
