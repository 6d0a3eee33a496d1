"""Cases for tests/test_bad_inputs.py that the first rounds did not try: line endings and byte-order marks,
repeated column names, odd workbooks (error cells, hidden sheets, title rows), pipes and devices as files,
codebooks and definitions with holes, and hand-edited model manifests. More in tests/bad_inputs_handoffs.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bad_inputs_cases import HEADER, ROW, Case, codebook_text, definitions_text, models_copy, put, version_of, xlsx

DATA = Path(__file__).resolve().parent.parent / "coder" / "data"


def _sample(w: Path, change=lambda s: s) -> str:  # noqa: ANN001
    return change((w / "sample.csv").read_text(encoding="utf-8"))


def _suggest(data, **extra: str):  # noqa: ANN001
    """`coder suggest` on a data file built by `data(t, w)`."""
    return lambda t, w: ["suggest", "--data", data(t, w), "--model-dir", str(w / "models"), "--out",
                         str(t / "s.csv"), *[x for k, v in extra.items() for x in (f"--{k}", v.format(t=t, w=w))]]


def _train(data):  # noqa: ANN001
    return lambda t, w: ["train", "--data", data(t, w), "--model-dir", str(t / "m")]


def _sugg(t: Path, w: Path) -> str:
    return put(t, "s.csv", (w / "suggestions.csv").read_text())


# ------------------------------------------------------------------------------------------ returns files
def returns_unseen() -> list[Case]:
    crlf = lambda t, w: put(t, "d.csv", _sample(w).replace("\n", "\r\n").encode("utf-8"))  # noqa: E731
    bom = lambda t, w: put(t, "d.csv", b"\xef\xbb\xbf" + _sample(w).replace("\n", "\r\n").encode("utf-8"))  # noqa: E731
    return [
        Case("suggest-crlf-valid", _suggest(crlf), rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-bom-crlf-valid", _suggest(bom), rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-duplicate-column-names", _suggest(lambda t, w: put(
            t, "d.csv", HEADER.strip() + ",text\n" + ROW.strip() + ",something else\n")), says="column 'text'"),
        Case("train-duplicate-codes-column", _train(lambda t, w: put(
            t, "d.csv", HEADER.strip() + ",codes\n" + ROW.strip() + ",2\n")), says="column 'codes'"),
        Case("suggest-header-repeated-mid-file", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW + HEADER)),
             says="row 3, column 'qid'"),
        Case("suggest-ragged-row", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.strip() + ",extra,more\n")),
             says="d.csv"),
        Case("suggest-unclosed-quote", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace("Yes", '"Yes'))),
             says="d.csv"),
        Case("suggest-locality-only-spaces", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace(
            "Aldmoor", "   "))), says="column 'locality'"),
        Case("suggest-locality-emoji-valid", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace(
            "Aldmoor", "\U0001f3e0\U0001f3e0"))), rc=0, says="wrote", writes=("s.csv",)),
        Case("report-locality-emoji", lambda t, w: ["report", "--data", put(t, "d.csv", HEADER + ROW.replace(
            "Aldmoor", "\U0001f3e0")), "--out", str(t / "r")], rc=0, says="index.html", writes=("r/index.html",)),
        Case("report-locality-path", lambda t, w: ["report", "--data", put(t, "d.csv", HEADER + ROW.replace(
            "Aldmoor", "../../escaped")), "--out", str(t / "r")], rc=0, says="index.html",
             writes=("r/index.html",)),
        Case("suggest-million-char-cell", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace(
            "Yes - agreed", "agreed " * 150_000))), rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-qid-arabic-digit", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace(
            ",5,", ",\u0665,"))), says="column 'qid'"),
        Case("suggest-qid-negative", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace(",5,", ",-5,"))),
             says="column 'qid'"),
        Case("suggest-data-dev-zero", _suggest(lambda t, w: "/dev/zero"), says="/dev/zero: not a plain file"),
        Case("suggest-data-a-pipe", _suggest(lambda t, w: _fifo(t, "d.csv")), says="not a plain file"),
        Case("suggest-codebook-a-pipe", lambda t, w: [
            "suggest", "--data", str(w / "sample.csv"), "--model-dir", str(w / "models"), "--out", str(t / "s.csv"),
            "--codebook", _fifo(t, "cb.yaml")], says="not a device or pipe"),
        Case("evaluate-no-codes", lambda t, w: ["evaluate", "--data", put(t, "d.csv", HEADER + ROW.replace(
            ",1,,", ",,,")), "--model-dir", str(w / "models")], says="d.csv, column 'codes'"),
        Case("suggest-semicolon-csv", _suggest(lambda t, w: put(t, "d.csv", (HEADER + ROW).replace(",", ";"))),
             says="no 'qid' column"),
        Case("suggest-encoding-rot13", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW), encoding="rot13"),
             says="encoding"),
        Case("suggest-round-control-chars", _suggest(lambda t, w: put(t, "d.csv", HEADER + ROW.replace(
            "2013-06", "2013-06\x1b[2J"))), says="control characters"),
        Case("suggest-xlsx-qid-float", _suggest(lambda t, w: xlsx(t, "d.xlsx", [
            ["round", "locality", "region", "qid", "text", "codes"],
            ["2013-06", "Aldmoor", "London", 5.0, "Yes", 1.0]])),
             rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-xlsx-error-cell", _suggest(lambda t, w: _xlsx_error(t)), says="column 'Q5'"),
        Case("suggest-xlsx-hidden-first-sheet", _suggest(lambda t, w: _xlsx_hidden(t)), rc=0, says="wrote",
             writes=("s.csv",)),
        Case("suggest-xlsx-title-row", _suggest(lambda t, w: xlsx(t, "d.xlsx", [
            ["Stocktake 2013"], ["round", "locality", "region", "Q5"], ["2013-06", "Aldmoor", "London", "Yes"]])),
             says="d.xlsx"),
        Case("suggest-xlsx-merged-locality", _suggest(lambda t, w: _xlsx_merged(t)), says="column 'locality'"),
        Case("suggest-xlsx-percent-code", _suggest(lambda t, w: _xlsx_percent(t)), says="column 'Q5_code'"),
        Case("suggest-xlsx-bool-code", _suggest(lambda t, w: xlsx(t, "d.xlsx", [
            ["round", "locality", "region", "Q5", "Q5_code"], ["2013-06", "Aldmoor", "London", "Yes", True]])),
             says="column 'Q5_code'"),
    ]


def _xlsx_error(t: Path) -> str:
    return xlsx(t, "d.xlsx", [["round", "locality", "region", "Q5"], ["2013-06", "Aldmoor", "London", "#REF!"]],
                lambda ws: setattr(ws["D2"], "data_type", "e"))


def _xlsx_hidden(t: Path) -> str:
    import openpyxl

    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "old"
    old.append(["notes"])
    old.append(["nothing here"])
    old.sheet_state = "hidden"
    ws = wb.create_sheet("returns")
    ws.append(["round", "locality", "region", "Q5"])
    ws.append(["2013-06", "Aldmoor", "London", "Yes - agreed"])
    wb.active = 1
    wb.save(t / "d.xlsx")
    return str(t / "d.xlsx")


def _xlsx_merged(t: Path) -> str:
    rows = [["round", "locality", "region", "qid", "text"], ["2013-06", "Aldmoor", "London", 5, "Yes"],
            ["2013-06", None, "London", 13, "No"]]
    return xlsx(t, "d.xlsx", rows, lambda ws: ws.merge_cells("B2:B3"))


def _xlsx_percent(t: Path) -> str:
    rows = [["round", "locality", "region", "Q5", "Q5_code"], ["2013-06", "Aldmoor", "London", "Yes", 0.5]]
    return xlsx(t, "d.xlsx", rows, lambda ws: setattr(ws["E2"], "number_format", "0%"))


# ---------------------------------------------------------------------------------- codebooks, definitions
def codebook_unseen() -> list[Case]:
    def sug(make):  # noqa: ANN001
        return lambda t, w: ["suggest", "--data", str(w / "sample.csv"), "--model-dir", str(w / "models"), "--out",
                             str(t / "s.csv"), "--codebook", make(t)]

    def rep(make):  # noqa: ANN001
        return lambda t, w: ["report", "--data", str(w / "sample.csv"), "--out", str(t / "r"), "--definitions",
                             make(t)]

    def dup_code(d: dict) -> None:
        d["questions"][2]["codes"].append(dict(d["questions"][2]["codes"][0]))

    def no_codes(d: dict) -> None:
        d["questions"][2]["codes"] = []

    def dup_qid(d: dict) -> None:
        d["questions"][3]["id"] = d["questions"][2]["id"]

    def missing_q(d: dict) -> None:
        d["themes"][0]["lines"][0]["question"] = 99

    def missing_code(d: dict) -> None:
        d["themes"][0]["lines"][0]["count"] = [42]

    def text_q(d: dict) -> None:
        d["themes"][0]["lines"][0]["question"] = "five"

    cb_crlf = lambda t: put(t, "cb.yaml", b"\xef\xbb\xbf" + codebook_text(lambda d: None).replace(  # noqa: E731
        "\n", "\r\n").encode("utf-8"))
    return [
        Case("suggest-codebook-bom-crlf-valid", sug(cb_crlf), rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-codebook-duplicate-code", sug(lambda t: put(t, "cb.yaml", codebook_text(dup_code))),
             says="duplicate code"),
        Case("suggest-codebook-question-no-codes", sug(lambda t: put(t, "cb.yaml", codebook_text(no_codes))),
             says="codes"),
        Case("suggest-codebook-duplicate-qid", sug(lambda t: put(t, "cb.yaml", codebook_text(dup_qid))),
             says="duplicate question id"),
        Case("suggest-codebook-blank-code-empty", sug(lambda t: put(t, "cb.yaml", codebook_text(
            lambda d: d.__setitem__("blank_code", "")))), says="cb.yaml: blank_code:"),
        Case("suggest-codebook-name-null", sug(lambda t: put(t, "cb.yaml", codebook_text(
            lambda d: d.__setitem__("name", None)))), says="cb.yaml: name: must be a non-empty name"),
        Case("suggest-codebook-other-text-valid", sug(lambda t: put(t, "cb.yaml", codebook_text(
            lambda d: d.__setitem__("title", "a retitled copy")))), rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-codebook-changed-codes", sug(lambda t: put(t, "cb.yaml", codebook_text(
            lambda d: d["questions"][4]["codes"].append({"code": "42", "label": "Something new"})))),
             says="codebook"),
        Case("report-definitions-question-99", rep(lambda t: put(t, "defs.yaml", definitions_text(missing_q))),
             says="99"),
        Case("report-definitions-code-42", rep(lambda t: put(t, "defs.yaml", definitions_text(missing_code))),
             says="42"),
        Case("report-definitions-question-text", rep(lambda t: put(t, "defs.yaml", definitions_text(text_q))),
             says="five"),
        Case("report-definitions-empty", rep(lambda t: put(t, "defs.yaml", "")), says="defs.yaml"),
        Case("report-definitions-a-list", rep(lambda t: put(t, "defs.yaml", "- 1\n")), says="defs.yaml"),
        Case("report-definitions-bom-crlf-valid", rep(lambda t: put(t, "defs.yaml", b"\xef\xbb\xbf" + definitions_text(
            lambda d: None).replace("\n", "\r\n").encode("utf-8"))), rc=0, says="index.html",
             writes=("r/index.html",)),
        Case("review-order-definitions-question-99", lambda t, w: [
            "review", "order", "--suggestions", _sugg(t, w), "--definitions", put(
                t, "defs.yaml", definitions_text(missing_q)), "--out", str(t / "o.csv")], says="99"),
    ]


# ------------------------------------------------------------------------------------- suggestions, --out
def suggestions_unseen() -> list[Case]:
    import pandas as pd

    def changed(column: str, value: str):  # noqa: ANN202
        def make(t: Path, w: Path) -> str:
            df = pd.read_csv(w / "suggestions.csv", dtype=str, keep_default_na=False).head(4)
            df.loc[0, column] = value
            df.to_csv(t / "s.csv", index=False)
            return str(t / "s.csv")
        return make

    def acc(make):  # noqa: ANN001
        return lambda t, w: ["accept", "--suggestions", make(t, w), "--store", str(t / "ann"), "--out",
                             str(t / "acc.csv")]

    def order(make):  # noqa: ANN001
        return lambda t, w: ["review", "order", "--suggestions", make(t, w), "--out", str(t / "o.csv")]

    def export(make, out: str = "tasks.json"):  # noqa: ANN001
        return lambda t, w: ["review", "export", "--suggestions", make(t, w), "--out", str(t / out)]

    return [
        Case("accept-confidence-nan", acc(changed("confidence", "nan")), says="column 'confidence'"),
        Case("accept-confidence-tiny-valid", acc(changed("confidence", "1e-400")), rc=0, writes=("acc.csv",)),
        Case("accept-confidence-inf", acc(changed("confidence", "inf")), says="column 'confidence'"),
        Case("accept-round-blank", acc(changed("round", "  ")), says="row 2"),
        Case("accept-locality-padded-duplicate", acc(lambda t, w: _padded_duplicate(t, w)), says="twice"),
        Case("review-order-confidence-nan", order(changed("confidence", "NaN")), says="column 'confidence'"),
        Case("review-export-valid", export(_sugg), rc=0, says="wrote", writes=("tasks.json", "tasks.config.xml")),
        Case("review-export-suggested-9", export(changed("suggested", "9")), says="column 'suggested'"),
        Case("review-export-out-not-json", export(_sugg, "tasks.csv"), says=".json"),
        Case("review-export-out-is-a-folder", lambda t, w: ["review", "export", "--suggestions", _sugg(t, w),
                                                            "--out", str((t / "o.json").mkdir() or t / "o.json")],
             says="folder"),
        Case("review-export-config-is-a-folder", lambda t, w: ["review", "export", "--suggestions", _sugg(t, w),
                                                               "--out", str((t / "o.config.xml").mkdir()
                                                                            or t / "o.json")], says="folder"),
        # a device such as /dev/full, a pipe or a socket: the rename would replace it with a plain file (as root,
        # /dev/full itself); a pipe in the case's folder stands for them all
        Case("suggest-out-is-a-pipe", lambda t, w: ["suggest", "--data", str(w / "sample.csv"), "--model-dir",
                                                    str(w / "models"), "--out", _fifo(t)], says="not a plain file"),
        Case("suggest-out-trailing-slash-valid", lambda t, w: [
            "suggest", "--data", str(w / "sample.csv"), "--model-dir", str(w / "models"), "--out",
            str(t / "s.csv") + "/"], rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-out-is-model-dir", lambda t, w: ["suggest", "--data", str(w / "sample.csv"), "--model-dir",
                                                       str(w / "models"), "--out", str(w / "models")], says="models"),
        Case("suggest-out-empty", lambda t, w: ["suggest", "--data", str(w / "sample.csv"), "--model-dir",
                                                str(w / "models"), "--out", ""], says="--out"),
        Case("drift-out-is-model-file", lambda t, w: ["drift", "--accepted", put(t, "acc.csv", (
            w / "accepted.csv").read_text()), "--model-dir", str(models_copy(t, w)), "--out",
            str(version_of(t / "models") / "manifest.json")], says="input"),
    ]


def _fifo(t: Path, name: str = "s.csv") -> str:
    os.mkfifo(t / name)
    return str(t / name)


def _padded_duplicate(t: Path, w: Path) -> str:
    import pandas as pd

    df = pd.read_csv(w / "suggestions.csv", dtype=str, keep_default_na=False).head(2)
    df.loc[1, ["round", "locality", "qid"]] = df.loc[0, ["round", "locality", "qid"]]
    df.loc[1, "locality"] = " " + df.loc[1, "locality"] + " "
    df.to_csv(t / "s.csv", index=False)
    return str(t / "s.csv")


# -------------------------------------------------------------------------------------------- model folders
def models_unseen() -> list[Case]:
    def manifest(change):  # noqa: ANN001
        def make(t: Path, w: Path) -> str:
            m = models_copy(t, w)
            p = version_of(m) / "manifest.json"
            d = json.loads(p.read_text())
            change(d)
            p.write_text(json.dumps(d))
            return str(m)
        return make

    def registry(change):  # noqa: ANN001
        def make(t: Path, w: Path) -> str:
            m = models_copy(t, w)
            d = json.loads((m / "registry.json").read_text())
            change(d)
            (m / "registry.json").write_text(json.dumps(d))
            return str(m)
        return make

    def sug(make):  # noqa: ANN001
        return lambda t, w: ["suggest", "--data", str(w / "sample.csv"), "--model-dir", make(t, w), "--out",
                             str(t / "s.csv")]

    def cycle(d: dict) -> None:
        d["versions"].append(dict(d["versions"][0]))

    def missing_version(d: dict) -> None:
        d["current"] = "v7"
        d["versions"].append({**d["versions"][0], "version": "v7"})

    return [
        Case("suggest-model-dir-documents-model", lambda t, w: ["suggest", "--data", str(w / "sample.csv"),
                                                                "--model-dir", str(w / "docmodel"), "--out",
                                                                str(t / "s.csv")], says="docmodel"),
        Case("evaluate-model-dir-documents-model", lambda t, w: ["evaluate", "--data", str(w / "sample.csv"),
                                                                 "--model-dir", str(w / "docmodel")], says="docmodel"),
        Case("models-documents-model", lambda t, w: ["models", "--model-dir", str(w / "docmodel")], rc=0),
        Case("suggest-manifest-other-codebook-hash", sug(manifest(lambda d: d.__setitem__("codebook_hash", "0" * 64))),
             says="codebook"),
        Case("suggest-manifest-no-codebook-hash", sug(manifest(lambda d: d.pop("codebook_hash"))), says="codebook"),
        Case("suggest-manifest-newer-format", sug(manifest(lambda d: d.__setitem__("format", 99))), rc=0,
             says="wrote"),
        Case("suggest-manifest-sha-changed", sug(manifest(lambda d: d.__setitem__("model_sha256", "0" * 64))),
             says="model.skops"),
        Case("suggest-manifest-thresholds-text", sug(manifest(lambda d: d.__setitem__("thresholds", "abc"))),
             says="manifest.json"),
        Case("suggest-registry-duplicated-version", sug(registry(cycle)), rc=0, says="wrote"),
        Case("suggest-registry-current-missing-folder", sug(registry(missing_version)), says="v7"),
        Case("models-registry-duplicated-version", lambda t, w: ["models", "--model-dir", registry(cycle)(t, w)],
             rc=0, says="v1"),
        Case("models-use-empty-version", lambda t, w: ["models", "use", "", "--model-dir", str(models_copy(t, w))],
             says="version"),
        Case("suggest-model-skops-is-a-folder", lambda t, w: ["suggest", "--data", str(w / "sample.csv"),
                                                              "--model-dir", _skops_folder(t, w), "--out",
                                                              str(t / "s.csv")], says="model.skops"),
    ]


def _skops_folder(t: Path, w: Path) -> str:
    m = models_copy(t, w)
    f = version_of(m) / "model.skops"
    f.unlink()
    f.mkdir()
    return str(m)


def unseen_cases() -> list[Case]:
    return returns_unseen() + codebook_unseen() + suggestions_unseen() + models_unseen()
