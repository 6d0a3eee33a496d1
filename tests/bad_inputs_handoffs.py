"""More unseen cases for tests/test_bad_inputs.py: the hand-offs (Label Studio exports, people files and the
people review store), outputs that would overwrite or delete inputs (people commands), and odd folders of
documents (symbolic-link loops, empty files, hostile names, zip bombs).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bad_inputs_cases import Case, models_copy, put
from bad_inputs_more import GOOD_REVIEW

DATA = Path(__file__).resolve().parent.parent / "coder" / "data"


def _docmodel_copy(t: Path, w: Path) -> str:
    import shutil

    shutil.copytree(w / "docmodel", t / "dm")
    return str(t / "dm")


# ----------------------------------------------------------------------------------- Label Studio exports
def _task(**over: object) -> dict:
    data = {"key": "k1", "round": "2013-06", "qid": 5, "ref": "1.5", "text": "Yes - agreed",
            "copies": [{"locality": "Aldmoor", "region": "London", "text": "Yes - agreed", "suggested": "1",
                        "confidence": 0.9, "source_id": "s1"}]}
    ann = {"id": 11, "completed_by": {"email": "r@x"}, "updated_at": "2026-01-01T00:00:00",
           "result": [{"type": "choices", "from_name": "code", "to_name": "text", "value": {"choices": ["1"]}}]}
    task = {"id": 1, "project": 3, "data": data, "annotations": [ann]}
    for k, v in over.items():
        if k.startswith("data_"):
            data[k[5:]] = v
        elif k.startswith("ann_"):
            ann[k[4:]] = v
        else:
            task[k] = v
    return task


def labelstudio_unseen() -> list[Case]:
    def imp(tasks):  # noqa: ANN001
        return lambda t, w: ["review", "import", "--export", put(t, "export.json", tasks if isinstance(
            tasks, str) else json.dumps(tasks)), "--store", str(t / "ann")]

    return [
        Case("status-reviews-bom-crlf-valid", lambda t, w: ["status", "--store", str(Path(put(
            t, "ann/reviews.jsonl", b"\xef\xbb\xbf" + json.dumps(GOOD_REVIEW).encode() + b"\r\n")).parent)], rc=0,
             says="Review progress"),
        Case("status-reviews-not-utf8", lambda t, w: ["status", "--store", str(Path(put(
            t, "ann/reviews.jsonl", b'{"record_id": "caf\xe9"}\n')).parent)], says="reviews.jsonl: not UTF-8"),
        Case("review-import-valid", imp([_task()]), rc=0, says="1", writes=("ann/reviews.jsonl",)),
        Case("review-import-other-config", imp([_task(ann_result=[{"type": "labels", "from_name": "label",
                                                                   "value": {"labels": ["PER"]}}])]), rc=1,
             says="no code chosen"),
        Case("review-import-result-without-value", imp([_task(ann_result=[{"type": "choices",
                                                                           "from_name": "code"}])]), rc=1,
             says="no code chosen"),
        Case("review-import-duplicate-task-ids", imp([_task(), _task()]), rc=0, writes=("ann/reviews.jsonl",)),
        Case("review-import-task-id-text", imp([_task(id="abc")]), says="export.json, column 'id'"),
        Case("review-import-project-text", imp([_task(project="abc")]), says="export.json, column 'project'"),
        Case("review-import-copies-not-list", imp([_task(data_copies="Aldmoor")]), rc=1, says="not recorded"),
        Case("review-import-copies-blank-locality", imp([_task(data_copies=[{"locality": "", "text": "Yes"}])]),
             rc=1, says="locality is blank"),
        Case("review-import-round-blank", imp([_task(data_round=" ")]), rc=1, says="round is blank"),
        Case("review-import-code-9", imp([_task(ann_result=[{"type": "choices", "from_name": "code",
                                                             "value": {"choices": ["9"]}}])]), rc=1,
             says="not recorded"),
        Case("review-import-qid-99", imp([_task(data_qid=99)]), rc=1, says="not recorded"),
        Case("review-import-a-dict", imp({"tasks": []}), says="export.json"),
        Case("review-import-not-utf8", lambda t, w: ["review", "import", "--export", put(
            t, "export.json", b'[{"id": 1, "data": {"t": "caf\xe9"}}]'), "--store", str(t / "ann")],
             says="export.json"),
        Case("review-import-deeply-nested", imp("[" * 100_000 + "]" * 100_000), says="export.json"),
        Case("review-import-store-is-a-file", lambda t, w: ["review", "import", "--export", put(
            t, "export.json", json.dumps([_task()])), "--store", put(t, "ann", "x")], says="not a folder"),
        Case("review-import-control-chars-reviewer", imp([_task(ann_completed_by={"email": "r@x\x1b]0;pwn\x07"})]),
             rc=0, writes=("ann/reviews.jsonl",)),
    ]


# ------------------------------------------------------------------------------------------------- people
UPD = "round,locality,region,text\n"
UPD_ROW = ('2014-05,Goldstow,London,"Person A left hospital in October 2013 and lives in supported living. '
           'Person B remains in hospital; discharge is planned for 2014-09."\n')


def people_unseen() -> list[Case]:
    def areas_csv(t: Path, value: str, col: str = "discharged_count") -> str:
        import pandas as pd

        df = pd.read_csv(DATA / "updates-gold" / "areas.csv", dtype=str, keep_default_na=False).head(3)
        df = df.drop(columns=["style", "split"])
        df.insert(0, "round", "2014-05")
        df.insert(2, "region", "London")
        for c in ("listed_discharged", "listed_in_hospital", "listed_not_by_june"):
            df[c] = "1"
        df["review_why"] = ""
        df.loc[0, col] = value
        df.to_csv(t / "p-areas.csv", index=False)
        return str(t / "p-areas.csv")

    def people_csv(t: Path, value: str = "2013-10", col: str = "est_discharge") -> str:
        import pandas as pd

        df = pd.read_csv(DATA / "updates-gold" / "people.csv", dtype=str, keep_default_na=False).head(5)
        df.insert(0, "round", "2014-05")
        df.insert(2, "region", "London")
        df["route"] = "review"
        df.loc[0, col] = value
        df.to_csv(t / "p.csv", index=False)
        return str(t / "p.csv")

    def report(value: str, col: str = "discharged_count", pcol: str = "est_discharge", pval: str = "2013-10"):
        return lambda t, w: ["people", "report", "--people", people_csv(t, pval, pcol), "--areas",
                             areas_csv(t, value, col), "--out", str(t / "r")]

    def gold(change):  # noqa: ANN001
        def make(t: Path, w: Path) -> list[str]:
            import shutil

            shutil.copytree(DATA / "updates-gold", t / "gold")
            change(t / "gold")
            return ["people", "train", "--data", str(DATA / "updates.csv"), "--gold", str(t / "gold"),
                    "--model-dir", str(t / "m")]
        return make

    def drop_column(name: str, col: str):  # noqa: ANN202
        def change(g: Path) -> None:
            import pandas as pd

            df = pd.read_csv(g / name, dtype=str, keep_default_na=False)
            df.drop(columns=[col]).to_csv(g / name, index=False)
        return change

    def cell(name: str, col: str, value: str):  # noqa: ANN202
        def change(g: Path) -> None:
            import pandas as pd

            df = pd.read_csv(g / name, dtype=str, keep_default_na=False)
            df.loc[0, col] = value
            df.to_csv(g / name, index=False)
        return change

    def person_review(**over: object) -> str:
        rec = {"key": "2014-05|Goldstow|Person A", "round": "2014-05", "locality": "Goldstow", "person": "Person A",
               "status": "1", "care_package": "1", "reasons": "NR", "est_discharge": "2013-10",
               "reviewed_at": "2026-01-01T00:00:00", **over}
        return json.dumps({k: v for k, v in rec.items() if v is not None})

    def accept(line: str | bytes):  # noqa: ANN202
        def build(t: Path, w: Path) -> list[str]:
            put(t, "ann/people-reviews.jsonl", line if isinstance(line, bytes) else line + "\n")
            return ["people", "accept", "--people", people_csv(t), "--store", str(t / "ann"), "--out",
                    str(t / "acc.csv")]
        return build

    return [
        Case("people-accept-valid", accept(person_review()), rc=0, says="human 1", writes=("acc.csv",)),
        Case("people-accept-store-bom-valid", accept(b"\xef\xbb\xbf" + person_review().encode() + b"\r\n"), rc=0,
             says="human 1", writes=("acc.csv",)),
        Case("people-accept-store-line-not-json", accept("{nope"), says="people-reviews.jsonl, row 1"),
        Case("people-accept-store-no-key", accept(person_review(key=None)), says="column 'key'"),
        Case("people-accept-store-status-9", accept(person_review(status="9")), says="row 1, column 'status'"),
        Case("people-accept-store-date-13", accept(person_review(est_discharge="2014-13")),
             says="column 'est_discharge'"),
        Case("people-accept-store-count-negative", accept(person_review(discharged_count="-3")),
             says="column 'discharged_count'"),
        Case("people-accept-store-not-utf8", accept(b'{"key": "caf\xe9"}\n'), says="not UTF-8"),
        Case("people-report-date-31-02", report("3", pval="2014-02-31"), says="column 'est_discharge'"),
        Case("people-report-date-slashes", report("3", pval="31/02/2014"), says="column 'est_discharge'"),
        Case("people-report-count-negative", report("-3"), says="column 'discharged_count'"),
        Case("people-report-count-1e9", report("1e9"), says="column 'discharged_count'"),
        Case("people-report-count-words", report("two and a half"), says="column 'discharged_count'"),
        Case("people-report-areas-missing-region", lambda t, w: ["people", "report", "--people", people_csv(t),
                                                                 "--areas", put(t, "a.csv", "locality\nGoldstow\n"),
                                                                 "--out", str(t / "r")], says="column 'round'"),
        Case("people-report-valid", report("3"), rc=0, says="index.html", writes=("r/index.html",)),
        Case("people-report-out-folder-with-other-files", lambda t, w: [
            "people", "report", "--people", people_csv(t), "--areas", areas_csv(t, "3"), "--out",
            str(Path(put(t, "mine/notes.txt", "x")).parent)], says="other files"),
        Case("docs-train-labels-empty", lambda t, w: ["docs", "train", "--labels", put(t, "lab/labels.csv", ""),
                                                      "--answers", str(w / "answers.jsonl"), "--model-dir",
                                                      str(t / "dm"), "--no-eval"], says="empty"),
        Case("people-report-status-9", report("3", pcol="status", pval="9"), says="column 'status'"),
        Case("people-report-out-contains-inputs", lambda t, w: ["people", "report", "--people", people_csv(t),
                                                                "--areas", areas_csv(t, "3"), "--out", str(t)],
             says="overwrite"),
        Case("people-out-is-the-data", lambda t, w: ["people", "--data", put(t, "u.csv", UPD + UPD_ROW),
                                                     "--model-dir", str(w / "models"), "--out", str(t / "u.csv")],
             says="overwrite"),
        Case("people-areas-beside-out-is-the-data", lambda t, w: [
            "people", "--data", put(t, "p-areas.csv", UPD + UPD_ROW), "--model-dir", str(w / "models"), "--out",
            str(t / "p.csv")], says="overwrite"),
        Case("people-accept-out-is-people", lambda t, w: ["people", "accept", "--people", people_csv(t), "--store",
                                                          str(t / "ann"), "--out", str(t / "p.csv")],
             says="overwrite"),
        Case("people-train-gold-missing-split", gold(drop_column("areas.csv", "split")), says="column 'split'"),
        Case("people-train-gold-missing-status", gold(drop_column("people.csv", "status")), says="column 'status'"),
        Case("people-train-gold-status-9", gold(cell("people.csv", "status", "9")), says="column 'status'"),
        Case("people-train-gold-is-a-file", lambda t, w: ["people", "train", "--data", str(DATA / "updates.csv"),
                                                          "--gold", put(t, "gold", "x"), "--model-dir", str(t / "m")],
             says="gold"),
        Case("people-train-model-dir-is-gold", lambda t, w: gold(lambda g: None)(t, w)[:-1] + [str(t / "gold")],
             says="--model-dir"),
        Case("people-model-is-answers-model", lambda t, w: ["people", "--data", put(t, "u.csv", UPD + UPD_ROW),
                                                            "--model-dir", str(w / "models"), "--out",
                                                            str(t / "p.csv")], says="models"),
        Case("people-updates-duplicate-text-column", lambda t, w: [
            "people", "--data", put(t, "u.csv", UPD.strip() + ",text\n" + UPD_ROW.strip() + ",more\n"),
            "--model-dir", str(w / "models"), "--out", str(t / "p.csv")], says="column 'text'"),
        Case("people-updates-blank-locality", lambda t, w: [
            "people", "--data", put(t, "u.csv", UPD + UPD_ROW.replace("Goldstow", " ")),
            "--model-dir", str(w / "models"), "--out", str(t / "p.csv")], says="column 'locality'"),
    ]


# ---------------------------------------------------------------------------------------------- documents
def documents_unseen() -> list[Case]:
    def code(folder):  # noqa: ANN001
        return lambda t, w: ["docs", "code", "--input", str(folder(t)), "--model-dir", str(w / "docmodel"), "--out",
                             str(t / "c.csv")]

    def loop(t: Path) -> Path:
        d = t / "docs"
        put(t, "docs/a.txt", "Joint protocol for sharing information between the council and the CCG. " * 20)
        os.symlink(d, d / "loop")
        os.symlink(d / "self.txt", d / "self.txt")
        return d

    def empties(t: Path) -> Path:
        for n in ("a.txt", "b.pdf", "c.docx", "d.md"):
            put(t, f"docs/{n}", b"")
        return t / "docs"

    def names(t: Path) -> Path:
        put(t, "docs/line\nbreak.txt", "Pooled budget agreed by the partnership board. " * 20)
        put(t, "docs/\x1b]0;pwn\x07.txt", "Pooled budget agreed by the partnership board. " * 20)
        return t / "docs"

    def empty(t: Path) -> Path:
        (t / "docs").mkdir()
        return t / "docs"

    return [
        Case("docs-code-symlink-loop", code(loop), rc=0, writes=("c.csv",)),
        Case("docs-code-zero-byte-files", code(empties), rc=1, says="4 document(s) failed", writes=("c.csv",)),
        Case("docs-code-hostile-names", code(names), says="control characters"),
        Case("docs-code-empty-folder", code(empty), says="no documents"),
        Case("docs-code-docx-zip-bomb", code(_zip_bomb), rc=1, says="unpacks to"),
        Case("docs-search-query-escapes", lambda t, w: ["docs", "search", "pooled \x1b]0;pwn\x07 budget",
                                                        "--model-dir", str(w / "docmodel"), "--index",
                                                        str(w / "coded.index.json")], rc=0),
        Case("docs-train-labels-bom-crlf-valid", lambda t, w: _docs_train(t, w, crlf=True), rc=0,
             writes=("dm/manifest.json",)),
        Case("docs-train-labels-duplicate-file-column", lambda t, w: _docs_train(t, w, dup_col=True),
             says="column 'file'"),
        Case("docs-train-model-dir-is-documents-folder", lambda t, w: _docs_train(t, w)[:-3] + [
            "--model-dir", str(t / "lab"), "--no-eval"], says="--model-dir"),
        Case("docs-train-model-dir-is-answers-model", lambda t, w: _docs_train(t, w)[:-3] + [
            "--model-dir", str(models_copy(t, w)), "--no-eval"], says="holds an answers model"),
        Case("train-model-dir-is-documents-model", lambda t, w: [
            "train", "--data", str(w / "sample.csv"), "--model-dir", _docmodel_copy(t, w)],
             says="holds a documents model"),
        Case("docs-code-out-is-model-dir", lambda t, w: ["docs", "code", "--input", str(w / "incoming"),
                                                         "--model-dir", str(w / "docmodel"), "--out",
                                                         str(w / "docmodel")], says="docmodel"),
    ]


def _zip_bomb(t: Path) -> Path:
    """A .docx of 1 MB whose document.xml unpacks to 60 MB (over the 50 MB limit)."""
    import zipfile

    src = zipfile.ZipFile(next((DATA / "documents").glob("*.docx")))
    (t / "docs").mkdir()
    with zipfile.ZipFile(t / "docs" / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                at = data.index(b"<w:body>") + len(b"<w:body>")
                data = data[:at] + b"<w:p><w:r><w:t>" + b"a" * 60 * 2**20 + b"</w:t></w:r></w:p>" + data[at:]
            z.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return t / "docs"


def _docs_train(t: Path, w: Path, crlf: bool = False, dup_col: bool = False) -> list[str]:
    import shutil

    shutil.copytree(w / "labelled", t / "lab")
    text = (t / "lab" / "labels.csv").read_text(encoding="utf-8")
    if dup_col:
        lines = text.splitlines()
        text = "\n".join([lines[0] + ",file"] + [x + ",other.txt" for x in lines[1:]]) + "\n"
    data = text.replace("\n", "\r\n").encode("utf-8") if crlf else text.encode("utf-8")
    (t / "lab" / "labels.csv").write_bytes((b"\xef\xbb\xbf" if crlf else b"") + data)
    return ["docs", "train", "--labels", str(t / "lab" / "labels.csv"), "--answers", str(w / "answers.jsonl"),
            "--model-dir", str(t / "dm"), "--no-eval"]


def handoff_cases() -> list[Case]:
    return labelstudio_unseen() + people_unseen() + documents_unseen()
