"""The embedder a document model uses, and a document's passages embedded.

Documents use the answers' embedder. A batch is thousands of pages, so on a CPU that multiplies bfloat16
natively (coder.model.embed.fast_precision) the weights run in bfloat16: about twice the float32 speed, with
vectors within cosine 0.996 of float32 ones, so a model trained on one machine codes the same on another.
Elsewhere they run in float32, because emulated bfloat16 is slower. The two are cached apart.

Measured on 600 passages of the scale bench (2 cores, AVX512-BF16): float32 73 passages/s; bfloat16 138/s
(cosine to float32 mean 1.000, min 0.997); ONNX Runtime int8 with per-channel weights 175/s but cosine
mean 0.992, min 0.977, and two new dependencies. (Until issue 10 the default was `NAME:int8`,
`torch.ao.quantization.quantize_dynamic`, which the pinned torch deprecates; such models are refused.)
"""

from __future__ import annotations

import numpy as np

from coder.documents.model import EmbeddedDocument
from coder.documents.passages import Passage
from coder.errors import InputError
from coder.heap import return_free_memory
from coder.model.embed import DEFAULT_EMBEDDER, Embedder, fast_precision

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
    return Embedder(name, precision=fast_precision())


def embed_document(passages: list[Passage], pages: int, embedder) -> EmbeddedDocument:
    """A document's passages embedded; the activations' memory goes back to the system before the next
    document, so a batch of thousands of pages peaks near its largest document (coder.heap)."""
    vectors = embedder.encode([p.text for p in passages]) if passages else np.zeros((0, 384), np.float32)
    return_free_memory()
    return EmbeddedDocument(passages, np.asarray(vectors, dtype=np.float32), pages)
