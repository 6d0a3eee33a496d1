"""Does contrastive fine-tuning of the embedder (SetFit-style) pay on answers in other styles? (issue 11)

Fine-tunes a copy of the default embedder on the bundled training answers, saves it as a
sentence-transformers folder (safetensors weights only) in a temporary folder, and scores it exactly as
bench/styleshift_quick.py does (`CodeClassifier` uncalibrated, trained on both rounds, the set per style
and band), then fine-tunes again on round 2013-06 alone (no leakage) for the round split 2013-06 ->
2014-05. The baseline (the packaged embedder) is scored beside it. A plain torch loop over
sentence-transformers' own losses: no trainer, no new dependency.

    python bench/styleshift_finetune.py --dev                 (every variant, dev set: tune here)
    python bench/styleshift_finetune.py --dev stance-triplet  (one variant)
    python bench/styleshift_finetune.py stance-triplet        (the test set: once, for a settled variant)
    --no-split skips the round split; --no-base skips the baseline.

Variants (labels from the codebook: a code's stance is shared across questions; a question's `other`
codes and multi-code questions are labelled by (question, codes)):
  code-pairs      SetFit: pairs of answers to one question, 1 if same code else 0, CosineSimilarityLoss
  stance-triplet  batch-all triplet loss over stance labels, the codebook's stance examples mixed in
  code-triplet    batch-all triplet loss over (question, code) labels, each batch from a few questions
  stance-triplet-48  the same as stance-triplet with twice the steps (over the time budget)
  stance-head     the transformer frozen; a Dense layer (384 -> 384, tanh, started at the identity) added
                  on top and trained with the stance-triplet loss on the cached vectors (many steps, cheap)
Each runs a fixed number of steps of 32 answers, chosen to fit ~90-120 s on the shared 2-core machine:
one step of the transformer costs ~3-5 s there, so the full variants see only ~400-800 answers.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from styleshift_eval import BANDS, DEV, HERE, load_styleshift  # noqa: E402
from styleshift_quick import fit_predict  # noqa: E402

from coder.codebook import Codebook, load_codebook  # noqa: E402
from coder.model import pipeline  # noqa: E402
from coder.model.classify import codebook_spec  # noqa: E402
from coder.model.embed import Embedder, load_sentence_transformer, resolve_model_path  # noqa: E402
from coder.returns import read_returns  # noqa: E402

BATCH = 32
TRAIN_LAYERS = 3  # the top 3 of the 6 transformer layers are trained; word embeddings and the rest frozen
MAX_TOKENS = 128  # training texts truncated here (the longest bundled answer is 128 words)
VARIANTS = {  # name -> (kind, steps): ~3-5 s a step of 32 answers on the loaded 2-core machine
    "stance-triplet": ("stance", 24),
    "code-pairs": ("pairs", 10),
    "stance-head": ("head", 600),
    "stance-triplet-48": ("stance", 48),  # twice the steps: over the time budget, to see the trend
}


def row_labels(rows: pd.DataFrame, cb: Codebook, by: str) -> list[str]:
    """A label per training answer: its code's stance (`by="stance"`, shared across questions; `other`
    codes and multi-code questions fall back on (question, codes)) or its (question, codes)."""
    spec = codebook_spec(cb)
    out = []
    for q, codes in zip(rows["qid"], rows["codes"], strict=True):
        s = spec[str(q)]
        stance = "multi" if s["multi"] else s["stances"][s["codes"].index(codes)]
        out.append(stance if by == "stance" and stance not in ("other", "multi") else f"{q}:{codes}")
    return out


def stance_batches(texts: list[str], labels: list[str], steps: int, rng: random.Random,
                   per_label: int = 4) -> list[tuple[list[str], list[str]]]:
    """Batches of BATCH answers, `per_label` answers from each of BATCH / per_label labels, so every batch
    has positives and negatives for the batch-all triplet loss."""
    by: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by.setdefault(lab, []).append(i)
    keys = [k for k, v in by.items() if len(v) >= 2]
    out = []
    for _ in range(steps):
        idx = [i for k in rng.sample(keys, BATCH // per_label) for i in rng.sample(by[k], min(per_label, len(by[k])))]
        out.append(([texts[i] for i in idx], [labels[i] for i in idx]))
    return out


def answers_by_question(labels: list[str], qids: list[int]) -> tuple[dict[int, list[int]], list[int]]:
    """Each question's answer indices, and the questions with at least two codes among them."""
    by_q: dict[int, list[int]] = {}
    for i, q in enumerate(qids):
        by_q.setdefault(q, []).append(i)
    return by_q, [q for q, v in by_q.items() if len({labels[i] for i in v}) >= 2]


