"""Learn document codes from labelled documents and the answer bank; save and load the model.

The model is a skops file of plain estimators and arrays (never pickle) with a JSON manifest holding its
sha256: a file that does not match, or that holds any other type, is refused.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from coder.codebook import Codebook, load_codebook
from coder.documents.calibrate import heldout_results, heldout_rows
from coder.documents.embed import DEFAULT_DOCUMENT_EMBEDDER, embed_document, make_embedder
from coder.documents.extract import DocumentError, content_hash
from coder.documents.model import DocumentCoder, EmbeddedDocument
from coder.documents.passages import prepare
from coder.documents.route import routing_summary, stored_rows
from coder.documents.vocab import DOC_TYPES, PRIORITIES
from coder.errors import InputError
from coder.files import staged_files
from coder.model.safe_load import load_trusted, skops_io
from coder.model.store import read_json_object

MODEL_FILE = "documents.skops"
MANIFEST_FILE = "manifest.json"


SCHEMA = 1


def read_labels(path: str | Path, codebook: Codebook) -> list[dict]:
    """labels.csv (file, title, doc_type, sections, questions, priorities); files sit beside it."""
    from coder.returns import read_table  # one CSV reader: encodings, repeated column names, control characters

    path = Path(path)
    df = read_table(path)
    for col in ("file", "doc_type", "sections", "questions", "priorities"):
        if col not in df.columns:
            raise InputError("missing column", file=str(path), column=col)
    out = []
    seen: set[str] = set()
    folder = path.parent.resolve()
    section_ids = {s.id for s in codebook.sections}
    for i, r in df.iterrows():
        row = int(i) + 2
        f = path.parent / r["file"]
        inside = not f.is_symlink() and folder in f.resolve().parents
        if not r["file"].strip() or not inside or not f.is_file():
            raise InputError(f"document {r['file']!r} is not a file in the labels file's folder", file=str(path),
                             row=row, column="file")
        if f.resolve() in seen:
            raise InputError(f"document {r['file']!r} is labelled twice", file=str(path), row=row, column="file")
        seen.add(f.resolve())
        if r["doc_type"] not in DOC_TYPES:
            raise InputError(f"unknown doc_type {r['doc_type']!r}; one of {', '.join(DOC_TYPES)}",
                             file=str(path), row=row, column="doc_type")
        try:
            qs = [int(x) for x in _split(r["questions"])]
            secs = [int(x) for x in _split(r["sections"])]
            for q in qs:
                codebook.question(q)
        except (ValueError, KeyError) as e:
            raise InputError(f"bad question/section number ({str(e).strip(chr(34))})", file=str(path),
                             row=row) from None
        bad = [s for s in secs if section_ids and s not in section_ids]
        if bad:
            raise InputError(f"section {bad[0]} is not in codebook {codebook.name!r}", file=str(path), row=row,
                             column="sections")
        pris = _split(r["priorities"])
        for p in pris:
            if p not in PRIORITIES:
                raise InputError(f"unknown priority {p!r}; one of {', '.join(PRIORITIES)}", file=str(path),
                                 row=row, column="priorities")
        out.append({"file": f, "doc_type": r["doc_type"], "sections": secs, "questions": qs,
                    "priorities": pris})
    if not out:
        raise InputError("no labelled documents", file=str(path))
    return out


def _split(cell: str) -> list[str]:
    return [x.strip() for x in str(cell).split(";") if x.strip()]


def read_answers(path: str | Path, codebook: Codebook) -> tuple[list[str], list[int]]:
    """The answer bank: every written answer is evidence for its question (whatever its code)."""
    path = Path(path)
    texts, qids = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise InputError(f"answers are not UTF-8 text (byte {e.start})", file=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read answers: {e.strerror}", file=str(path)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            qid, text = int(d["qid"]), str(d["text"])
        except (ValueError, KeyError, TypeError):
            raise InputError("not a JSON object with qid and text", file=str(path), row=n) from None
        if qid not in codebook.by_id:
            raise InputError(f"question {qid} is not in codebook {codebook.name!r}", file=str(path), row=n,
                             column="qid")
        if not text.strip():
            continue
        texts.append(text.replace("{AREA}", "the area").replace("{CCG}", "the CCG"))
        qids.append(qid)
    if not texts:
        raise InputError("the answer bank has no answers", file=str(path))
    return texts, qids


def _file_hash(path: Path) -> str:
    return content_hash(path.read_bytes())


def evaluate_loo(docs: list[EmbeddedDocument], labels: list[dict], codebook: Codebook,
                 results: list[dict] | None = None, **fit_kw) -> dict:
    """Leave-one-document-out figures on the labelled documents (the answer bank is in every fold).
    `results`: the held-out predictions if already made (calibrate.heldout_results)."""
    n = len(docs)
    if results is None:
        results = heldout_results(docs, labels, codebook, **fit_kw)
    t_ok = 0
    tp = {"sections": 0, "questions": 0, "priorities": 0}
    n_true = dict.fromkeys(tp, 0)
    n_pred = dict.fromkeys(tp, 0)
    for i in range(n):
        r = results[i]
        t_ok += r["doc_type"]["code"] == labels[i]["doc_type"]
        for k in tp:
            pred = {c["code"] for c in r[k]}
            truth = set(labels[i][k])
            tp[k] += len(pred & truth)
            n_true[k] += len(truth)
            n_pred[k] += len(pred)
    out = {"documents": n, "type_accuracy": round(t_ok / n, 4)}
    for k in tp:
        p = tp[k] / n_pred[k] if n_pred[k] else 0.0
        r_ = tp[k] / n_true[k] if n_true[k] else 0.0
        out[f"{k}_micro_f1"] = round(2 * tp[k] / (n_pred[k] + n_true[k]), 4) if n_pred[k] + n_true[k] else 0.0
        out[f"{k}_precision"] = round(p, 4)
        out[f"{k}_recall"] = round(r_, 4)
    return out


def train(labels_path: str | Path, answers_path: str | Path, model_dir: str | Path, *,
          codebook: Codebook | None = None, embedder_name: str = DEFAULT_DOCUMENT_EMBEDDER, evaluate: bool = True,
          progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Learn from labelled documents + the answer bank; save the model (skops) and a JSON manifest."""
    codebook = codebook or load_codebook()
    labels = read_labels(labels_path, codebook)
    texts, qids = read_answers(answers_path, codebook)
    embedder = make_embedder(embedder_name)
    docs = []
    for k, lab in enumerate(labels):
        data = lab["file"].read_bytes()
        try:
            passages, pages = prepare(data, lab["file"].suffix)
        except DocumentError as e:
            raise InputError(f"labelled document cannot be read: {e}", file=str(lab["file"])) from None
        docs.append(embed_document(passages, pages, embedder))
        if progress:
            progress("documents", k + 1, len(labels))
    answer_vectors = embedder.encode(texts, progress=(lambda d, t: progress("answers", d, t))
                                     if progress else None)
    question_vectors = embedder.encode([q.text for q in codebook.questions])
    priority_vectors = embedder.encode(list(PRIORITIES.values()))
    fit_kw = {"answer_vectors": answer_vectors, "answer_qids": qids, "question_vectors": question_vectors,
              "priority_vectors": priority_vectors}
    model = DocumentCoder(codebook).fit(docs, labels, **fit_kw)
    metrics, routing = {}, {}
    if len(docs) >= 3:  # held-out predictions: the field calibration needs them, the figures come with them
        results = heldout_results(docs, labels, codebook, passage_clf=model.passage_clf_, **fit_kw)
        model.heldout_ = stored_rows(heldout_rows(results, labels))
        routing = routing_summary(model.heldout_)
        if evaluate:
            metrics = evaluate_loo(docs, labels, codebook, results=results)
    model_dir = Path(model_dir)
    # the model and its manifest are one version: written aside, swapped in together
    with staged_files([model_dir / MODEL_FILE, model_dir / MANIFEST_FILE]) as tmp:
        skops_io().dump(model.state(), tmp[model_dir / MODEL_FILE])
        manifest = _manifest(labels_path, answers_path, labels, codebook, embedder_name, embedder, docs, texts,
                             _file_hash(tmp[model_dir / MODEL_FILE]), metrics, routing, model)
        tmp[model_dir / MANIFEST_FILE].write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                                  encoding="utf-8")
    return manifest


