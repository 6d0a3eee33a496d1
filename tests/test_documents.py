"""Batch coding of good-practice documents: extraction, passages, training, coding, resuming, bad files,
search.

The model here is trained on the bundled labelled documents and a slice of the answer bank (a few answers per
question) so the suite stays quick; bench/bench_documents.py measures quality with the whole bank.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import CODER

from coder.documents.batch import CSV_COLUMNS, BatchOptions, code_folder
from coder.documents.extract import DocumentError, extract, extract_bytes, list_documents
from coder.documents.passages import split_passages
from coder.documents.review import document_tasks, label_config, read_coded
from coder.documents.search import search
from coder.documents.train import load_model, train
from coder.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "coder" / "data" / "documents"
ANSWERS = ROOT / "coder" / "data" / "answers.jsonl"

LOREM = ("The Council and the CCG have agreed a joint protocol for sharing information with care providers. "
         "Risk assessments are developed jointly with housing providers before anyone moves. ")


def make_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    """A real text PDF, one string per page (reportlab wraps nothing: one line per sentence)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, encrypt=password)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            for i in range(0, len(line), 90):
                c.drawString(50, y, line[i:i + 90])
                y -= 14
        c.showPage()
    c.save()
    return path


def make_scanned_pdf(path: Path, n_pages: int = 2) -> Path:
    """A PDF of pictures only (what a scanner makes): no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(n_pages):
        for k in range(40):
            c.rect(50, 780 - k * 18, 400 + (k % 5) * 20, 10, fill=1)
        c.showPage()
    c.save()
    return path


def make_docx(path: Path, paragraphs: list[str], page_break_after: int | None = None) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Joint Protocol for Sharing Information", level=0)
    for i, p in enumerate(paragraphs):
        d.add_paragraph(p)
        if page_break_after is not None and i == page_break_after:
            d.add_page_break()
    d.save(str(path))
    return path


@pytest.fixture(scope="session")
def small_answers(tmp_path_factory) -> Path:
    """Eight answers per question from the bank: enough signal, quick to embed."""
    per_q: dict[int, int] = {}
    lines = []
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if per_q.get(d["qid"], 0) < 8:
            per_q[d["qid"]] = per_q.get(d["qid"], 0) + 1
            lines.append(line)
    path = tmp_path_factory.mktemp("answers") / "answers-small.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, small_answers) -> Path:
    d = tmp_path_factory.mktemp("docs-model")
    train(DOCS / "labels.csv", small_answers, d, evaluate=False)
    return d


@pytest.fixture(scope="session")
def coded(tmp_path_factory, model_dir) -> tuple[Path, Path]:
    """The bundled example documents coded once (input folder, output CSV)."""
    inp = tmp_path_factory.mktemp("in")
    for f in list_documents(DOCS):
        shutil.copy(f, inp / f.name)
    out = tmp_path_factory.mktemp("out") / "coded.csv"
    code_folder(inp, model_dir, out, options=BatchOptions(workers=0))
    return inp, out


# --- extraction and passages -----------------------------------------------------------------------------

def test_every_format_gives_text_and_pdf_pages_are_numbered(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", ["First page. " + LOREM, "Second page about transition planning."])
    ex = extract(pdf)
    assert ex.format == "pdf" and [p.number for p in ex.pages] == [1, 2]
    assert "transition planning" in ex.pages[1].text

    docx_ = make_docx(tmp_path / "b.docx", [LOREM, "After the break: pooled budget."], page_break_after=0)
    ex = extract(docx_)
    assert ex.format == "docx" and len(ex.pages) == 2 and "pooled budget" in ex.pages[1].text

    (tmp_path / "c.html").write_text("<html><head><title>t</title><style>p{}</style></head><body>"
                                     f"<h1>Plan</h1><p>{LOREM}</p><script>var x=1;</script></body></html>",
                                     encoding="utf-8")
    ex = extract(tmp_path / "c.html")
    assert ex.format == "html" and "joint protocol" in ex.text and "var x" not in ex.text

    (tmp_path / "d.md").write_text(f"# Policy\n\n**Owner:** the Council\n\n{LOREM}\n", encoding="utf-8")
    (tmp_path / "e.txt").write_text(f"Plan\n====\n\n{LOREM}\fPage two text here.\n", encoding="cp1252")
    assert extract(tmp_path / "d.md").format == "md"
    assert [p.number for p in extract(tmp_path / "e.txt").pages] == [1, 2]


def test_format_comes_from_content_not_name(tmp_path):
    # A Word file and a web page that a scanner or mail filter renamed.
    shutil.copy(DOCS / "05-transition-protocol.docx", tmp_path / "scan0001.pdf")
    (tmp_path / "scan0002.pdf").write_text(f"<!DOCTYPE html><html><body><p>{LOREM}</p></body></html>")
    assert extract(tmp_path / "scan0001.pdf").format == "docx"
    assert extract(tmp_path / "scan0002.pdf").format == "html"


def test_passages_are_a_few_sentences_on_one_page():
    ex = extract(DOCS / "07-s75-partnership-agreement-extract.pdf")
    passages = split_passages(ex)
    assert len(passages) > 10
    assert {p.page for p in passages} == {p.number for p in ex.pages}
    words = [len(p.text.split()) for p in passages]
    assert max(words) <= 110 and np.median(words) >= 20
    # PDF lines wrapped at the page width are joined back into sentences.
    assert any("pooled" in p.text.lower() for p in passages)


@pytest.mark.parametrize("kind", ["encrypted", "corrupt", "needs-ocr", "empty", "too-large", "unsupported"])
def test_each_bad_kind_is_named(tmp_path, kind):
    if kind == "encrypted":
        data = make_pdf(tmp_path / "x.pdf", [LOREM], password="secret").read_bytes()
        suffix = ".pdf"
    elif kind == "corrupt":
        data = make_pdf(tmp_path / "x.pdf", [LOREM]).read_bytes()[:300]
        suffix = ".pdf"
    elif kind == "needs-ocr":
        data, suffix = make_scanned_pdf(tmp_path / "x.pdf").read_bytes(), ".pdf"
    elif kind == "empty":
        data, suffix = b"   \n", ".txt"
    elif kind == "too-large":
        data, suffix = LOREM.encode() * 100, ".txt"
    else:
        data, suffix = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".png"
    with pytest.raises(DocumentError) as e:
        extract_bytes(data, suffix, max_bytes=5000)
    assert e.value.kind == kind


# --- training and the model on disk ----------------------------------------------------------------------

def test_model_is_saved_with_skops_and_a_manifest(model_dir, codebook):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["codebook_sha256"] == codebook.sha256
    assert len(manifest["data_sha256"]) == 64 and manifest["labelled_documents"] == 24
    assert (model_dir / "documents.skops").exists()
    assert not list(model_dir.glob("*.pkl")) and not list(model_dir.glob("*.pickle"))
    model, _ = load_model(model_dir)
    assert model.pair_clf_.coef_.shape[0] == 1


def test_a_tampered_model_file_is_refused(model_dir, tmp_path):
    bad = tmp_path / "m"
    shutil.copytree(model_dir, bad)
    with open(bad / "documents.skops", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(InputError, match="does not match"):
        load_model(bad)


def test_questions_without_answers_fall_back_to_codebook_wording(tmp_path, small_answers):
    # Remove every answer to question 59 (market capacity): no labelled document has it either.
    lines = [ln for ln in small_answers.read_text().splitlines() if json.loads(ln)["qid"] != 59]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(lines) + "\n")
    manifest = train(DOCS / "labels.csv", answers, tmp_path / "m", evaluate=False)
    assert manifest["fallbacks"]["questions"] == {"59": "codebook wording"}
    model, _ = load_model(tmp_path / "m")
    assert model.basis_[59] == "codebook wording" and model.basis_[32] == "answers+documents"


def test_bad_labels_file_names_row_and_column(tmp_path, small_answers):
    shutil.copy(DOCS / "03-information-sharing-protocol.txt", tmp_path)
    (tmp_path / "labels.csv").write_text(
        "file,title,doc_type,sections,questions,priorities\n"
        "03-information-sharing-protocol.txt,t,leaflet,5,32,keeping people safe\n")
    with pytest.raises(InputError) as e:
        train(tmp_path / "labels.csv", small_answers, tmp_path / "m")
    assert e.value.row == 2 and e.value.column == "doc_type"


# --- coding a batch --------------------------------------------------------------------------------------

def test_coded_csv_has_one_row_per_file_and_evidence_beside_it(coded, codebook):
    inp, out = coded
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns) == CSV_COLUMNS
    assert sorted(df["file"]) == sorted(p.name for p in list_documents(inp))
    assert set(df["status"]) == {"ok"} and set(df["route"]) <= {"auto", "review"}
    labels = pd.read_csv(DOCS / "labels.csv", dtype=str)
    merged = df.merge(labels, on="file", suffixes=("", "_true"))
    # Trained on these documents: the type is right nearly everywhere.
    assert (merged["doc_type"] == merged["doc_type_true"]).mean() >= 0.9
    details = json.loads(out.with_suffix(".json").read_text())
    doc = next(d for d in details["documents"] if d["file"] == "07-s75-partnership-agreement-extract.pdf")
    for q in doc["questions"]:
        assert 0 <= q["confidence"] <= 1 and q["basis"] in ("answers", "answers+documents")
        ev = q["evidence"]
        assert ev["page"] in (1, 2, 3, 4) and len(ev["quote"]) > 20
        assert codebook.question(q["code"]).section in {s["code"] for s in doc["sections"]}
    assert doc["doc_type"]["evidence"]["quote"]
    assert set(doc["scores"]["questions"]) == {str(q.id) for q in codebook.questions}


def test_renaming_files_does_not_change_the_codes(coded, model_dir, tmp_path):
    inp, out = coded
    renamed = tmp_path / "scans"
    renamed.mkdir()
    mapping = {}
    for i, f in enumerate(sorted(list_documents(inp), reverse=True)):
        new = f"scan{i + 1:04d}.pdf"  # the scanner calls everything .pdf
        shutil.copy(f, renamed / new)
        mapping[new] = f.name
    out2 = tmp_path / "scans.csv"
    code_folder(renamed, model_dir, out2, options=BatchOptions(workers=0))
    a = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("file")
    b = pd.read_csv(out2, dtype=str, keep_default_na=False)
    b["file"] = b["file"].map(mapping)
    b = b.set_index("file").loc[a.index]
    pd.testing.assert_frame_equal(a, b)


def test_bad_documents_get_error_rows_and_the_batch_goes_on(model_dir, tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(DOCS / "14-advocacy-policy.md", inp / "good.md")
    make_pdf(inp / "encrypted.pdf", [LOREM], password="secret")
    (inp / "corrupt.pdf").write_bytes(make_pdf(tmp_path / "c.pdf", [LOREM]).read_bytes()[:400])
    (inp / "corrupt.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (inp / "encrypted.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    make_scanned_pdf(inp / "scan.pdf")
    (inp / "empty.txt").write_bytes(b"")
    (inp / "big.txt").write_text(LOREM * 2000)
    (inp / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    out = tmp_path / "out.csv"
    summary = code_folder(inp, model_dir, out, options=BatchOptions(max_bytes=100_000, workers=1))
    df = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("file")
    assert df.loc["good.md", "status"] == "ok" and df.loc["good.md", "doc_type"] == "policy"
    expected = {"encrypted.pdf": "encrypted", "corrupt.pdf": "corrupt", "corrupt.docx": "corrupt",
                "encrypted.docx": "encrypted", "scan.pdf": "needs-ocr", "empty.txt": "empty",
                "big.txt": "too-large", "picture.png": "unsupported"}
    for name, kind in expected.items():
        row = df.loc[name]
        assert row["status"] == "error" and row["error"].startswith(kind + ":"), (name, row["error"])
        assert row["doc_type"] == "" and row["route"] == "review"
    assert "needs OCR" in df.loc["scan.pdf", "error"]
    assert summary.coded == 1 and summary.errors == len(expected)


def test_a_rerun_skips_finished_documents_and_a_crash_loses_only_the_document_in_hand(model_dir, tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    for name in ("03-information-sharing-protocol.txt", "14-advocacy-policy.md", "21-provider-forum.pdf",
                 "08-risk-share-agreement.docx"):
        shutil.copy(DOCS / name, inp / name)
    shutil.copy(DOCS / "14-advocacy-policy.md", inp / "copy-of-advocacy.md")  # same content twice
    out = tmp_path / "out.csv"
    first = code_folder(inp, model_dir, out, options=BatchOptions(workers=0))
    assert first.coded == 4 and first.documents == 5
    csv1 = out.read_text()

    again = code_folder(inp, model_dir, out, options=BatchOptions(workers=0))
    assert again.coded == 0 and again.skipped == 5
    assert out.read_text() == csv1
    # A stricter target precision re-routes without re-coding: fewer field decisions are accepted.
    strict = code_folder(inp, model_dir, out, options=BatchOptions(workers=0, target_precision=0.999))
    assert strict.coded == 0
    assert strict.routed["fields_wait"] > first.routed["fields_wait"]
    assert pd.read_csv(out)["fields_wait"].sum() == strict.routed["fields_wait"]
    code_folder(inp, model_dir, out, options=BatchOptions(workers=0))

    # A crash while writing the third document: its line is half there, the CSV was never written.
    progress = out.with_name(out.name + ".progress.jsonl")
    lines = progress.read_text().splitlines()
    progress.write_text("\n".join(lines[:2]) + "\n" + lines[2][:50])
    out.unlink()
    resumed = code_folder(inp, model_dir, out, options=BatchOptions(workers=0))
    assert resumed.coded == 2 and resumed.skipped == 2  # the copy follows its original
    assert out.read_text() == csv1


def test_search_finds_passages_with_file_and_page(coded, model_dir):
    _, out = coded
    hits = search("pooled budget contributions from the council and the CCG", model_dir,
                  index=out.with_name(out.stem + ".index.json"), k=5)
    assert len(hits) == 5 and hits[0]["score"] >= hits[-1]["score"]
    assert any("pool" in h["text"].lower() for h in hits[:3])
    assert {"file", "page", "text", "score"} <= set(hits[0])


def test_review_tasks_ask_only_about_uncertain_fields(coded, codebook):
    _, out = coded
    details = read_coded(out)
    tasks = document_tasks(details, codebook)
    waiting_docs = [d for d in details["documents"] if d["fields_wait"]]
    assert len(tasks) == len(waiting_docs) == sum(d["route"] == "review" for d in details["documents"])
    assert [t["data"]["confidence"] for t in tasks] == sorted(t["data"]["confidence"] for t in tasks)
    config = label_config(codebook)  # the config `coder docs push` creates the project with
    for kind in ("doc_type", "sections", "questions", "priorities"):
        assert f'name="{kind}" toName="text"' in config and f'value="${kind}_options"' in config
    by_sha = {d["sha256"]: d for d in waiting_docs}
    for t in tasks:
        d, data = by_sha[t["data"]["sha256"]], t["data"]
        for kind in ("sections", "questions", "priorities"):
            wait = [f for f in d["fields"] if f["kind"] == kind and f["route"] == "review"]
            # Only this document's uncertain codes are offered, each with its passage in the text.
            assert [o["alias"] for o in data[f"{kind}_options"]] == [f["code"] for f in wait]
            assert data[f"asked_{kind}"] == ";".join(f["code"] for f in wait)
            pre = [r["value"]["choices"] for r in t["predictions"][0]["result"] if r["from_name"] == kind]
            assert pre == ([[f["code"] for f in wait if f["given"]]] if any(f["given"] for f in wait) else [])
        assert data["text"].count("[p. ") == d["fields_wait"]  # one passage per uncertain field
        # What is settled is shown, not asked.
        for f in d["fields"]:
            if f["kind"] == "questions" and f["route"] == "auto" and f["given"]:
                assert f"Q{f['code']} (" in data["settled"]
                assert f["code"] not in [o["alias"] for o in data["questions_options"]]


def test_each_field_is_routed_on_its_own_calibrated_confidence(coded, model_dir):
    _, out = coded
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    details = {d["file"]: d for d in read_coded(out)["documents"]}
    manifest = json.loads((model_dir / "manifest.json").read_text())
    routing = manifest["field_routing"]  # held-out figures, even when training skips the other figures
    assert routing["documents"] == 24 and set(routing["by_kind"]) == {"doc_type", "sections", "questions",
                                                                      "priorities"}
    assert all(0 <= k["ece"] <= 1 for k in routing["by_kind"].values())
    for _, row in df.iterrows():
        d = details[row["file"]]
        assert len(d["fields"]) == 1 + 11 + 61 + 4
        for f in d["fields"]:
            assert f["route"] == ("auto" if f["confidence"] >= f["threshold"] else "review")
        for kind in ("sections", "questions", "priorities"):
            given, auto, wait = (set(filter(None, row[c].split(";"))) for c in (kind, f"{kind}_auto",
                                                                                 f"{kind}_wait"))
            assert auto <= given and not auto & wait
            assert wait == {f["code"] for f in d["fields"] if f["kind"] == kind and f["route"] == "review"}
        assert int(row["fields_auto"]) + int(row["fields_wait"]) == 77
        assert row["route"] == ("review" if int(row["fields_wait"]) else "auto")


def test_calibrated_confidence_means_what_it_says():
    from coder.documents.calibrate import FieldCalibrator
    from coder.documents.route import FieldRouter

    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 3000)
    truth = rng.uniform(0, 1, 3000) < raw ** 2  # raw scores that overstate: the truth is raw squared
    rows = {"questions": {"code": np.array([str(i % 61 + 1) for i in range(3000)]), "raw": raw,
                          "given": raw >= 0.5, "truth": truth, "doc": np.arange(3000) // 61}}
    cal = FieldCalibrator().fit(rows)
    assert cal.maps_["questions"]["method"] == "isotonic"
    assert abs(float(cal.probability("questions", [0.8])[0]) - 0.64) < 0.08
    router = FieldRouter(0.95).fit(rows)
    conf = router.calibrator_.confidence("questions", raw, raw >= 0.5)
    auto = conf >= np.array([router.threshold("questions", c, g) for c, g in zip(rows["questions"]["code"],
                                                                                raw >= 0.5, strict=True)])
    correct = (raw >= 0.5) == truth
    assert 0.3 < auto.mean() < 1 and correct[auto].mean() >= 0.93 and correct[~auto].mean() < 0.9
    # All held-out decisions right: no map claims certainty nobody measured; the raw score stands.
    few = {"doc_type": {"code": np.array(["protocol"] * 5), "raw": np.full(5, 0.9), "given": np.ones(5, bool),
                        "truth": np.ones(5, bool), "doc": np.arange(5)}}
    assert FieldCalibrator().fit(few).probability("doc_type", [0.7])[0] == pytest.approx(0.7)


def test_accept_merges_reviewed_fields_with_the_auto_accepted_ones(coded, tmp_path):
    from coder.documents.review import build_accepted, document_store

    _, out = coded
    details = read_coded(out)
    d = next(d for d in details["documents"] if d["fields_wait"])
    wait = {k: [f for f in d["fields"] if f["kind"] == k and f["route"] == "review"]
            for k in ("sections", "questions", "priorities")}
    # The reviewer says the opposite of the model on every asked code.
    said = {k: [f["code"] for f in w if not f["given"]] for k, w in wait.items()}
    store = document_store(tmp_path / "annotations")
    rec = {"record_id": "r1", "annotation": "a1", "sha256": d["sha256"], "file": d["file"], "scope": "fields",
           "doc_type": "", "reviewer": "ann", "reviewed_at": "2026-12-02T10:00:00", "agreed": False,
           **{k: ";".join(v) for k, v in said.items()},
           **{f"asked_{k}": ";".join(f["code"] for f in w) for k, w in wait.items()}, "asked_doc_type": ""}
    before = build_accepted(details, store).set_index("file").loc[d["file"]]
    doc_type_waits = any(f["kind"] == "doc_type" and f["route"] == "review" for f in d["fields"])
    assert before["source"] == "pending" and before["waiting"]
    store.add([rec])
    after = build_accepted(details, store).set_index("file").loc[d["file"]]
    assert after["source"] == ("pending" if doc_type_waits else "human") and after["reviewer"] == "ann"
    for k in wait:
        auto = {f["code"] for f in d["fields"] if f["kind"] == k and f["route"] == "auto" and f["given"]}
        assert set(filter(None, after[k].split(";"))) == auto | set(said[k])
    clean = [x for x in details["documents"] if not x["fields_wait"]]
    table = build_accepted(details, store).set_index("file")
    for x in clean:
        assert table.loc[x["file"], "source"] == "auto" and table.loc[x["file"], "waiting"] == ""


def test_cli_train_code_search(tmp_path, small_answers):
    from typer.testing import CliRunner

    from coder.cli import app

    inp = tmp_path / "in"
    inp.mkdir()
    for name in ("06-register-maintenance-protocol.pdf", "35-medium-term-financial-plan.docx"):
        shutil.copy(DOCS / name, inp)
    runner = CliRunner()
    r = runner.invoke(app, ["docs", "train", "--labels", str(DOCS / "labels.csv"), "--answers",
                            str(small_answers), "--model-dir", str(tmp_path / "m"), "--no-eval"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["docs", "code", "--input", str(inp), "--model-dir", str(tmp_path / "m"),
                            "--out", str(tmp_path / "o" / "docs.csv"), "--workers", "0"])
    assert r.exit_code == 0, r.output
    assert "2 coded" in r.output
    df = pd.read_csv(tmp_path / "o" / "docs.csv")
    assert len(df) == 2
    # a document that fails: the table is still written, the failure listed, and the exit status is 1
    (inp / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    r = runner.invoke(app, ["docs", "code", "--input", str(inp), "--model-dir", str(tmp_path / "m"),
                            "--out", str(tmp_path / "o" / "docs.csv"), "--workers", "0"])
    assert r.exit_code == 1 and "failed: broken.docx" in r.output
    df = pd.read_csv(tmp_path / "o" / "docs.csv")
    assert len(df) == 3 and df.set_index("file").loc["broken.docx", "status"] == "error"
    # the model file itself is checked before it is loaded: a tampered file is refused (exit 2)
    model_file = tmp_path / "m" / "documents.skops"
    model_file.write_bytes(model_file.read_bytes()[:-10])
    r = runner.invoke(app, ["docs", "code", "--input", str(inp), "--model-dir", str(tmp_path / "m"),
                            "--out", str(tmp_path / "o" / "docs2.csv"), "--workers", "0"])
    assert r.exit_code != 0 and "does not match the sha256" in str(r.exception or r.output)
    r = runner.invoke(app, ["docs", "search", "register of people", "--model-dir", str(tmp_path / "m"),
                            "-k", "2"])
    assert r.exit_code == 0 and "06-register-maintenance-protocol.pdf" in r.output


def test_cli_user_errors_are_one_line(tmp_path):
    import subprocess

    r = subprocess.run([CODER, "docs", "code", "--input", str(tmp_path / "missing"),
                        "--model-dir", str(tmp_path), "--out", str(tmp_path / "o.csv")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert io.StringIO(r.stderr).read().count("\n") == 1
