"""The cases of tests/test_bad_inputs.py: bad, hostile and valid inputs for every command, as a user types them.

Each case builds its inputs in its own folder `t` (shared, read-only things such as the trained model live in
the world `w`) and returns the command line. `rc` is the exit code expected; `says` a piece of the one-line
message (exit 2) or of the output (exit 0); `writes` the files a valid run must leave behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER = "round,locality,region,qid,ref,text,codes,support,source_id\n"
ROW = "2013-06,Aldmoor,London,5,,Yes - agreed,1,,s1\n"
SUGGEST_HEADER = "round,locality,region,qid,text,suggested,confidence,route,model_version,ref,support,source_id"


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path, Path], list[str]]
    rc: int = 2
    says: str = ""
    writes: tuple[str, ...] = ()


def put(t: Path, name: str, content: str | bytes) -> str:
    p = t / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return str(p)


def xlsx(t: Path, name: str, rows: list[list[object]], touch: Callable[[Any], None] | None = None) -> str:
    """A one-sheet workbook of `rows`; `touch(sheet)`, if given, makes it odd (a merged cell, an error cell)."""
    import openpyxl

    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    if touch is not None:
        touch(wb.active)
    wb.save(t / name)
    return str(t / name)


def models_copy(t: Path, w: Path, name: str = "models") -> Path:
    """A private copy of the trained model folder, for cases that damage it."""
    import shutil

    shutil.copytree(w / "models", t / name)
    return t / name


def version_of(models: Path) -> Path:
    reg = json.loads((models / "registry.json").read_text())
    return models / "versions" / reg["current"]


# ----------------------------------------------------------------------------------------- returns files
WIDE_HEADER = ["round", "locality", "region", "Q5", "Q5_code"]
BAD_RETURNS: dict[str, tuple[Callable[[Path], str], str]] = {
    "missing-file": (lambda t: str(t / "nope.csv"), "not found"),
    "empty-file": (lambda t: put(t, "d.csv", ""), "empty"),
    "header-only": (lambda t: put(t, "d.csv", HEADER), "no rows"),
    "missing-column": (lambda t: put(t, "d.csv", "round,locality,qid,text\n2013-06,Aldmoor,5,Yes\n"), "'region'"),
    "unknown-qid": (lambda t: put(t, "d.csv", HEADER + ROW.replace(",5,", ",77,")), "row 2, column 'qid'"),
    "unknown-code": (lambda t: put(t, "d.csv", HEADER + ROW.replace(",1,,", ",8,,")), "row 2, column 'codes'"),
    "code-twice": (lambda t: put(t, "d.csv", HEADER + ROW.replace(",1,,", ",1;1,,")), "twice"),
    "two-codes-single-question": (lambda t: put(t, "d.csv", HEADER + ROW.replace(",1,,", ",1;2,,")), "one code"),
    "code-banana": (lambda t: put(t, "d.csv", HEADER + ROW.replace(",1,,", ",banana,,")), "column 'codes'"),
    "blank-answer-coded": (lambda t: put(t, "d.csv", HEADER + ROW.replace("Yes - agreed", "")), "blank answer"),
    "blank-round": (lambda t: put(t, "d.csv", HEADER + ROW.replace("2013-06", "", 1)), "column 'round'"),
    "nul-byte": (lambda t: put(t, "d.csv", HEADER + ROW.replace("Yes", "Y\x00es")), "control characters"),
    "cp1252": (lambda t: put(t, "d.csv", (HEADER + ROW.replace("-", "–")).encode("cp1252")), "row 2, column 'round'"),
    "utf16": (lambda t: put(t, "d.csv", (HEADER + ROW).encode("utf-16")), "UTF-16"),
    "binary-garbage": (lambda t: put(t, "d.csv", bytes(range(256)) * 4), "d.csv"),
    "folder-as-data": (lambda t: str((t / "dir.csv").mkdir() or t / "dir.csv"), "dir.csv"),
    "xlsx-formula-no-value": (lambda t: xlsx(t, "d.xlsx", [WIDE_HEADER, ["2013-06", "Aldmoor", "London", "=A1", 1]]),
                              "formula"),
    "xlsx-date-round": (lambda t: xlsx(t, "d.xlsx", [WIDE_HEADER, [__import__("datetime").datetime(2014, 5, 1),
                                                                   "Aldmoor", "London", "Yes", 1]]), "date"),
    "xlsx-garbage": (lambda t: put(t, "d.xlsx", "not a workbook"), "Excel"),
    "duplicate-rows": (lambda t: put(t, "d.csv", HEADER + ROW + ROW), "row 3"),
    "ref-mismatch": (lambda t: put(t, "d.csv", HEADER + ROW.replace(",5,,", ",5,9.9,")), "column 'ref'"),
    "empty-locality": (lambda t: put(t, "d.csv", HEADER + ROW.replace("Aldmoor", "")), "column 'locality'"),
}
COMMANDS_ON_RETURNS: dict[str, Callable[[Path, Path, str], list[str]]] = {
    "train": lambda t, w, d: ["train", "--data", d, "--model-dir", str(t / "m")],
    "suggest": lambda t, w, d: ["suggest", "--data", d, "--model-dir", str(w / "models"), "--out", str(t / "s.csv")],
    "evaluate": lambda t, w, d: ["evaluate", "--data", d, "--model-dir", str(w / "models")],
    "report": lambda t, w, d: ["report", "--data", d, "--out", str(t / "r")],
    "audit": lambda t, w, d: ["audit", "--data", d, "--model-dir", str(w / "models"), "--out", str(t / "a.csv")],
    "drift": lambda t, w, d: ["drift", "--accepted", d, "--out", str(t / "drift.csv")],
    "retrain": lambda t, w, d: ["retrain", "--accepted", d, "--model-dir", str(t / "m")],
}
# every kind on train and suggest; a spread of kinds on the other readers (they share read_returns)
SPREAD = ["missing-file", "header-only", "unknown-code", "code-twice", "blank-round", "nul-byte", "utf16",
          "xlsx-formula-no-value"]


def returns_cases() -> list[Case]:
    out = []
    for cmd, args in COMMANDS_ON_RETURNS.items():
        kinds = BAD_RETURNS if cmd in ("train", "suggest") else SPREAD
        for kind in kinds:
            make, says = BAD_RETURNS[kind]
            out.append(Case(f"{cmd}-{kind}", lambda t, w, make=make, args=args: args(t, w, make(t)), says=says))
    return out


# ---------------------------------------------------------------------------------------------- codebooks
def codebook_text(change: Callable[[dict], None]) -> str:
    import yaml

    from coder.codebook import default_codebook_path

    path = default_codebook_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("training_examples", "calibration_examples"):  # the copy lives elsewhere
        data[key] = str(path.parent / data[key])
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def _set(path: list, value: object) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return change


BAD_CODEBOOKS: dict[str, tuple[Callable[[Path], str], str]] = {
    "section-id-not-number": (lambda t: put(t, "cb.yaml", codebook_text(_set(["sections", 0, "id"], "two"))),
                              "sections[0].id"),
    "multi-as-string": (lambda t: put(t, "cb.yaml", codebook_text(_set(["questions", 0, "multi"], "no"))), "multi"),
    "code-with-separator": (lambda t: put(t, "cb.yaml", codebook_text(_set(["questions", 2, "codes", 0, "code"],
                                                                            "1;2"))), "codes[0].code"),
    "question-id-not-number": (lambda t: put(t, "cb.yaml", codebook_text(_set(["questions", 0, "id"], "x"))),
                               "questions[0].id"),
    "stance-example-empty": (lambda t: put(t, "cb.yaml", codebook_text(_set(["stance_examples", "unclear"], []))),
                             "stance_examples.unclear"),
    "anchor-bomb": (lambda t: put(t, "cb.yaml", BOMB), "aliases"),
    "too-big": (lambda t: put(t, "cb.yaml", "# " + "x" * (3 * 2**20) + "\n"), "larger than"),
    "invalid-yaml": (lambda t: put(t, "cb.yaml", "name: [unclosed\n"), "not valid YAML"),
    "a-list": (lambda t: put(t, "cb.yaml", "- 1\n- 2\n"), "mapping"),
    "folder": (lambda t: str((t / "cb").mkdir() or t / "cb"), "folder"),
    "not-utf8": (lambda t: put(t, "cb.yaml", b"name: caf\xe9\n"), "UTF-8"),
    "python-tag": (lambda t: put(t, "cb.yaml", "name: !!python/object/apply:os.system [echo hi]\n"),
                   "not valid YAML"),
}


def _examples_codebook(t: Path, rows: str | None, header: str = "id,qid,codes,text",
                       key: str = "training_examples") -> str:
    """A codebook naming an examples file in `t` (`rows` under `header`) as `key`, or a file that is not there."""
    if rows is not None:
        put(t, "ex.csv", f"{header}\n{rows}")
    return put(t, "cb.yaml", codebook_text(lambda d: d.__setitem__(key, str(t / "ex.csv"))))


# a bad training-examples file (coder.examples): read by every training on the codebook
BAD_EXAMPLES: dict[str, tuple[Callable[[Path], str], str]] = {
    "examples-missing": (lambda t: _examples_codebook(t, None), "training_examples: file not found"),
    "examples-not-a-name": (lambda t: put(t, "cb.yaml", codebook_text(_set(["training_examples"], 5))),
                            "training_examples: must name a CSV or XLSX file"),
    "examples-unknown-code": (lambda t: _examples_codebook(t, "a1,3,1,Yes.\na2,3,7,Partly.\n"),
                              "row 3, column 'codes'"),
    "examples-blank-code": (lambda t: _examples_codebook(t, "a1,3,1,Yes.\na2,3,,Partly.\n"),
                            "row 3, column 'codes'"),
    "examples-unknown-question": (lambda t: _examples_codebook(t, "a1,99,1,Yes.\n"), "row 2, column 'qid'"),
    "examples-no-codes-column": (lambda t: _examples_codebook(t, "3,Yes.\n", header="qid,text"),
                                 "missing column 'codes'"),
    # the calibration examples (never trained on) are read the same way, before any training starts
    "calibration-missing": (lambda t: _examples_codebook(t, None, key="calibration_examples"),
                            "calibration_examples: file not found"),
    "calibration-unknown-code": (lambda t: _examples_codebook(t, "c1,3,1,Yes.\nc2,3,7,Partly.\n",
                                                              key="calibration_examples"), "row 3, column 'codes'"),
}


def codebook_cases() -> list[Case]:
    out = []
    for kind, (make, says) in BAD_EXAMPLES.items():
        out.append(Case(f"train-codebook-{kind}", lambda t, w, make=make: [
            "train", "--data", str(w / "sample.csv"), "--model-dir", str(t / "m"), "--codebook", make(t)], says=says))
    for kind, (make, says) in BAD_CODEBOOKS.items():
        out.append(Case(f"suggest-codebook-{kind}", lambda t, w, make=make: [
            "suggest", "--data", str(w / "sample.csv"), "--model-dir", str(w / "models"), "--out", str(t / "s.csv"),
            "--codebook", make(t)], says=says))
    for kind in ("anchor-bomb", "invalid-yaml", "multi-as-string", "stance-example-empty"):
        make, says = BAD_CODEBOOKS[kind]
        out.append(Case(f"train-codebook-{kind}", lambda t, w, make=make: [
            "train", "--data", str(w / "sample.csv"), "--model-dir", str(t / "m"), "--codebook", make(t)], says=says))
    return out


# ------------------------------------------------------------------------------------ report definitions
def definitions_text(change: Callable[[dict], None]) -> str:
    import yaml

    from coder.codebook import project_file

    data = yaml.safe_load(project_file("report-2013.yaml").read_text(encoding="utf-8"))
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _duplicate_label(d: dict) -> None:
    d["themes"][0]["lines"].append(dict(d["themes"][0]["lines"][0]))


def report_cases() -> list[Case]:
    def rep(*extra: str, data: str = "sample.csv"):
        return lambda t, w: ["report", "--data", str(w / data), "--out", str(t / "r"), *[
            e.format(t=t, w=w) for e in extra]]

    pub = "region,theme,question,line,pct,secondary\n"
    return [
        Case("report-valid", rep("--round", "2013-06"), rc=0, says="index.html",
             writes=("r/index.html", "r/report.json", "r/appendix3b.csv")),
        Case("report-definitions-bomb", lambda t, w: rep("--definitions", put(t, "defs.yaml", BOMB))(t, w),
             says="aliases"),
        Case("report-definitions-duplicate-label", lambda t, w: rep("--definitions", put(
            t, "defs.yaml", definitions_text(_duplicate_label)))(t, w), says="already the label"),
        Case("report-definitions-invalid-yaml", lambda t, w: rep("--definitions", put(t, "defs.yaml", "themes: [\n"))(
            t, w), says="not valid YAML"),
        Case("report-definitions-missing", rep("--definitions", "{t}/nope.yaml"), says="nope.yaml"),
        Case("report-published-missing-column", lambda t, w: rep("--published", put(
            t, "pub.csv", "region,question\nNational,5\n"))(t, w), says="column 'pct'"),
        Case("report-published-pct-abc", lambda t, w: rep("--published", put(
            t, "pub.csv", pub + "London,T,5,L,abc,\n"))(t, w), says="row 2, column 'pct'"),
        Case("report-published-question-text", lambda t, w: rep("--published", put(
            t, "pub.csv", pub + "London,T,five,L,50,\n"))(t, w), says="column 'question'"),
        Case("report-min-requests-negative", rep("--min-requests", "-5"), says="--min-requests"),
        Case("report-min-requests-zero", rep("--min-requests", "0"), says="--min-requests"),
        Case("report-round-missing", rep("--round", "1999-01"), says="1999-01"),
        Case("report-compare-same-round", rep("--round", "2013-06", "--compare", "2013-06"), says="--compare"),
        Case("report-pending-robot", rep("--pending", "robot"), says="robot"),
        Case("report-source-robot", lambda t, w: ["report", "--data", put(
            t, "acc.csv", HEADER.strip() + ",source,suggested\n" + ROW.strip() + ",robot,\n"), "--out", str(t / "r")],
             says="column 'source'"),
        Case("report-out-is-the-data", lambda t, w: [
            "report", "--data", put(t, "d.csv", (w / "sample.csv").read_text()), "--out", str(t / "d.csv")],
             says="overwrite"),
        Case("report-out-contains-the-data", lambda t, w: ["report", "--data", put(
            t, "r/d.csv", (w / "sample.csv").read_text()), "--out", str(t / "r")], says="overwrite"),
        Case("report-out-is-a-file", lambda t, w: ["report", "--data", str(w / "sample.csv"), "--out",
                                                    put(t, "r.txt", "x")], says="not a folder"),
        Case("report-out-under-a-file", lambda t, w: ["report", "--data", str(w / "sample.csv"), "--out",
                                                       str(Path(put(t, "f", "x")) / "r")], says="not a folder"),
        Case("report-out-folder-with-other-files", lambda t, w: ["report", "--data", str(w / "sample.csv"), "--out",
                                                                  str(Path(put(t, "mine/notes.txt", "x")).parent)],
             says="other files"),
        Case("report-localities-sharing-a-slug", lambda t, w: ["report", "--data", put(
            t, "d.csv", HEADER + ROW + ROW.replace("Aldmoor", "St. Helens") + ROW.replace("Aldmoor", "St Helens")),
            "--out", str(t / "r")], rc=0, writes=("r/proforma/st-helens.html", "r/proforma/st-helens-2.html")),
    ]


# -------------------------------------------------------------------------------------- --out and friends
def out_cases() -> list[Case]:
    def suggest(out: Callable[[Path, Path], str]):
        return lambda t, w: ["suggest", "--data", put(t, "d.csv", (w / "sample.csv").read_text()), "--model-dir",
                             str(w / "models"), "--out", out(t, w)]

    def link(t: Path, kind: str) -> str:
        (os.symlink if kind == "sym" else os.link)(t / "d.csv", t / "alias.csv")
        return str(t / "alias.csv")

    sug = lambda t, w: put(t, "s.csv", (w / "suggestions.csv").read_text())  # noqa: E731
    acc = lambda t, w: put(t, "acc.csv", (w / "accepted.csv").read_text())  # noqa: E731
    return [
        Case("suggest-valid", suggest(lambda t, w: str(t / "s.csv")), rc=0, says="wrote", writes=("s.csv",)),
        Case("suggest-out-is-data", suggest(lambda t, w: str(t / "d.csv")), says="overwrite"),
        Case("suggest-out-is-data-other-spelling", suggest(lambda t, w: str(t / "x" / ".." / "d.csv")),
             says="overwrite"),
        Case("suggest-out-symlink-to-data", suggest(lambda t, w: link(t, "sym")), says="overwrite"),
        Case("suggest-out-hardlink-to-data", suggest(lambda t, w: link(t, "hard")), says="overwrite"),
        Case("suggest-out-is-a-folder", suggest(lambda t, w: str((t / "o").mkdir() or t / "o")), says="folder"),
        Case("suggest-out-under-a-file", suggest(lambda t, w: str(Path(put(t, "f", "x")) / "s.csv")),
             says="not a folder"),
        Case("suggest-out-in-model-dir", suggest(lambda t, w: str(w / "models" / "registry.json")), says="input"),
        Case("suggest-out-is-codebook", lambda t, w: ["suggest", "--data", str(w / "sample.csv"), "--model-dir",
                                                       str(w / "models"), "--codebook", put(t, "cb.yaml", codebook_text(
                                                           lambda d: None)), "--out", str(t / "cb.yaml")],
             says="overwrite"),
        Case("suggest-target-precision-2", lambda t, w: [
            "suggest", "--data", str(w / "sample.csv"), "--model-dir", str(w / "models"), "--out", str(t / "s.csv"),
            "--target-precision", "2"], says="--target-precision"),
        Case("accept-valid", lambda t, w: ["accept", "--suggestions", sug(t, w), "--store", str(t / "ann"),
                                           "--out", str(t / "acc.csv")], rc=0, writes=("acc.csv",)),
        Case("accept-out-is-suggestions", lambda t, w: ["accept", "--suggestions", sug(t, w), "--store",
                                                        str(t / "ann"), "--out", str(t / "s.csv")], says="overwrite"),
        Case("accept-out-in-store", lambda t, w: ["accept", "--suggestions", sug(t, w), "--store", str(
            Path(put(t, "ann/reviews.jsonl", "")).parent), "--out", str(t / "ann" / "acc.csv")], says="input folder"),
        Case("accept-store-is-a-file", lambda t, w: ["accept", "--suggestions", sug(t, w), "--store",
                                                     put(t, "ann", "x"), "--out", str(t / "acc.csv")],
             says="not a folder"),
        Case("accept-out-not-csv", lambda t, w: ["accept", "--suggestions", sug(t, w), "--store", str(t / "ann"),
                                                 "--out", str(t / "acc.txt")], says=".csv"),
        Case("review-order-valid", lambda t, w: ["review", "order", "--suggestions", sug(t, w), "--out",
                                                 str(t / "o.csv")], rc=0, writes=("o.csv",)),
        Case("review-order-in-place", lambda t, w: ["review", "order", "--suggestions", sug(t, w), "--out",
                                                    str(t / "s.csv")], says="overwrite"),
        Case("review-order-duplicate-labels", lambda t, w: ["review", "order", "--suggestions", sug(t, w),
                                                            "--definitions", put(t, "defs.yaml", definitions_text(
                                                                _duplicate_label)), "--out", str(t / "o.csv")],
             says="already the label"),
        Case("review-order-bad-order", lambda t, w: ["review", "order", "--suggestions", sug(t, w), "--out",
                                                     str(t / "o.csv"), "--order", "random"], says="random"),
        Case("drift-valid", lambda t, w: ["drift", "--accepted", acc(t, w)], rc=0),
        Case("drift-out-is-accepted", lambda t, w: ["drift", "--accepted", acc(t, w), "--out", str(t / "acc.csv")],
             says="overwrite"),
        Case("audit-valid-readme", lambda t, w: ["audit", "--data", str(w / "sample.csv"), "--model-dir",
                                                 str(w / "models"), "--out", str(t / "audit.csv")], rc=0,
             says="flagged", writes=("audit.csv",)),
        Case("audit-on-accepted-table", lambda t, w: ["audit", "--data", acc(t, w), "--model-dir", str(w / "models"),
                                                      "--out", str(t / "audit.csv")], rc=0, writes=("audit.csv",)),
        Case("audit-out-is-data", lambda t, w: ["audit", "--data", acc(t, w), "--model-dir", str(w / "models"),
                                                "--out", str(t / "acc.csv")], says="overwrite"),
        Case("train-model-dir-is-a-file", lambda t, w: ["train", "--data", str(w / "sample.csv"), "--model-dir",
                                                        put(t, "m", "x")], says="not a folder"),
        Case("train-model-dir-is-the-data", lambda t, w: ["train", "--data", put(t, "m/d.csv", HEADER + ROW),
                                                          "--model-dir", str(t / "m")], says="overwrite"),
        Case("train-one-code-per-question", lambda t, w: ["train", "--data", put(t, "d.csv", HEADER + "".join(
            f"2013-06,L{i},London,{q},,answer {i} about question {q},1,,s{i}-{q}\n" for i in range(12)
            for q in (3, 5))), "--model-dir", str(t / "m")], says="single code"),
        Case("train-threshold-method-bogus", lambda t, w: ["train", "--data", str(w / "sample.csv"), "--model-dir",
                                                           str(t / "m"), "--threshold-method", "bogus"], says="bogus"),
        Case("retrain-holdout-out-of-range", lambda t, w: ["retrain", "--accepted", str(w / "sample.csv"),
                                                           "--model-dir", str(t / "m"), "--holdout", "0.9"],
             says="--holdout"),
        Case("retrain-delta-out-of-range", lambda t, w: ["retrain", "--accepted", str(w / "sample.csv"),
                                                         "--model-dir", str(t / "m"), "--delta", "2"], says="--delta"),
        Case("retrain-model-dir-is-a-file", lambda t, w: ["retrain", "--accepted", str(w / "sample.csv"),
                                                          "--model-dir", put(t, "m", "x")], says="not a folder"),
        Case("demo-workdir-is-a-file", lambda t, w: ["demo", "--workdir", put(t, "demo", "x")], says="not a folder"),
        Case("usage-unknown-option", lambda t, w: ["suggest", "--no-such-option"], says="No such option"),
        Case("usage-missing-option", lambda t, w: ["suggest", "--data", str(w / "sample.csv")], says="Missing option"),
        Case("server-port-out-of-range", lambda t, w: ["review", "server", "start", "--port", "80"], says="--port"),
        Case("push-batch-size-zero", lambda t, w: ["review", "push", "--suggestions", sug(t, w), "--batch-size", "0"],
             says="--batch-size"),
        Case("push-store-is-a-file", lambda t, w: ["review", "push", "--suggestions", sug(t, w), "--store",
                                                   put(t, "ann", "x")], says="not a folder"),
        Case("pull-store-is-a-file", lambda t, w: ["review", "pull", "--store", put(t, "ann", "x")],
             says="not a folder"),
    ]
