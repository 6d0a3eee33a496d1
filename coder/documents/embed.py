"""The embedder a document model uses, and a document's passages embedded.

Documents use the answers' embedder at full precision. (Until issue 10 the default was `NAME:int8`, the
model's linear layers quantised with `torch.ao.quantization.quantize_dynamic`, which the pinned torch
deprecates; the ONNX route needs optimum, whose install replaces the pinned transformers. Full precision
keeps the documents' vectors equal to the answers', so both share the embedding cache.)
"""

from __future__ import annotations

import numpy as np

from coder.documents.model import EmbeddedDocument
from coder.documents.passages import Passage
from coder.errors import InputError
from coder.model.embed import DEFAULT_EMBEDDER, Embedder

DEFAULT_DOCUMENT_EMBEDDER = DEFAULT_EMBEDDER
RETIRED_SUFFIX = ":int8"


def make_embedder(name: str = DEFAULT_DOCUMENT_EMBEDDER) -> Embedder:
    """The embedder a document model uses (coder.model.embed.Embedder, through the embedding cache).

    A model trained with the retired `NAME:int8` embedder is refused rather than fed full-precision vectors
    it was not trained on: retrain it (`coder docs train`)."""
    if name.endswith(RETIRED_SUFFIX):
        raise InputError(f"embedder {name!r} (8-bit) is no longer provided: retrain the document model with "
                         f"`coder docs train` (default embedder {DEFAULT_DOCUMENT_EMBEDDER})", column="embedder")
    try:  # the model's own "Loading weights" bar would break into ours
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    return Embedder(name)


def embed_document(passages: list[Passage], pages: int, embedder) -> EmbeddedDocument:
    vectors = embedder.encode([p.text for p in passages]) if passages else np.zeros((0, 384), np.float32)
    return EmbeddedDocument(passages, np.asarray(vectors, dtype=np.float32), pages)
