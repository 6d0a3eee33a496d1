"""More cases for tests/test_bad_inputs.py: model folders, review stores, suggestions files and documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bad_inputs_cases import HEADER, ROW, SUGGEST_HEADER, Case, models_copy, put, version_of


# ------------------------------------------------------------------------------------------- model folders
def _registry(t: Path, w: Path, text: str) -> Path:
    m = models_copy(t, w)
    (m / "registry.json").write_text(text)
    return m


def _manifest(t: Path, w: Path, text: str) -> Path:
    m = models_copy(t, w)
    (version_of(m) / "manifest.json").write_text(text)
    return m


def _current(t: Path, w: Path, current: str) -> Path:
    m = models_copy(t, w)
    reg = json.loads((m / "registry.json").read_text())
    reg["current"] = current
    (m / "registry.json").write_text(json.dumps(reg))
    return m


DAMAGED_MODELS = {
    "registry-invalid-json": (lambda t, w: _registry(t, w, "{not json"), "registry.json"),
    "registry-a-list": (lambda t, w: _registry(t, w, "[]"), "not a JSON object"),
    "registry-versions-not-list": (lambda t, w: _registry(t, w, '{"current": "v1", "versions": 3}'), "versions"),
    "registry-current-escapes": (lambda t, w: _current(t, w, "../../.."), "current"),
    "registry-current-absolute": (lambda t, w: _current(t, w, "/etc"), "current"),
    "manifest-invalid-json": (lambda t, w: _manifest(t, w, "{"), "manifest.json"),
    "manifest-a-list": (lambda t, w: _manifest(t, w, "[1, 2]"), "not a JSON object"),
    "model-dir-is-a-file": (lambda t, w: Path(put(t, "models", "x")), "not a folder"),
    "model-dir-empty": (lambda t, w: (t / "models").mkdir() or t / "models", "coder train"),
}


def model_cases() -> list[Case]:
    out = []
    for kind, (make, says) in DAMAGED_MODELS.items():
        out.append(Case(f"suggest-{kind}", lambda t, w, make=make: [
            "suggest", "--data", str(w / "sample.csv"), "--model-dir", str(make(t, w)), "--out", str(t / "s.csv")],
            says=says))
    for cmd in ("evaluate", "audit", "models", "retrain"):
        for kind in ("registry-invalid-json", "registry-a-list", "registry-current-escapes", "manifest-a-list"):
            make, says = DAMAGED_MODELS[kind]
            if cmd == "models" and kind == "manifest-a-list":
                continue  # listing reads only the registry
            args = {"evaluate": lambda t, w, m: ["evaluate", "--data", str(w / "sample.csv"), "--model-dir", m],
                    "audit": lambda t, w, m: ["audit", "--data", str(w / "sample.csv"), "--model-dir", m, "--out",
                                              str(t / "a.csv")],
                    "models": lambda t, w, m: ["models", "--model-dir", m],
                    "retrain": lambda t, w, m: ["retrain", "--accepted", str(w / "sample.csv"), "--model-dir", m],
                    }[cmd]
            out.append(Case(f"{cmd}-{kind}", lambda t, w, make=make, args=args: args(t, w, str(make(t, w))),
                            says=says))
    out += [
        Case("train-registry-invalid-json", lambda t, w: [
            "train", "--data", str(w / "sample.csv"), "--model-dir", str(_registry(t, w, "{"))], says="registry.json"),
        Case("models-list-valid", lambda t, w: ["models", "--model-dir", str(w / "models")], rc=0, says="v1"),
        Case("models-use-unknown-version", lambda t, w: ["models", "use", "v9", "--model-dir", str(models_copy(t, w))],
             says="v9"),
        Case("models-use-path-as-version", lambda t, w: ["models", "use", "../..", "--model-dir",
                                                         str(models_copy(t, w))], says="no model version"),
        Case("models-use-model-dir-before-use", lambda t, w: [
            "models", "--model-dir", str(models_copy(t, w, "elsewhere")), "use", "v1"], rc=0, says="current model",
            writes=("elsewhere/registry.json",)),
        Case("models-use-model-dir-before-use-unknown", lambda t, w: [
            "models", "--model-dir", str(models_copy(t, w)), "use", "v7"], says="registry.json"),
    ]
    return out


# -------------------------------------------------------------------------------------------- review store
def _store(t: Path, line: str) -> str:
    return str(Path(put(t, "ann/reviews.jsonl", line + "\n")).parent)


GOOD_REVIEW = {"record_id": "p1|a1|t", "annotation": "a1", "round": "2013-06", "locality": "Aldmoor",
               "qid": 5, "codes": "1", "reviewer": "r@x", "reviewed_at": "2026-01-01T00:00:00"}
BAD_REVIEWS = {
    "line-not-json": ("{nope", "line is not valid JSON"),
    "line-a-list": ("[1, 2]", "not a JSON object"),
    "no-record-id": (json.dumps({k: v for k, v in GOOD_REVIEW.items() if k != "record_id"}), "record_id"),
    "qid-not-number": (json.dumps(GOOD_REVIEW | {"qid": "abc"}), "column 'qid'"),
    "code-not-in-codebook": (json.dumps(GOOD_REVIEW | {"codes": "9"}), "column 'codes'"),
    "code-banana": (json.dumps(GOOD_REVIEW | {"codes": "banana"}), "column 'codes'"),
    "no-locality": (json.dumps({k: v for k, v in GOOD_REVIEW.items() if k != "locality"}), "locality"),
}


def store_cases() -> list[Case]:
    out = []
    for kind, (line, _) in BAD_REVIEWS.items():
        out.append(Case(f"accept-reviews-{kind}", lambda t, w, line=line: [
            "accept", "--suggestions", put(t, "s.csv", (w / "suggestions.csv").read_text()), "--store",
            _store(t, line), "--out", str(t / "acc.csv")], says="reviews.jsonl, row 1"))
        out.append(Case(f"status-reviews-{kind}", lambda t, w, line=line: [
            "status", "--store", _store(t, line)], says="reviews.jsonl"))
    out += [
        Case("accept-reviews-valid", lambda t, w: [
            "accept", "--suggestions", put(t, "s.csv", (w / "suggestions.csv").read_text()), "--store",
            _store(t, json.dumps(GOOD_REVIEW)), "--out", str(t / "acc.csv")], rc=0, says=" human",
            writes=("acc.csv",)),
        Case("status-valid", lambda t, w: ["status", "--store", _store(t, json.dumps(GOOD_REVIEW))], rc=0,
             says="Review progress"),
        Case("status-state-json-invalid", lambda t, w: [
            "status", "--store", str(Path(put(t, "ann/state.json", "{oops")).parent)], says="state.json"),
        Case("status-state-json-list", lambda t, w: [
            "status", "--store", str(Path(put(t, "ann/state.json", "[]")).parent)], says="state.json"),
        Case("status-store-is-a-file", lambda t, w: ["status", "--store", put(t, "ann", "x")], says="ann"),
    ]
    return out


# -------------------------------------------------------------------------------------- suggestions files
def _suggestions(t: Path, w: Path, column: str, value: str | None = None) -> str:
    """The first rows of the shared suggestions file with one cell of the first row changed."""
    import pandas as pd

    df = pd.read_csv(w / "suggestions.csv", dtype=str, keep_default_na=False).head(4)
    if column not in df.columns:
        df[column] = ""
    if value is None:  # a valid human code: the suggestion itself (NR for a blank answer)
        value = df.loc[0, "suggested"] if df.loc[0, "text"].strip() else "NR"
    df.loc[0, column] = value
    df.to_csv(t / "s.csv", index=False)
    return str(t / "s.csv")


def suggestion_cases() -> list[Case]:
    def acc(make):
        return lambda t, w: ["accept", "--suggestions", make(t, w), "--store", str(t / "ann"), "--out",
                             str(t / "acc.csv")]

    return [
        Case("accept-suggestions-header-only", acc(lambda t, w: put(t, "s.csv", SUGGEST_HEADER + "\n")),
             says="no rows"),
        Case("accept-human-codes-9", acc(lambda t, w: _suggestions(t, w, "human_codes", "9")),
             says="row 2, column 'human_codes'"),
        Case("accept-human-codes-banana", acc(lambda t, w: _suggestions(t, w, "human_codes", "banana")),
             says="column 'human_codes'"),
        Case("accept-human-codes-twice", acc(lambda t, w: _suggestions(t, w, "human_codes", "1;1")),
             says="column 'human_codes'"),
        Case("accept-human-codes-valid", acc(lambda t, w: _suggestions(t, w, "human_codes")), rc=0, says=" human",
             writes=("acc.csv",)),
        Case("accept-confidence-abc", acc(lambda t, w: _suggestions(t, w, "confidence", "abc")),
             says="column 'confidence'"),
        Case("accept-confidence-7", acc(lambda t, w: _suggestions(t, w, "confidence", "7")),
             says="column 'confidence'"),
        Case("accept-route-robot", acc(lambda t, w: _suggestions(t, w, "route", "robot")), says="column 'route'"),
        Case("accept-suggested-9", acc(lambda t, w: _suggestions(t, w, "suggested", "9")), says="column 'suggested'"),
        Case("accept-suggestions-missing-columns", acc(lambda t, w: put(t, "s.csv", HEADER + ROW)), says="missing"),
        Case("accept-suggestions-missing", acc(lambda t, w: str(t / "nope.csv")), says="nope.csv"),
        Case("drift-confidence-abc", lambda t, w: ["drift", "--accepted", put(
            t, "acc.csv", HEADER.strip() + ",source,suggested,confidence\n" + ROW.strip() + ",human,1,abc\n")],
             says="column 'confidence'"),
        Case("drift-confidence-7", lambda t, w: ["drift", "--accepted", put(
            t, "acc.csv", HEADER.strip() + ",source,suggested,confidence\n" + ROW.strip() + ",human,1,7\n")],
             says="column 'confidence'"),
        Case("drift-suggested-banana", lambda t, w: ["drift", "--accepted", put(
            t, "acc.csv", HEADER.strip() + ",source,suggested,confidence\n" + ROW.strip() + ",human,banana,0.5\n")],
             says="column 'suggested'"),
        Case("drift-source-robot", lambda t, w: ["drift", "--accepted", put(
            t, "acc.csv", HEADER.strip() + ",source\n" + ROW.strip() + ",robot\n")], says="column 'source'"),
    ]


# ---------------------------------------------------------------------------------------------- documents
def _docs(t: Path) -> Path:
    d = t / "docs"
    put(t, "docs/a.txt", "Joint protocol for sharing information between the council and the CCG. " * 20)
    return d


def _labels(t: Path, w: Path, row: str, header: str = "file,title,doc_type,sections,questions,priorities") -> str:
    put(t, "lab/a.txt", "This protocol sets out how partners share information about people at risk. " * 20)
    put(t, "secret.txt", "the neighbour's secret diary " * 50)
    return put(t, "lab/labels.csv", f"{header}\n{row}\n")


LABEL_OK = "a.txt,A protocol,protocol,5,32,keeping people safe"


def document_cases() -> list[Case]:
    def train(row: str, answers: str | None = None, header: str | None = None):
        def build(t: Path, w: Path) -> list[str]:
            labels = _labels(t, w, row, **({"header": header} if header else {}))
            ans = put(t, "answers.jsonl", answers) if answers is not None else str(w / "answers.jsonl")
            return ["docs", "train", "--labels", labels, "--answers", ans, "--model-dir", str(t / "dm"), "--no-eval"]
        return build

    def code(*extra: str, folder=_docs, model: str = "docmodel"):
        return lambda t, w: ["docs", "code", "--input", str(folder(t)), "--model-dir", str(w / model), *[
            e.format(t=t, w=w) for e in extra]]

    def search(*extra: str):
        return lambda t, w: ["docs", "search", "pooled budget", "--model-dir", str(w / "docmodel"), *[
            e.format(t=t, w=w) for e in extra]]

    def hostile_folder(t: Path) -> Path:
        d = _docs(t)
        put(t, "outside/secret.txt", "the neighbour's secret diary entry about the pooled budget " * 20)
        os.symlink(t / "outside" / "secret.txt", d / "link.txt")
        put(t, "docs/=HYPERLINK(\"evil\")", "a plan for the pooled budget of the partnership " * 20)
        return d

    return [
        Case("docs-train-labels-escape-folder", train("../secret.txt,S,protocol,5,32,keeping people safe"),
             says="column 'file'"),
        Case("docs-train-labels-absolute-path", lambda t, w: train(
            f"{t / 'secret.txt'},S,protocol,5,32,keeping people safe")(t, w), says="column 'file'"),
        Case("docs-train-section-12", train("a.txt,A,protocol,12,32,keeping people safe"), says="column 'sections'"),
        Case("docs-train-question-99", train("a.txt,A,protocol,5,99,keeping people safe"), says="row 2"),
        Case("docs-train-doc-type-unknown", train("a.txt,A,poem,5,32,keeping people safe"), says="column 'doc_type'"),
        Case("docs-train-priority-unknown", train("a.txt,A,protocol,5,32,world peace"), says="column 'priorities'"),
        Case("docs-train-duplicated-label-rows", train(LABEL_OK + "\n" + LABEL_OK), says="twice"),
        Case("docs-train-missing-column", train("a.txt,A", header="file,title"), says="column"),
        Case("docs-train-answers-not-utf8", lambda t, w: train(LABEL_OK)(t, w)[:4] + ["--answers",
            put(t, "answers.jsonl", b'{"qid": 1, "text": "caf\xe9"}\n'), "--model-dir", str(t / "dm"), "--no-eval"],
             says="UTF-8"),
        Case("docs-train-answers-qid-99", train(LABEL_OK, '{"qid": 99, "text": "yes"}\n'), says="column 'qid'"),
        Case("docs-train-answers-empty", train(LABEL_OK, ""), says="no answers"),
        Case("docs-train-answers-a-list", train(LABEL_OK, "[1, 2]\n"), says="row 1"),
        Case("docs-train-model-dir-is-a-file", lambda t, w: train(LABEL_OK)(t, w)[:-3] + [
            "--model-dir", put(t, "dm", "x"), "--no-eval"], says="not a folder"),
        Case("docs-code-out-inside-input", code("--out", "{t}/docs/documents.csv"), says="input folder"),
        Case("docs-code-out-is-a-document", code("--out", "{t}/docs/a.txt"), says="input"),
        Case("docs-code-target-precision-5", code("--out", "{t}/c.csv", "--target-precision", "5"),
             says="--target-precision"),
        Case("docs-code-workers-negative", code("--out", "{t}/c.csv", "--workers", "-3"), says="--workers"),
        Case("docs-code-max-mb-negative", code("--out", "{t}/c.csv", "--max-mb", "-1"), says="--max-mb"),
        Case("docs-code-max-pages-zero", code("--out", "{t}/c.csv", "--max-pages", "0"), says="--max-pages"),
        Case("docs-code-input-is-a-file", lambda t, w: ["docs", "code", "--input", put(t, "f.txt", "x"),
                                                        "--model-dir", str(w / "docmodel"), "--out", str(t / "c.csv")],
             says="not a folder"),
        Case("docs-code-answers-model", code("--out", "{t}/c.csv", model="models"), says="models"),
        Case("docs-code-hostile-folder", code("--out", "{t}/c.csv", folder=hostile_folder), rc=0,
             writes=("c.csv", "c.json")),
        Case("docs-search-k-zero", search("-k", "0"), says="-k"),
        Case("docs-search-k-negative", search("-k", "-5"), says="-k"),
        Case("docs-search-index-not-json", lambda t, w: search("--index", put(t, "i.index.json", "{nope"))(t, w),
             says="not valid JSON"),
        Case("docs-search-index-a-list", lambda t, w: search("--index", put(t, "i.index.json", "[]"))(t, w),
             says="i.index.json"),
        Case("docs-search-index-vectors-outside", lambda t, w: search("--index", put(t, "i.index.json", json.dumps(
            {"vectors": "../../etc/x.npy", "passages": []})))(t, w), says="outside"),
        Case("docs-search-index-of-another-model", lambda t, w: search("--index", put(
            t, "i.index.json", json.dumps({**json.loads((w / "coded.index.json").read_text()),
                                           "model_version": "docs-000000000000"})))(t, w), says="index built by"),
        Case("docs-search-answers-model", lambda t, w: ["docs", "search", "pooled budget", "--model-dir",
                                                        str(w / "models"), "--index", str(w / "coded.index.json")],
             says="documents model"),
        Case("docs-search-empty-query", lambda t, w: ["docs", "search", "  ", "--model-dir", str(w / "docmodel"),
                                                      "--index", str(w / "coded.index.json")], says="empty"),
        Case("docs-search-valid-no-escapes", search("--index", "{w}/coded.index.json", "-k", "3"), rc=0,
             says="p. "),
        Case("docs-accept-out-is-coded", lambda t, w: ["docs", "accept", "--coded", str(w / "coded.csv"), "--store",
                                                       str(t / "ann"), "--out", str(w / "coded.csv")],
             says="overwrite"),
        Case("docs-accept-store-is-a-file", lambda t, w: ["docs", "accept", "--coded", str(w / "coded.csv"),
                                                          "--store", put(t, "ann", "x"), "--out", str(t / "f.csv")],
             says="not a folder"),
        Case("docs-accept-store-line-without-sha", lambda t, w: [
            "docs", "accept", "--coded", str(w / "coded.csv"), "--store", str(Path(put(
                t, "ann/documents.jsonl", '{"record_id": "x"}\n')).parent), "--out", str(t / "f.csv")], says="sha256"),
        Case("docs-accept-valid", lambda t, w: ["docs", "accept", "--coded", str(w / "coded.csv"), "--store",
                                                str(t / "ann"), "--out", str(t / "f.csv")], rc=0, writes=("f.csv",)),
    ]
