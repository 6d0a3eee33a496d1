"""The embedder a document model uses, and a document's passages embedded.
"""

from __future__ import annotations

import numpy as np

from coder.documents.model import EmbeddedDocument
from coder.documents.passages import Passage
from coder.model.embed import DEFAULT_EMBEDDER, Embedder

# The answers' embedder with its linear layers quantised to 8 bits: a 4,000-page batch needs the speed.
DEFAULT_DOCUMENT_EMBEDDER = f"{DEFAULT_EMBEDDER}:int8"


def make_embedder(name: str = DEFAULT_DOCUMENT_EMBEDDER):
    """The embedder a document model uses: `NAME` (coder.model.embed.Embedder) or `NAME:int8`, the same model
    with its linear layers quantised to 8 bits - about 2x faster on CPU, which a 4,000-page batch needs, for
    no loss on the labelled documents (see notes/README-docs.md). Both go through the embedding cache,
    under different fingerprints."""
    try:  # the model's own "Loading weights" bar would break into ours
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    if name.endswith(":int8"):
        return _quantized_embedder_class()(name[: -len(":int8")])
    return Embedder(name)


def _quantized_embedder_class():
    class QuantizedEmbedder(Embedder):
        @property
        def fingerprint(self) -> str:
            return Embedder.fingerprint.fget(self) + "-int8"

        @property
        def sentence_transformer(self):
            if self._st is None:
                import warnings

                import torch

                model = Embedder.sentence_transformer.fget(self)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._st = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                                      dtype=torch.qint8, inplace=True)
            return self._st

    return QuantizedEmbedder


def embed_document(passages: list[Passage], pages: int, embedder) -> EmbeddedDocument:
    vectors = embedder.encode([p.text for p in passages]) if passages else np.zeros((0, 384), np.float32)
    return EmbeddedDocument(passages, np.asarray(vectors, dtype=np.float32), pages)