def _manifest(labels_path, answers_path, labels: list[dict], codebook: Codebook, embedder_name: str, embedder,
              docs: list, texts: list[str], model_sha256: str, metrics: dict, routing: dict, model) -> dict:
    """What a documents model was made from and how good it was (written beside documents.skops)."""
    data_hash = hashlib.sha256()
    for b in (Path(labels_path).read_bytes(), Path(answers_path).read_bytes()):
        data_hash.update(hashlib.sha256(b).digest())
    for lab in labels:
        data_hash.update(bytes.fromhex(_file_hash(lab["file"])))
    manifest = {
        "schema": SCHEMA, "kind": "coder-documents",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "codebook": codebook.name, "codebook_sha256": codebook.sha256, "codebook_path": codebook.path,
        "data_sha256": data_hash.hexdigest(),
        "embedder": embedder_name, "embedder_fingerprint": embedder.fingerprint,
        "labelled_documents": len(docs), "answers": len(texts),
        "model_file": MODEL_FILE,
        "model_sha256": model_sha256,
        "metrics_leave_one_out": metrics,
        "field_routing": routing,
        "fallbacks": {"questions": {str(q): b for q, b in model.basis_.items() if b == "codebook wording"},
                      "priorities": {p: b for p, b in model.priority_basis_.items() if b == "description"},
                      "doc_types": {t: b for t, b in model.type_basis_.items() if b == "lexicon"}},
    }
    manifest["model_version"] = f"docs-{manifest['model_sha256'][:12]}"
    return manifest


def load_model(model_dir: str | Path, codebook: Codebook | None = None) -> tuple[DocumentCoder, dict]:
    """Load a trained document model; refuses files that hold anything but plain estimators and arrays."""
    model_dir = Path(model_dir)
    mpath = model_dir / MANIFEST_FILE
    if not mpath.exists():
        raise InputError("no document model here; run `coder docs train` first", file=str(model_dir))
    manifest = read_json_object(mpath, "manifest")
    if codebook is None:
        cb_path = Path(manifest.get("codebook_path") or "")
        codebook = load_codebook(cb_path) if cb_path.is_file() else load_codebook()
    if manifest.get("codebook_sha256") and codebook.sha256 and codebook.sha256 != manifest["codebook_sha256"]:
        raise InputError("the codebook changed since this model was trained; retrain", file=str(mpath))
    f = model_dir / Path(str(manifest.get("model_file", MODEL_FILE))).name
    state = load_trusted(f, manifest.get("model_sha256"))
    try:
        return DocumentCoder.from_state(state, codebook), manifest
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError("model file does not hold a coder document model", file=str(f)) from None
