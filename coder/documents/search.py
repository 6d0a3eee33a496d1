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
    meta = read_index(index)
    manifest_path = model_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("kind") != "coder-documents":
        raise InputError("not a documents model (train one with `coder docs train`)", file=str(model_dir))
    if meta["model_version"] != manifest.get("model_version") or meta["embedder"] != manifest.get("embedder"):
        raise InputError(f"index built by documents model {meta['model_version']!r}, not by "
                         f"{manifest.get('model_version')!r}: code the folder again with this model",
                         file=str(index))
    try:
        vectors = np.load(index.with_name(meta["vectors"]), allow_pickle=False).astype(np.float32)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read the index vectors ({type(e).__name__})",
                         file=str(index.with_name(meta["vectors"]))) from None
    if vectors.ndim != 2 or vectors.shape[0] != len(meta["passages"]):
        raise InputError("the index vectors do not match its passages (code the folder again)", file=str(index))
    embedder = embedder or make_embedder(meta.get("embedder", DEFAULT_DOCUMENT_EMBEDDER))
    q = embedder.encode([query])[0]
    if vectors.shape[0] == 0:
        return []
    if vectors.shape[1] != q.shape[0]:
        raise InputError("the index vectors do not match the embedder (code the folder again)", file=str(index))
    sims = vectors @ q
    top = np.argsort(-sims)[:k]
    return [{**meta["passages"][i], "score": round(float(sims[i]), 4)} for i in top]


def read_index(index: Path) -> dict:
    """An .index.json written by `coder docs code`, checked: a hand-made or damaged one is named, not run."""
    try:
        meta = json.loads(index.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InputError("not an index written by `coder docs code` (not valid JSON)", file=str(index)) from None
    ok = (isinstance(meta, dict) and isinstance(meta.get("vectors"), str) and isinstance(meta.get("passages"), list)
          and all(isinstance(p, dict) and {"file", "page", "text"} <= set(p) for p in meta["passages"]))
    if not ok:
        raise InputError("not an index written by `coder docs code`", file=str(index))
    if Path(meta["vectors"]).name != meta["vectors"] or not meta["vectors"].endswith(".npy"):
        raise InputError("index names a vectors file outside its folder", file=str(index), column="vectors")
    meta.setdefault("model_version", None)
    meta.setdefault("embedder", None)
    return meta
