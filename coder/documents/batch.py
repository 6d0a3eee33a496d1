"""Code a folder of documents: resumable, one error row per bad document, copies coded once.

While running, each finished document is one line of `<out>.progress.jsonl` (its vectors in `<out>.parts/`),
so a crash loses at most the document in hand and a re-run skips what is done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from coder.documents.embed import DEFAULT_DOCUMENT_EMBEDDER, embed_document, make_embedder
from coder.documents.extract import DEFAULT_MAX_BYTES, DEFAULT_MAX_PAGES, content_hash, list_documents
from coder.documents.model import document_confidence
from coder.documents.passages import Passage, prepare_job
from coder.documents.route import DEFAULT_TARGET, accepted, apply_routes, router_from_rows, waiting
from coder.documents.train import load_model
from coder.errors import InputError
from coder.files import atomic_path, staged_files, write_text_atomic
from coder.spreadsheet import write_table

CSV_COLUMNS = ["file", "status", "error", "doc_type", "doc_type_confidence", "doc_type_route", "sections",
               "sections_auto", "sections_wait", "questions", "questions_auto", "questions_wait", "priorities",
               "priorities_auto", "priorities_wait", "fields_auto", "fields_wait", "route"]


@dataclass
class BatchOptions:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    target_precision: float = DEFAULT_TARGET  # per-field routing: auto-accepted decisions reach this precision
    workers: int = 1  # extraction processes running ahead of the embedder; 0 = in the main process
    prefetch: int = 4


@dataclass
class BatchSummary:
    documents: int = 0
    pages: int = 0
    passages: int = 0
    coded: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    out: str = ""
    details: str = ""
    index: str = ""
    errors_by_kind: dict = field(default_factory=dict)
    calibrated: bool = True  # False: the model has no held-out decisions, so every field waits for review
    routed: dict = field(default_factory=dict)  # documents auto / review, field decisions auto / wait

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _progress_path(out: Path) -> Path:
    return out.with_name(out.name + ".progress.jsonl")


def _parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def details_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_suffix(".json")


def index_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".index.json")


def _read_progress(path: Path, model_version: str) -> dict[str, dict]:
    """Finished documents of an earlier (possibly crashed) run of the same model, by content hash."""
    done: dict[str, dict] = {}
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line being written when the run died
            if rec.get("model_version") == model_version and rec.get("status") == "ok":
                rec.pop("passages", None)  # read again, streaming, when the index is written
                done[rec["sha256"]] = rec
    return done


def _jobs(files: list[Path], opts: BatchOptions,
          need: Callable[[Path], bool]) -> Iterator[tuple[Path, tuple]]:
    """Prepared documents in order, with extraction running `prefetch` documents ahead in worker processes."""
    todo = [f for f in files if need(f)]
    if opts.workers <= 0:
        for f in todo:
            yield f, prepare_job(str(f), opts.max_bytes, opts.max_pages)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=opts.workers, mp_context=ctx) as pool:
        pending: list[tuple[Path, object]] = []
        it = iter(todo)
        for f in it:
            pending.append((f, pool.submit(prepare_job, str(f), opts.max_bytes, opts.max_pages)))
            if len(pending) >= opts.prefetch:
                break
        while pending:
            f, fut = pending.pop(0)
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(prepare_job, str(nxt), opts.max_bytes, opts.max_pages)))
            try:
                res = fut.result()
            except Exception as e:  # noqa: BLE001 - a worker that died on one file
                res = ("", "corrupt", 0, f"cannot read the document ({type(e).__name__})")
            yield f, res


def code_folder(input_dir: str | Path, model_dir: str | Path, out: str | Path, *,
                options: BatchOptions | None = None, embedder=None,
                on_start: Callable[[int, int], None] | None = None,
                on_document: Callable[[dict], None] | None = None) -> BatchSummary:
    """Code every document under `input_dir`; resumable; bad documents get error rows.

    Writes `out` (CSV, one row per file), `out` with .json (per-code confidences and evidence), and
    `<stem>.index.json` + `.npy` (passages and vectors for `search`). While running, each finished document is
    one line of `<out>.progress.jsonl` (its vectors in `<out>.parts/`), so a crash loses at most the document
    in hand and a re-run skips what is done.
    """
    opts = options or BatchOptions()
    input_dir, out = Path(input_dir), Path(out)
    if not input_dir.is_dir():
        raise InputError("not a folder", file=str(input_dir))
    model, manifest = load_model(model_dir)
    version = manifest["model_version"]
    embedder = embedder or make_embedder(manifest.get("embedder", DEFAULT_DOCUMENT_EMBEDDER))
    heldout = getattr(model, "heldout_", None)
    router = router_from_rows(heldout, opts.target_precision)
    files = list_documents(input_dir)
    if not files:
        raise InputError("the folder holds no documents to code", file=str(input_dir))
    progress_file = _progress_path(out)
    parts = _parts_dir(out)
    parts.mkdir(parents=True, exist_ok=True)
    done = {k: v for k, v in _read_progress(progress_file, version).items() if (parts / f"{k}.npy").exists()}
    summary = BatchSummary(documents=len(files))
    if on_start:
        on_start(len(files), len(done))
    t0 = time.perf_counter()
    records: dict[Path, dict] = {}

    # Hash first, cheaply, to skip finished documents without extracting them again.
    hashes: dict[Path, str] = {}
    for f in files:
        try:
            if f.stat().st_size <= opts.max_bytes:
                hashes[f] = content_hash(f.read_bytes())
        except OSError:
            pass
    for f in files:
        h = hashes.get(f)
        if h and h in done:
            records[f] = done[h]
            summary.skipped += 1
            if on_document:
                on_document({**done[h], "skipped": True})

    # Content seen twice in one batch (copies under two names) is coded once.
    first_of: dict[str, Path] = {}
    for f in files:
        h = hashes.get(f)
        if h and f not in records:
            first_of.setdefault(h, f)

    def need(f: Path) -> bool:
        h = hashes.get(f)
        return f not in records and (h is None or first_of.get(h) == f)

    _end_with_newline(progress_file)  # a run that died mid-line left half a record: start on a new line
    with open(progress_file, "a", encoding="utf-8") as log:
        for f, (sha, kind, size, payload) in _jobs(files, opts, need):
            if kind:
                rec = {"sha256": sha, "status": "error", "error_kind": kind, "error": f"{kind}: {payload}",
                       "model_version": version, "bytes": size}
                summary.errors += 1
                summary.errors_by_kind[kind] = summary.errors_by_kind.get(kind, 0) + 1
            else:
                items, pages = payload
                passages = [Passage(pg, tx) for pg, tx in items]
                te = time.perf_counter()
                doc = embed_document(passages, pages, embedder)
                summary.embed_seconds += time.perf_counter() - te
                result = model.predict(doc)
                conf = document_confidence(result)
                rec = apply_routes({"sha256": sha, "status": "ok", "model_version": version, "bytes": size,
                                    "pages": pages, "n_passages": len(passages), "confidence": round(conf, 4),
                                    **result, "passages": items}, router.route(result))
                with atomic_path(parts / f"{sha}.npy") as tmp:
                    with open(tmp, "wb") as fh:
                        np.save(fh, doc.vectors.astype(np.float16))
                summary.coded += 1
                summary.pages += pages
                summary.passages += len(passages)
            log.write(json.dumps(rec, ensure_ascii=False) + "\n")
            log.flush()
            os.fsync(log.fileno())
            rec.pop("passages", None)
            records[f] = rec
            if summary.coded % 10 == 0:
                _release_memory()
            if on_document:
                on_document({**rec, "file": str(f.relative_to(input_dir))})

    # Copies of an already-coded content.
    for f in files:
        if f not in records:
            h = hashes.get(f)
            if h and first_of.get(h) in records:
                records[f] = records[first_of[h]]
    summary.seconds = time.perf_counter() - t0
    for f, rec in records.items():  # routes follow this run's target, also for documents done before
        if rec.get("status") == "ok":
            records[f] = apply_routes(rec, router.route(rec))
    summary.calibrated = bool(heldout)
    ok = [r for r in records.values() if r.get("status") == "ok"]
    summary.routed = {"documents_auto": sum(r["route"] == "auto" for r in ok),
                      "documents_review": sum(r["route"] == "review" for r in ok),
                      "fields_auto": sum(r["fields_auto"] for r in ok),
                      "fields_wait": sum(r["fields_wait"] for r in ok)}
    _write_outputs(input_dir, files, records, out, parts, manifest, summary, progress_file)
    return summary


def _end_with_newline(path: Path) -> None:
    if path.exists() and path.stat().st_size:
        with open(path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")


def _release_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise, and a long batch's memory only grows)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _passages_from_progress(path: Path, model_version: str, wanted: set[str]) -> dict[str, list]:
    out: dict[str, list] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if '"status": "ok"' not in line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("model_version") == model_version and rec.get("sha256") in wanted:
                out[rec["sha256"]] = rec.get("passages", [])
    return out


def _row(rel: str, rec: dict) -> dict:
    if rec.get("status") != "ok":
        return {**dict.fromkeys(CSV_COLUMNS, ""), "file": rel, "status": "error", "error": rec.get("error", ""),
                "route": "review"}
    fields = rec["fields"]
    row = {"file": rel, "status": "ok", "error": "", "doc_type": rec["doc_type"]["code"],
           "doc_type_confidence": round(rec["doc_type"]["confidence"], 3),
           "doc_type_route": "review" if waiting(fields, "doc_type") else "auto",
           "fields_auto": rec["fields_auto"], "fields_wait": rec["fields_wait"], "route": rec["route"]}
    for kind in ("sections", "questions", "priorities"):  # given, accepted as given, waiting (either way)
        row[kind] = ";".join(str(x["code"]) for x in rec[kind])
        row[f"{kind}_auto"] = ";".join(f["code"] for f in accepted(fields, kind))
        row[f"{kind}_wait"] = ";".join(f["code"] for f in waiting(fields, kind))
    return row


def _write_outputs(input_dir: Path, files: list[Path], records: dict[Path, dict], out: Path, parts: Path,
                   manifest: dict, summary: BatchSummary, progress_file: Path) -> None:
    rows, details, index_meta, vecs = [], [], [], []
    wanted = {r["sha256"] for r in records.values() if r.get("status") == "ok"}
    passages = _passages_from_progress(progress_file, manifest["model_version"], wanted)
    seen_index: set[str] = set()
    for f in files:
        rel = f.relative_to(input_dir).as_posix()
        rec = records[f]
        rows.append(_row(rel, rec))
        d = {k: v for k, v in rec.items() if k not in ("passages",)}
        d["file"] = rel
        details.append(d)
        if rec.get("status") == "ok" and rec["sha256"] not in seen_index:
            seen_index.add(rec["sha256"])
            v = np.load(parts / f"{rec['sha256']}.npy")
            vecs.append(v)
            for j, (page, text) in enumerate(passages[rec["sha256"]]):
                index_meta.append({"file": rel, "sha256": rec["sha256"], "page": page, "passage": j,
                                   "text": text})
    df = pd.DataFrame(rows, columns=CSV_COLUMNS)
    dpath, ipath = details_path(out), index_path(out)
    vec_path = ipath.with_suffix(".npy")
    matrix = np.vstack(vecs).astype(np.float16) if vecs else np.zeros((0, 384), np.float16)
    # the table, its details and the search index are one result: written aside, swapped in together
    with staged_files([out, dpath, vec_path, ipath]) as tmp:
        write_table(df, tmp[out])  # formula guard: file names are untrusted (`=HYPERLINK(...)`)
        tmp[dpath].write_text(json.dumps(
            {"model_version": manifest["model_version"], "codebook": manifest["codebook"],
             "embedder": manifest["embedder"], "fallbacks": manifest.get("fallbacks", {}), "documents": details},
            indent=2, default=str) + "\n", encoding="utf-8")
        with open(tmp[vec_path], "wb") as fh:
            np.save(fh, matrix)
        tmp[ipath].write_text(json.dumps({"model_version": manifest["model_version"],
                                          "embedder": manifest["embedder"], "vectors": vec_path.name,
                                          "passages": index_meta}, indent=2, default=str) + "\n",
                              encoding="utf-8")
    summary.out = str(out)
    summary.details = str(dpath)
    summary.index = str(ipath)


def remember_index(model_dir: str | Path, index: str | Path) -> None:
    """Let `coder docs search` find the latest coded batch without --index."""
    write_text_atomic(Path(model_dir) / "last-index.txt", str(Path(index).resolve()) + "\n")
