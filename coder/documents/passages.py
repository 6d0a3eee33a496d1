"""Pages of text into passages of a few sentences, each remembering its page: the unit of evidence.

Lines are first joined into blocks (PDF text arrives wrapped at the page width; lists and headings are
their own blocks), spaCy's rule-based sentencizer splits blocks into sentences, and sentences are grouped
into passages of about `target_words` words that never cross a page or a heading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from coder.documents.extract import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PAGES,
    DocumentError,
    Extracted,
    content_hash,
    extract_bytes,
)
from coder.text import sentencizer

_RULE = re.compile(r"^[=\-_*#~+]{3,}$")
_BULLET = re.compile(r"^([•●▪◦·\-\*–]\s|\d+(\.\d+)*[.)]?\s|\(?[a-zA-Z]\)\s|\(?[ivx]+\)\s|\|)")
_MD_PREFIX = re.compile(r"^(#{1,6}\s+|>\s+)")
_TERMINAL = (".", "!", "?", ":", ";", '."', ".”", ")")


@dataclass(frozen=True)
class Passage:
    page: int
    text: str




def page_blocks(text: str) -> list[tuple[str, bool]]:
    """(block, is_heading) pairs: wrapped lines joined, bullets and headings kept apart."""
    blocks: list[tuple[str, bool]] = []
    cur: list[str] = []

    def flush() -> None:
        if cur:
            joined = " ".join(cur).strip()
            if joined:
                words = len(joined.split())
                heading = words <= 14 and not joined.endswith(_TERMINAL[:3]) and not _BULLET.match(joined)
                blocks.append((joined, heading))
            cur.clear()

    for raw in text.split("\n"):
        s = raw.strip()
        if not s or _RULE.match(s):
            flush()
            continue
        s = _MD_PREFIX.sub("", s).replace("**", "").replace("__", "")
        if _BULLET.match(s):
            flush()
        cur.append(s)
        if s.endswith(_TERMINAL) or len(s) < 55:
            flush()
    flush()
    return blocks


def split_passages(doc: Extracted, target_words: int = 60, max_words: int = 110,
                   max_sentences: int = 4) -> list[Passage]:
    """Passages of a few sentences (about `target_words` words), each on one page."""
    nlp = sentencizer()
    items: list[tuple[int, str, bool]] = []
    for page in doc.pages:
        for block, heading in page_blocks(page.text):
            items.append((page.number, block, heading))
    out: list[Passage] = []
    cur: list[str] = []
    cur_words = 0
    cur_page = 0

    def flush() -> None:
        nonlocal cur_words
        if cur:
            out.append(Passage(cur_page, " ".join(cur)))
        cur.clear()
        cur_words = 0

    docs = nlp.pipe((b for _, b, _ in items), batch_size=256)
    for (page, _block, heading), sdoc in zip(items, docs, strict=True):
        if page != cur_page:
            flush()
            cur_page = page
        if heading and cur_words >= 20:
            flush()
        for sent in _sentences(sdoc, max_words):
            n = len(sent.split())
            if cur and (cur_words + n > max_words or len(cur) >= max_sentences):
                flush()
            cur.append(sent)
            cur_words += n
            if cur_words >= target_words:
                flush()
    flush()
    return [p for p in out if len(p.text) >= 3]


def _sentences(sdoc, max_words: int) -> Iterable[str]:
    for sent in sdoc.sents:
        text = sent.text.strip()
        if not text:
            continue
        words = text.split()
        if len(words) <= max_words:
            yield text
        else:  # a run-on "sentence" (a table, a list without stops) is cut into pieces
            for i in range(0, len(words), max_words):
                yield " ".join(words[i:i + max_words])


# --- one document, start to passages (what a batch worker process runs: no pandas, no torch) ---

def prepare(data: bytes, suffix: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
            max_pages: int = DEFAULT_MAX_PAGES) -> tuple[list[Passage], int]:
    """Extract + split one document's bytes (runs in a worker process during a batch)."""
    ex = extract_bytes(data, suffix, max_bytes=max_bytes, max_pages=max_pages)
    passages = split_passages(ex)
    if not passages:
        raise DocumentError("empty", "no passages of text in the document")
    return passages, len(ex.pages)


def prepare_job(path: str, max_bytes: int, max_pages: int) -> tuple[str, str, int, object]:
    """Worker: read, hash, extract, split. Returns (sha, kind or '', size, passages+pages or message)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise DocumentError("too-large", f"{size / 2**20:.1f} MB is over the size limit of "
                                             f"{max_bytes / 2**20:.0f} MB")
        data = p.read_bytes()
    except DocumentError as e:
        return "", e.kind, 0, e.message
    except OSError as e:
        return "", "unreadable", 0, e.strerror or str(e)
    sha = content_hash(data)
    try:
        passages, pages = prepare(data, p.suffix, max_bytes=max_bytes, max_pages=max_pages)
    except DocumentError as e:
        return sha, e.kind, len(data), e.message
    except Exception as e:  # noqa: BLE001 - one bad document never stops the batch
        return sha, "corrupt", len(data), f"cannot read the document ({type(e).__name__})"
    return sha, "", len(data), ([(x.page, x.text) for x in passages], pages)
