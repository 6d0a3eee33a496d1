"""Text out of documents (PDF, DOCX, TXT, MD, HTML), page by page, or one clear reason why it cannot be had.

Every failure a batch can meet (encrypted, corrupt, no text layer, empty, too big, unknown format) is a
`DocumentError` with a short `kind`, so the batch writes an error row and moves on to the next file.
Nothing here looks at the file's name except its extension, which says how to read it.
"""

from __future__ import annotations

import hashlib
import html.parser
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from coder.errors import InputError

SUPPORTED = {".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm"}
# Files that sit beside documents but are not documents (labels, our own outputs): never listed.
IGNORED = {".csv", ".json", ".jsonl", ".tmp", ".npy", ".skops", ".lock"}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_PAGES = 2000
# A PDF with fewer extractable characters than this per page is a scan: it needs OCR first.
MIN_CHARS_PER_PAGE = 20


class DocumentError(Exception):
    """A document that cannot be read: `kind` is one of encrypted, corrupt, needs-ocr, empty, too-large,
    unsupported; the message is one line a user can act on."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


@dataclass(frozen=True)
class Page:
    number: int  # 1-based; for formats without pages, explicit page breaks count, else everything is page 1
    text: str


@dataclass(frozen=True)
class Extracted:
    pages: tuple[Page, ...]
    format: str

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)

    @property
    def n_chars(self) -> int:
        return sum(len(p.text) for p in self.pages)


def list_documents(folder: str | Path) -> list[Path]:
    """Every candidate document under `folder` (recursively), in a stable order; hidden files skipped.

    Symbolic links are skipped: a link to a file elsewhere would read (and index, and quote) something the
    user never put in the folder.
    """
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or any(
                (folder / Path(*rel.parts[:i + 1])).is_symlink() for i in range(len(rel.parts))):
            continue
        if not p.is_file():
            continue
        if p.suffix.lower() in IGNORED:
            continue
        if re.search(r"[\x00-\x1f\x7f-\x9f]", rel.as_posix()):
            # a line break or terminal escape in a name would travel into the tables and onto the terminal
            raise InputError("a file name holds control characters (a line break or terminal escape): rename "
                             "the file", file=str(p))
        out.append(p)
    return out


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extract_bytes(data: bytes, suffix: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_pages: int = DEFAULT_MAX_PAGES) -> Extracted:
    """Pages of text from a document's bytes; `suffix` (`.pdf`, ...) says how to read them."""
    suffix = suffix.lower()
    if len(data) > max_bytes:
        raise DocumentError("too-large", f"{len(data) / 2**20:.1f} MB is over the size limit of "
                                         f"{max_bytes / 2**20:.0f} MB")
    if not data.strip():
        raise DocumentError("empty", "the file is empty")
    suffix = sniff_format(data, suffix)
    if suffix not in SUPPORTED:
        raise DocumentError("unsupported", f"cannot read {suffix or 'extension-less'} files; "
                                           "give PDF, DOCX, TXT, MD or HTML")
    if suffix == ".pdf":
        pages = _pdf_pages(data, max_pages)
        fmt = "pdf"
    elif suffix == ".docx":
        _refuse_zip_bomb(data, max_bytes)
        pages = _docx_pages(data)
        fmt = "docx"
    else:
        text = _decode(data)
        if suffix in (".html", ".htm"):
            text = html_to_text(text)
            fmt = "html"
        else:
            fmt = "md" if suffix in (".md", ".markdown") else "txt"
        pages = [t for t in text.split("\f")]
    pages = [_tidy(t) for t in pages]
    if len(pages) > max_pages:
        raise DocumentError("too-large", f"{len(pages)} pages is over the limit of {max_pages}")
    out = tuple(Page(i + 1, t) for i, t in enumerate(pages))
    if not any(len(p.text.strip()) >= 3 for p in out):
        raise DocumentError("empty", "the document has no text")
    return Extracted(out, fmt)


def sniff_format(data: bytes, suffix: str) -> str:
    """The format the bytes are in, whatever the name says (scanners name everything scan0001.pdf): the
    extension only decides between formats the content cannot tell apart (plain text and Markdown)."""
    head = data[:2048].lstrip()
    if head.startswith(b"%PDF") or (suffix == ".pdf" and b"%PDF" in data[:1024]):
        return ".pdf"
    if data[:4] == b"PK\x03\x04":
        if b"word/" in data[:65536] or suffix == ".docx":
            return ".docx"
        return ".zip"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return ".docx"  # an OLE container: reported as an encrypted (or legacy) Word file
    low = head[:512].lower()
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low or b"<body" in low:
        return ".html"
    if b"\x00" not in data[:4096] and _looks_like_text(data[:4096]):
        return suffix if suffix in (".md", ".markdown", ".txt") else ".txt"
    return suffix  # binary: its reader (or the unsupported-format error) says what is wrong


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 4:  # a character cut at the end of the sample
            return True
    printable = sum(32 <= b < 127 or b in (9, 10, 12, 13) for b in head)
    return printable >= 0.9 * len(head)


def extract(path: str | Path, **limits: int) -> Extracted:
    path = Path(path)
    size = path.stat().st_size
    max_bytes = limits.get("max_bytes", DEFAULT_MAX_BYTES)
    if size > max_bytes:  # do not even read it
        raise DocumentError("too-large", f"{size / 2**20:.1f} MB is over the size limit of "
                                         f"{max_bytes / 2**20:.0f} MB")
    return extract_bytes(path.read_bytes(), path.suffix, **limits)


