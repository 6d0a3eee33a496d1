"""Search the coded documents' passages by meaning (cosine over the batch's saved passage vectors).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from coder.documents.embed import DEFAULT_DOCUMENT_EMBEDDER, make_embedder
from coder.errors import InputError


def search(query: str, model_dir: str | Path, index: str | Path | None = None, k: int = 10,
           embedder=None) -> list[dict]:
    """Passages of the coded documents most similar to `query` (cosine), best first."""
    if not query.strip():
        raise InputError("empty query")
    model_dir = Path(model_dir)
    if index is None:
        pointer = model_dir / "last-index.txt"
        if not pointer.exists():
            raise InputError("no index: run `coder docs code` first or give --index", file=str(model_dir))
        index = pointer.read_text(encoding="utf-8").strip()
    index = Path(index)
    if not index.exists():
        raise InputError("index not found", file=str(index))
    meta = json.loads(index.read_text(encoding="utf-8"))
    vectors = np.load(index.with_name(meta["vectors"])).astype(np.float32)
    embedder = embedder or make_embedder(meta.get("embedder", DEFAULT_DOCUMENT_EMBEDDER))
    q = embedder.encode([query])[0]
    if vectors.shape[0] == 0:
        return []
    sims = vectors @ q
    top = np.argsort(-sims)[:k]
    return [{**meta["passages"][i], "score": round(float(sims[i]), 4)} for i in top]