def code_batches(texts: list[str], labels: list[str], qids: list[int], steps: int,
                 rng: random.Random) -> list[tuple[list[str], list[str]]]:
    """Batches of BATCH answers from two questions (16 each, spread over their codes): the triplets
    contrast codes of one question, which is what the per-question heads separate."""
    by_q, qs = answers_by_question(labels, qids)
    out = []
    for _ in range(steps):
        idx = []
        for q in rng.sample(qs, 2):
            idx += rng.sample(by_q[q], min(BATCH // 2, len(by_q[q])))
        out.append(([texts[i] for i in idx], [labels[i] for i in idx]))
    return out


def pair_batches(texts: list[str], labels: list[str], qids: list[int], steps: int,
                 rng: random.Random) -> list[tuple[list[str], list[str], list[float]]]:
    """SetFit's pairs: two answers to the same question, 1.0 if they share the code, else 0.0 (half each)."""
    by_q, qs = answers_by_question(labels, qids)
    out = []
    for _ in range(steps):
        a, b, y = [], [], []
        while len(a) < BATCH:
            q = rng.choice(qs)
            i = rng.choice(by_q[q])
            want = len(a) % 2 == 0
            cand = [j for j in by_q[q] if j != i and (labels[j] == labels[i]) == want]
            if not cand:
                continue
            a.append(texts[i])
            b.append(texts[rng.choice(cand)])
            y.append(float(want))
        out.append((a, b, y))
    return out


def finetune(rows: pd.DataFrame, cb: Codebook, variant: str, out_dir: Path, seed: int = 0) -> Path:
    """Fine-tune a copy of the default embedder on `rows` and save it to `out_dir` (safetensors only)."""
    import torch
    from sentence_transformers import losses

    kind, steps = VARIANTS[variant]
    rng = random.Random(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    model = load_sentence_transformer(resolve_model_path(None))
    texts, qids = rows["text"].tolist(), rows["qid"].astype(int).tolist()
    if kind == "head":
        return finetune_head(model, texts, row_labels(rows, cb, "stance"), cb, steps, rng, out_dir)
    model.max_seq_length = MAX_TOKENS
    bert = model[0].auto_model
    for p in bert.parameters():
        p.requires_grad = False
    for layer in bert.encoder.layer[-TRAIN_LAYERS:]:
        for p in layer.parameters():
            p.requires_grad = True
    model.train()
    if kind == "stance":
        labels = row_labels(rows, cb, "stance")
        for stance, examples in cb.stance_example_map.items():  # generic short answers, from the codebook
            texts += examples
            labels += [stance] * len(examples)
        batches = stance_batches(texts, labels, steps, rng)
        loss = losses.BatchAllTripletLoss(model)
    elif kind == "code":
        batches = code_batches(texts, row_labels(rows, cb, "code"), qids, steps, rng)
        loss = losses.BatchAllTripletLoss(model)
    else:
        batches = pair_batches(texts, row_labels(rows, cb, "code"), qids, steps, rng)
        loss = losses.CosineSimilarityLoss(model)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-5)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps))
    for batch in batches:
        if kind == "pairs":
            a, b, y = batch
            feats = [model.preprocess(a), model.preprocess(b)]
            target = torch.tensor(y)
        else:
            t, labs = batch
            feats = [model.preprocess(t)]
            ids = {lab: i for i, lab in enumerate(sorted(set(labs)))}
            target = torch.tensor([ids[lab] for lab in labs])
        value = loss(feats, target)
        opt.zero_grad()
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    model.max_seq_length = 256  # as the packaged model encodes
    return save(model, out_dir)


