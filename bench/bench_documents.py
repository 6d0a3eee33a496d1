"""Bench for document coding: quality on the labelled examples, speed and memory on a 340-document batch.

Usage:
  python bench/bench_documents.py quality [--model-dir DIR]
  python bench/bench_documents.py routing --model-dir DIR      (the routing figures of a trained model)
  python bench/bench_documents.py scale --model-dir DIR [--docs 340 --pages 4000] [--corpus DIR]
      [--sample 2000]

quality: trains on coder/data/documents + the whole answer bank and reports leave-one-document-out figures
(the answer bank is in every fold; it holds no document). Targets: type accuracy >= 0.85, sections micro-F1
>= 0.75, questions micro-F1 >= 0.6. Then per-field routing beside today's whole-document routing, both
leave-one-document-out: share of documents with nothing to review (target >= 0.60), share of field decisions
auto-accepted (>= 0.85), precision of the auto-accepted decisions (>= 0.95), ECE per field kind (<= 0.05).

scale: builds (or reuses) a realistic batch with bench/make_corpus.py, codes it with a fresh embedding cache
(nothing pre-computed), and reports wall time, pages/s, peak memory (main process and the extraction
worker), and - in the same run, on a sample of the same passages - the bare embedding throughput, so the
coding overhead over embedding is visible. Targets: < 10 minutes, peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DOCS = ROOT / "coder" / "data" / "documents"
ANSWERS = ROOT / "coder" / "data" / "answers.jsonl"


def quality(model_dir: Path) -> dict:
    from coder.documents.train import train

    t = time.perf_counter()
    manifest = train(DOCS / "labels.csv", ANSWERS, model_dir, evaluate=True)
    m = manifest["metrics_leave_one_out"]
    m["train_seconds"] = round(time.perf_counter() - t, 1)
    targets = {"type_accuracy": 0.85, "sections_micro_f1": 0.75, "questions_micro_f1": 0.6}
    print(f"leave-one-document-out on {m['documents']} labelled documents "
          f"(+ {manifest['answers']} answers), model {manifest['model_version']}:")
    for k, v in m.items():
        mark = ""
        if k in targets:
            mark = "  OK" if v >= targets[k] else f"  BELOW TARGET {targets[k]}"
        print(f"  {k:24s} {v}{mark}")
    m["routing"] = routing_figures(model_dir)
    return m


def routing_figures(model_dir: Path) -> dict:
    """Per-field routing against today's whole-document routing, leave-one-document-out on the labelled set.

    Field routing is cross-fitted: each document's decisions are calibrated and thresholded by maps fitted on
    the other documents' held-out decisions only. Whole-document routing sends a document to review when its
    least certain decision (type, given questions, one minus left-out questions) is below 0.65; the fields of
    a document it lets through all count as auto-accepted."""
    import numpy as np

    from coder.documents.route import routing_summary
    from coder.documents.train import load_model

    model, _ = load_model(model_dir)
    rows = {k: {f: np.asarray(v) for f, v in r.items()} for k, r in model.heldout_.items()}
    fr = routing_summary(rows)
    # Whole-document routing on the same held-out decisions: the raw minimum over the routed decisions.
    docs = np.unique(rows["questions"]["doc"])
    auto_docs, n_auto, n_ok, n_all = 0, 0, 0, 0
    for d in docs:
        q = {f: a[rows["questions"]["doc"] == d] for f, a in rows["questions"].items()}
        t = {f: a[rows["doc_type"]["doc"] == d] for f, a in rows["doc_type"].items()}
        conf = min(float(t["raw"].min()), float(np.where(q["given"], q["raw"], 1 - q["raw"]).min()))
        n = sum(int((rows[k]["doc"] == d).sum()) for k in rows)
        n_all += n
        if conf >= 0.65:
            auto_docs += 1
            n_auto += n
            n_ok += sum(int(((rows[k]["given"] == rows[k]["truth"]) & (rows[k]["doc"] == d)).sum()) for k in rows)
    whole = {"documents_nothing_to_review": round(auto_docs / len(docs), 4),
             "decisions_auto": round(n_auto / n_all, 4),
             "precision_auto": round(n_ok / n_auto, 4) if n_auto else None}
    targets = {"documents_nothing_to_review": 0.60, "decisions_auto": 0.85, "precision_auto": 0.95}
    print(f"routing, leave-one-document-out on {fr['documents']} documents ({fr['decisions']} field decisions), "
          f"target precision {fr['target_precision']}:")
    print(f"  {'figure':30s} {'per field':>10s} {'whole document':>15s}")
    for k, target in targets.items():
        v = fr[k]
        mark = "OK" if v is not None and v >= target else f"BELOW TARGET {target}"
        print(f"  {k:30s} {v!s:>10s} {whole[k]!s:>15s}  {mark}")
    print(f"  {'precision_auto_given_codes':30s} {fr['precision_auto_given_codes']!s:>10s}")
    for kind, f in fr["by_kind"].items():
        mark = "OK" if f["ece"] <= 0.05 else "ABOVE TARGET 0.05"
        print(f"  {kind:12s} decisions {f['decisions']:5d}  auto {f['auto']:.3f}  precision of auto "
              f"{f['precision_auto']}  ECE {f['ece']:.4f} {mark}")
    return {"per_field": fr, "whole_document": whole}


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of the largest finished child (the extraction worker)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def sample_memory(state: dict) -> None:
    """Resident memory now: this process, and all its descendants (the extraction worker lives under the
    forkserver, where getrusage cannot see it)."""
    import psutil

    me = psutil.Process()
    kids = sum(c.memory_info().rss for c in me.children(recursive=True) if c.is_running())
    total = (me.memory_info().rss + kids) / 2**20
    state["peak_total_mb"] = max(state.get("peak_total_mb", 0.0), total)
    state["peak_children_mb"] = max(state.get("peak_children_mb", 0.0), kids / 2**20)


def scale(model_dir: Path, n_docs: int, n_pages: int, corpus: Path | None, sample: int, workers: int) -> dict:
    import make_corpus
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    work = Path(tempfile.mkdtemp(prefix="bench-docs-"))
    if corpus is None or not corpus.exists():
        corpus = corpus or work / "corpus"
        t = time.perf_counter()
        man = make_corpus.build(corpus, n_docs, n_pages)
        dt = time.perf_counter() - t
        print(f"built {len(man['documents'])} documents, {man['pages']} pages in {dt:.0f} s")
    # A fresh cache: every passage is embedded in this run (the answer bank is not needed to code).
    os.environ["CODER_CACHE_DIR"] = str(work / "cache")
    from coder.documents.batch import BatchOptions, code_folder
    from coder.documents.embed import make_embedder

    out = work / "coded" / "documents.csv"
    state = {"pages": 0, "t0": time.perf_counter()}
    with Progress(TextColumn("coding"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task("docs", total=None, rate="")

        def on_start(total: int, done: int) -> None:
            bar.update(task, total=total)

        def on_document(rec: dict) -> None:
            sample_memory(state)
            state["pages"] += rec.get("pages", 0)
            dt = time.perf_counter() - state["t0"]
            bar.update(task, advance=1, rate=f"{state['pages'] / dt:.1f} pages/s")

        t = time.perf_counter()
        summary = code_folder(corpus, model_dir, out, options=BatchOptions(workers=workers),
                              on_start=on_start, on_document=on_document)
        wall = time.perf_counter() - t
        sample_memory(state)
    me, _ = peak_mb()
    # Bare embedding of the same passages, same process, same model, no cache, no extraction.
    index = json.loads(out.with_name(out.stem + ".index.json").read_text())
    texts = [p["text"] for p in index["passages"]]
    unique = len(set(texts))
    rng = random.Random(0)
    chosen = rng.sample(texts, min(sample, len(texts)))
    emb = make_embedder()
    emb.encode_uncached(chosen[:32])
    t = time.perf_counter()
    emb.encode_uncached(chosen)
    bare = len(chosen) / (time.perf_counter() - t)
    per_page = len(texts) / max(summary.pages, 1)
    res = {
        "documents": summary.documents, "coded": summary.coded, "errors": summary.errors,
        "errors_by_kind": summary.errors_by_kind, "pages": summary.pages, "passages": len(texts),
        "unique_passages": unique, "wall_seconds": round(wall, 1),
        "pages_per_second": round(summary.pages / wall, 2),
        "passages_per_second": round(len(texts) / wall, 1),
        "embed_seconds_in_run": round(summary.embed_seconds, 1),
        "bare_embedding_passages_per_second": round(bare, 1),
        "bare_embedding_pages_per_second": round(bare / per_page, 2),
        "peak_memory_mb_main": round(me),
        "peak_memory_mb_all_processes": round(state.get("peak_total_mb", 0)),
        "peak_memory_mb_worker_processes": round(state.get("peak_children_mb", 0)),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    import pandas as pd

    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    ok_rows = df[df["status"] == "ok"]
    res["documents_with_fields_to_review"] = int((ok_rows["route"] == "review").sum())
    res["documents_nothing_to_review"] = int((ok_rows["route"] == "auto").sum())
    fa, fw = ok_rows["fields_auto"].astype(int).sum(), ok_rows["fields_wait"].astype(int).sum()
    res["field_decisions_auto_share"] = round(float(fa / max(fa + fw, 1)), 4)
    details = json.loads(out.with_suffix(".json").read_text())
    res["whole_document_routing_to_review"] = sum(d["status"] == "ok" and d["confidence"] < 0.65
                                                  for d in details["documents"])
    res["doc_types"] = df[df["status"] == "ok"]["doc_type"].value_counts().to_dict()
    man_path = corpus.parent / f"{corpus.name}-manifest.json"
    if man_path.exists():  # each generated document grew from one example: does its type survive?
        kinds = {d["file"]: d["kind"] for d in json.loads(man_path.read_text())["documents"]}
        ok = df[df["status"] == "ok"]
        agree = (ok["doc_type"] == ok["file"].map(kinds)).mean()
        res["type_agrees_with_source_example"] = round(float(agree), 3)
    print(json.dumps(res, indent=1))
    print(f"coding: {res['pages_per_second']} pages/s; bare embedding of the same passages: "
          f"{res['bare_embedding_pages_per_second']} pages/s ({res['bare_embedding_passages_per_second']} "
          f"passages/s); wall {wall / 60:.1f} min (target < 10); peak memory {me:.0f} MB main, "
          f"{res['peak_memory_mb_all_processes']} MB all processes (target < 2048)")
    print(f"routing: {res['documents_nothing_to_review']} of {summary.coded} documents need no review "
          f"(whole-document routing: {summary.coded - res['whole_document_routing_to_review']}); "
          f"{res['field_decisions_auto_share']:.1%} of field decisions auto-accepted")
    print(f"outputs in {out.parent}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["quality", "routing", "scale", "both"])
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--docs", type=int, default=340)
    ap.add_argument("--pages", type=int, default=4000)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    model_dir = a.model_dir or Path(tempfile.mkdtemp(prefix="bench-docs-model-"))
    if a.what in ("quality", "both") or not (model_dir / "manifest.json").exists():
        quality(model_dir)
    if a.what == "routing":
        routing_figures(model_dir)
    if a.what in ("scale", "both"):
        scale(model_dir, a.docs, a.pages, a.corpus, a.sample, a.workers)


if __name__ == "__main__":
    main()