# --- formats ---------------------------------------------------------------------------------------------

def _pdf_pages(data: bytes, max_pages: int) -> list[str]:
    import logging

    import pypdf
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn loudly
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError("corrupt", "not a PDF file (no %PDF header)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise DocumentError("encrypted", "the PDF is password-protected; save an unprotected copy")
        n = len(reader.pages)
        if n > max_pages:
            raise DocumentError("too-large", f"{n} pages is over the limit of {max_pages}")
        pages = [(p.extract_text() or "") for p in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            RecursionError, AssertionError) as e:
        if "decrypt" in str(e).lower() or "encrypt" in str(e).lower():
            raise DocumentError("encrypted", "the PDF is encrypted and cannot be read") from None
        raise DocumentError("corrupt", f"the PDF cannot be read ({type(e).__name__})") from None
    except Exception as e:  # pypdf raises many types on damaged files; one bad file must not stop a batch
        raise DocumentError("corrupt", f"the PDF cannot be read ({type(e).__name__})") from None
    if n == 0:
        raise DocumentError("empty", "the PDF has no pages")
    pages = strip_running_lines(pages)
    chars = sum(len(p.strip()) for p in pages)
    if chars < MIN_CHARS_PER_PAGE * n:
        raise DocumentError("needs-ocr", f"no text layer ({chars} characters on {n} pages): "
                                         "a scanned document needs OCR first")
    return pages


def strip_running_lines(pages: list[str], edge: int = 2, share: float = 0.6) -> list[str]:
    """Drop running headers and footers: lines near the top or bottom that recur (numbers aside) on most
    pages. They are not evidence, and they would glue the same words onto every page's first passage."""
    if len(pages) < 3:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())

    counts: dict[str, int] = {}
    for text in pages:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        for k in {key(ln) for ln in lines[:edge] + lines[-edge:]}:
            counts[k] = counts.get(k, 0) + 1
    running = {k for k, c in counts.items() if c >= share * len(pages) and k}
    if not running:
        return pages
    out = []
    for text in pages:
        lines = text.split("\n")
        nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
        edges = set(nonblank[:edge] + nonblank[-edge:])
        out.append("\n".join(ln for i, ln in enumerate(lines) if not (i in edges and key(ln) in running)))
    return out


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


DOCX_EXPANSION = 20  # a Word file's XML is a few times its zipped size; more than this is a zip bomb


def _refuse_zip_bomb(data: bytes, max_bytes: int) -> None:
    """A .docx is a zip: one that unpacks to far more than the size limit is refused before it is parsed
    (parsing a 300 MB document.xml takes a minute and gigabytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the reader names what is wrong
    if total > max(max_bytes, len(data) * DOCX_EXPANSION):
        raise DocumentError("too-large", f"the Word file unpacks to {total / 2**20:.0f} MB (over the size limit "
                                         f"of {max_bytes / 2**20:.0f} MB)")


def _docx_pages(data: bytes) -> list[str]:
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # An OLE container named .docx: Word's encrypted files look like this (so do old .doc files).
        raise DocumentError("encrypted", "the Word file is password-protected (or an old .doc file "
                                         "renamed); save an unprotected .docx")
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise DocumentError("corrupt", f"the Word file cannot be read ({type(e).__name__})") from None
    except Exception as e:
        raise DocumentError("corrupt", f"the Word file cannot be read ({type(e).__name__})") from None
    pages: list[list[str]] = [[]]
    body = document.element.body
    for block in body.iterchildren():
        tag = block.tag
        if tag == f"{_W}p":
            text, breaks = _docx_paragraph(block)
            for _ in range(breaks.get("before", 0)):
                pages.append([])
            if text.strip():
                pages[-1].append(text)
            for _ in range(breaks.get("after", 0)):
                pages.append([])
        elif tag == f"{_W}tbl":
            for row in block.iter(f"{_W}tr"):
                cells = []
                for cell in row.iter(f"{_W}tc"):
                    cells.append(" ".join(_docx_paragraph(p)[0] for p in cell.iter(f"{_W}p")).strip())
                line = " | ".join(c for c in cells if c)
                if line:
                    pages[-1].append(line)
    while len(pages) > 1 and not pages[-1]:
        pages.pop()
    return ["\n".join(p) for p in pages]


def _docx_paragraph(p) -> tuple[str, dict[str, int]]:
    parts = []
    breaks = {"after": 0}
    for node in p.iter():
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{_W}tab":
            parts.append(" ")
        elif node.tag == f"{_W}br" and node.get(f"{_W}type") == "page":
            breaks["after"] += 1
    return "".join(parts), breaks


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096] and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise DocumentError("corrupt", "binary content in a text file")
    for enc in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", errors="replace")


class _HTMLText(html.parser.HTMLParser):
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table",
             "ul", "ol", "header", "footer", "blockquote", "pre", "dt", "dd", "title"}
    SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in self.SKIP:
            self.skip += 1
        if tag in self.BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self.SKIP and self.skip:
            self.skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")
        if tag in ("td", "th"):
            self.parts.append(" | ")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.parts.append(data)


def html_to_text(source: str) -> str:
    """Visible text of an HTML page, one block per line (scripts, styles and the head dropped)."""
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\r\xa0]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()
