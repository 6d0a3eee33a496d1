"""Text helpers every stage shares: one spaCy sentence splitter, built once per process.

spaCy's blank English pipeline with the rule-based sentencizer: no model download, ~65,000 sentences/s.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def sentencizer():
    """The blank English pipeline with the sentencizer; long documents allowed (a return can run to pages)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 5_000_000
    return nlp