def finetune_head(model, texts: list[str], labels: list[str], cb: Codebook, steps: int, rng: random.Random,
                  out_dir: Path) -> Path:
    """Freeze the transformer; train a Dense layer on top (from the identity) on the packaged model's
    (cached) vectors with the stance-triplet loss, and save transformer + Dense as one model."""
    import torch
    from sentence_transformers import SentenceTransformer, losses
    from sentence_transformers.models import Dense, Normalize

    for stance, examples in cb.stance_example_map.items():
        texts = texts + examples
        labels = labels + [stance] * len(examples)
    base = torch.tensor(Embedder().encode(texts))
    dim = base.shape[1]
    dense = Dense(dim, dim, activation_function=torch.nn.Tanh())
    with torch.no_grad():
        dense.linear.weight.copy_(torch.eye(dim))
        dense.linear.bias.zero_()
    loss = losses.BatchAllTripletLoss(model)
    opt = torch.optim.AdamW(dense.parameters(), lr=1e-3)
    pos = {t: i for i, t in enumerate(texts)}
    for t, labs in stance_batches(texts, labels, steps, rng):
        ids = {lab: i for i, lab in enumerate(sorted(set(labs)))}
        out = dense({"sentence_embedding": base[[pos[x] for x in t]]})["sentence_embedding"]
        value = loss.batch_all_triplet_loss(torch.tensor([ids[lab] for lab in labs]), out)
        opt.zero_grad()
        value.backward()
        opt.step()
    modules = [model[i] for i in range(len(model)) if not isinstance(model[i], Normalize)]
    return save(SentenceTransformer(modules=[*modules, dense, Normalize()], device="cpu"), out_dir)


def save(model, out_dir: Path) -> Path:
    model.save(str(out_dir), safe_serialization=True)
    weights = sorted(p.name for p in out_dir.rglob("*") if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".safetensors"))
    assert weights and set(weights) == {"model.safetensors"}, weights  # safetensors only
    return out_dir


def score(name: str, ss: pd.DataFrame, pred: np.ndarray) -> dict[str, float]:
    ok = pred == ss["codes"].to_numpy(str)
    out = {"all": float(ok.mean())}
    for k in sorted(set(ss["style"])):
        out[f"style {k}"] = float(ok[(ss["style"] == k).to_numpy()].mean())
    for _, _, b in BANDS:
        m = (ss["band"] == b).to_numpy()
        if m.any():
            out[f"band {b}"] = float(ok[m].mean())
    return out


def run(variant: str | None, df: pd.DataFrame, ss: pd.DataFrame, cb: Codebook, tmp: Path,
        split: bool) -> dict[str, float]:
    """Figures for one embedder: the packaged one (`variant` None) or a fine-tuned copy."""
    res: dict[str, float] = {}
    rows = pipeline.training_rows(df, cb.blank_code)
    if variant is None:
        emb = Embedder()
    else:
        t0 = time.perf_counter()
        folder = finetune(rows, cb, variant, tmp / f"{variant}-both")
        res["fine-tune s"] = time.perf_counter() - t0
        emb = Embedder(model=str(folder))
    t0 = time.perf_counter()
    emb.encode(sorted(set(rows["text"])))  # every distinct training text (cold for a fine-tuned model)
    res["re-embed s"] = time.perf_counter() - t0
    pred, _, _ = fit_predict(df, ss, cb, emb, {})
    res.update(score(variant or "base", ss, pred))
    if split:
        train, test = df[df["round"] == "2013-06"], df[df["round"] == "2014-05"]
        test = test[(test["text"] != "") & (test["codes"] != "")]  # as pipeline.evaluate
        if variant is not None:
            t0 = time.perf_counter()
            folder = finetune(pipeline.training_rows(train, cb.blank_code), cb, variant, tmp / f"{variant}-2013")
            res["fine-tune 2013-06 s"] = time.perf_counter() - t0
            emb = Embedder(model=str(folder))
        pred, _, _ = fit_predict(train, test, cb, emb, {})
        res["round split"] = float((pred == test["codes"].to_numpy(str)).mean())
    return res


def main() -> None:
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or list(VARIANTS)
    os.environ.setdefault("CODER_CACHE_DIR", str(Path(tempfile.gettempdir()) / "coder-bench-cache"))
    cb = load_codebook()
    df = read_returns(ROOT / "coder" / "data" / "returns.csv", cb)
    ss, _ = load_styleshift(cb, DEV if "--dev" in sys.argv else HERE)
    split = "--no-split" not in sys.argv
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="coder-finetune-") as tmp:
        for name in ([] if "--no-base" in sys.argv else [None]) + names:
            t0 = time.perf_counter()
            results[name or "base"] = run(name, df, ss, cb, Path(tmp), split)
            res = results[name or "base"]
            figures = ", ".join(f"{k} {v:.3f}" if v <= 1 else f"{k} {v:.0f}" for k, v in res.items())
            print(f"{name or 'base'}: {time.perf_counter() - t0:.0f} s in all; {figures}", flush=True)
    table = pd.DataFrame(results)
    print(f"{'DEV' if '--dev' in sys.argv else 'TEST'} set, n={len(ss)}; uncalibrated, trained on both rounds")
    with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
        print(table.to_string())


if __name__ == "__main__":
    main()
