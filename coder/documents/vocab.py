"""The documents' own vocabulary, document types and national priorities, read from data
(`codebook/documents.yaml`) and validated on load like the codebook: a new type or priority is a YAML edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coder.codebook import project_file, read_yaml
from coder.errors import InputError

VOCABULARY_FILE = "documents.yaml"


@dataclass(frozen=True)
class Vocabulary:
    """Document types (each with the words such a document uses about itself) and national priorities
    (each with the description that stands in for labelled examples)."""

    doc_types: dict[str, tuple[str, ...]]
    priorities: dict[str, str]
    path: str = field(default="", compare=False)


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """Read and check the vocabulary; every error names the file and the key at fault."""
    path = Path(path) if path else project_file(VOCABULARY_FILE)
    data, _ = read_yaml(path, "documents vocabulary")
    return parse_vocabulary(data, str(path))


def parse_vocabulary(data: object, source: str = "<documents vocabulary>") -> Vocabulary:
    def fail(key: str, msg: str) -> InputError:
        return InputError(f"{key}: {msg}", file=source)

    if not isinstance(data, dict):
        raise InputError("not a documents vocabulary (expected a mapping with doc_types and priorities)",
                         file=source)
    types, priorities = data.get("doc_types"), data.get("priorities")
    if not isinstance(types, dict) or not types:
        raise fail("doc_types", "must map each document type to a list of the words it uses about itself")
    if not isinstance(priorities, dict) or not priorities:
        raise fail("priorities", "must map each national priority to its description")
    doc_types: dict[str, tuple[str, ...]] = {}
    for name, terms in types.items():
        if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
            raise fail(f"doc_types.{name}", "must be a non-empty list of words or phrases")
        doc_types[str(name).strip()] = tuple(t.strip().lower() for t in terms)
    out: dict[str, str] = {}
    for name, text in priorities.items():
        if not isinstance(text, str) or not text.strip():
            raise fail(f"priorities.{name}", "must be a description (text)")
        out[str(name).strip()] = text.strip()
    return Vocabulary(doc_types, out, source)


# The vocabulary every document model is trained and read with.
VOCABULARY = load_vocabulary()
DOC_TYPES = VOCABULARY.doc_types
PRIORITIES = VOCABULARY.priorities
