"""Build a realistic batch of good-practice documents from the bundled examples, for the scale bench.

Usage: python bench/make_corpus.py OUT_DIR [--docs 340] [--pages 4000] [--seed 7] [--bad 4]

Each generated document takes one labelled example as its base (so it keeps that example's kind), renames
the area, numbers its paragraphs afresh, and runs on with paragraphs from other documents of the same kind
and written answers from the answer bank, until it fills its page budget. Page budgets are skewed like real
returns (many short documents, a few long ones) and add up to `--pages`. Formats are mixed roughly as areas
sent them: mostly PDF, then Word, some text/Markdown (pages split by form feeds), a few one-page web pages;
PDFs carry a running header and a page footer. A few unreadable documents (scanned, password-protected,
damaged) are mixed in, as in real life. Pages are ~2,200 characters, like the examples' PDF pages. Files are
named scan0001.pdf-style (the name carries nothing), with the true format's extension so any tool can open
them."""

from __future__ import annotations

import argparse
import json
import random
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "coder" / "data" / "documents"
ANSWERS = ROOT / "coder" / "data" / "answers.jsonl"
CHARS_PER_PAGE = 2200
LINE = 92
AREAS = ["Ashcombe", "Brackenfield", "Coldharbour", "Dunsmere", "Eastwick", "Fairholme", "Glenmoor",
         "Harrowfield", "Ironbridge", "Juniper Vale", "Kingsmere", "Larkhill", "Millbrook", "Northcote",
         "Oakridge", "Pennbury", "Queensbridge", "Ravenscar", "Stonebury", "Thornwick", "Upminster Vale",
         "Westerleigh", "Yardley Chase"]
HEADINGS = ["Progress", "Arrangements", "Detail", "Actions", "Update", "Delivery", "Evidence"]
NOT_NAMES = ("NHS", "The", "Local", "District", "Borough", "County", "City", "Metropolitan")


def source_paragraphs() -> tuple[dict[str, list[list[str]]], list[tuple[int, str]], list[str]]:
    """Example paragraphs by kind (one list per example), answer texts, and the examples' area names."""
    import pandas as pd

    from coder.documents.extract import extract
    from coder.documents.passages import page_blocks

    labels = pd.read_csv(DOCS / "labels.csv", dtype=str)
    by_type: dict[str, list[list[str]]] = {}
    names = set()
    for _, r in labels.iterrows():
        ex = extract(DOCS / r["file"])
        paras = [b for p in ex.pages for b, _ in page_blocks(p.text)]
        by_type.setdefault(r["doc_type"], []).append(paras)
        # The example's own area: the word before "Council"/"CCG" that recurs.
        area_re = r"\b([A-Z][a-z]+)(?= (?:City |County |Metropolitan Borough |Borough )?Council| CCG)"
        for m in re.finditer(area_re, ex.text):
            if m.group(1) not in NOT_NAMES:
                names.add(m.group(1))
    answers = []
    for line in ANSWERS.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        answers.append((d["qid"], d["text"]))
    return by_type, answers, sorted(names)


def page_budgets(n_docs: int, n_pages: int, rng: random.Random) -> list[int]:
    raw = [rng.lognormvariate(2.0, 0.8) for _ in range(n_docs)]
    scale = n_pages / sum(raw)
    pages = [max(1, round(x * scale)) for x in raw]
    while sum(pages) != n_pages:
        i = rng.randrange(n_docs)
        if sum(pages) > n_pages and pages[i] > 1:
            pages[i] -= 1
        elif sum(pages) < n_pages:
            pages[i] += 1
    return pages


def document_text(base: list[str], same_kind: list[list[str]], answers, area: str, names: list[str],
                  n_chars: int, rng: random.Random) -> list[str]:
    """Paragraphs for one document: its base example, then more of its kind and answers, renamed and
    renumbered."""
    pat = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None

    def rename(t: str) -> str:
        t = t.replace("{AREA}", area).replace("{CCG}", f"NHS {area} CCG")
        return pat.sub(area, t) if pat else t

    out = [rename(p) for p in base]
    size = sum(len(p) for p in out)
    section = 1
    while size < n_chars:
        if rng.random() < 0.35:
            other = rng.choice(same_kind)
            k = rng.randrange(max(1, len(other) - 6))
            chunk = other[k:k + rng.randint(3, 8)]
        else:
            chunk = [t for _, t in rng.sample(answers, rng.randint(2, 5))]
        section += 1
        out.append(f"{section + len(base) // 6}. {rng.choice(HEADINGS)}")
        for j, p in enumerate(chunk):
            p = re.sub(r"^\d+(\.\d+)*\s+", "", rename(p))
            out.append(f"{section + len(base) // 6}.{j + 1} {p}")
        size += sum(len(p) for p in chunk)
    return out


def paginate(paras: list[str], n_pages: int) -> list[list[str]]:
    """Lines per page: wrapped paragraphs, a blank line between, ~CHARS_PER_PAGE characters a page."""
    pages: list[list[str]] = [[]]
    used = 0
    for p in paras:
        lines = textwrap.wrap(p, LINE) or [""]
        for line in lines:
            if used + len(line) > CHARS_PER_PAGE:
                if len(pages) == n_pages:
                    return pages
                pages.append([])
                used = 0
            pages[-1].append(line)
            used += len(line)
        pages[-1].append("")
    return pages


def write_pdf(path: Path, pages: list[list[str]], title: str, area: str) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(title)
    for n, lines in enumerate(pages, 1):
        c.setFont("Helvetica", 8)
        c.drawString(50, 815, f"{area} Council and NHS {area} CCG")
        c.drawString(480, 30, f"Page {n} of {len(pages)}")
        c.setFont("Helvetica", 10)
        y = 790
        if n == 1:
            for tl in textwrap.wrap(title, 70):
                c.setFont("Helvetica-Bold", 13)
                c.drawString(50, y, tl)
                y -= 17
            c.setFont("Helvetica", 10)
            y -= 8
        for line in lines:
            c.drawString(50, y, line)
            y -= 12.5
        c.showPage()
    c.save()


def write_docx(path: Path, pages: list[list[str]], title: str) -> None:
    import docx

    d = docx.Document()
    d.add_heading(title, level=0)
    for n, lines in enumerate(pages):
        paras = " \n".join(lines).split(" \n \n")
        for p in paras:
            if p.strip():
                d.add_paragraph(" ".join(p.split(" \n")))
        if n < len(pages) - 1:
            d.add_page_break()
    d.save(str(path))


def _paras(lines: list[str]) -> list[str]:
    out, cur = [], []
    for line in lines:
        if line:
            cur.append(line)
        elif cur:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def write_text(path: Path, pages: list[list[str]], title: str, markdown: bool) -> None:
    head = f"# {title}\n\n" if markdown else f"{title}\n{'=' * min(len(title), 80)}\n\n"
    body = "\f".join("\n\n".join(_paras(lines)) for lines in pages)
    path.write_text(head + body + "\n", encoding="utf-8")


def write_html(path: Path, pages: list[list[str]], title: str) -> None:
    body = "".join(f"<p>{p}</p>\n" for lines in pages for p in _paras(lines))
    path.write_text(f"<!DOCTYPE html><html><head><title>{title}</title><style>body{{font:11pt sans-serif}}"
                    f"</style></head><body><h1>{title}</h1>\n{body}</body></html>\n", encoding="utf-8")


def write_bad(path: Path, kind: str, rng: random.Random) -> Path:
    from reportlab.pdfgen import canvas

    if kind == "scanned":
        c = canvas.Canvas(str(path))
        for _ in range(3):
            for k in range(40):
                c.rect(50, 780 - k * 18, 380 + rng.randint(0, 80), 10, fill=1)
            c.showPage()
        c.save()
    elif kind == "encrypted":
        c = canvas.Canvas(str(path), encrypt="s3cret")
        c.drawString(50, 800, "Confidential: risk share agreement")
        c.showPage()
        c.save()
    else:  # damaged: a PDF cut short in transfer
        c = canvas.Canvas(str(path))
        c.drawString(50, 800, "Joint protocol " * 20)
        c.showPage()
        c.save()
        path.write_bytes(path.read_bytes()[:500])
    return path


def build(out: Path, n_docs: int = 340, n_pages: int = 4000, seed: int = 7, bad: int = 4) -> dict:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    by_type, answers, names = source_paragraphs()
    kinds = sorted(by_type)
    formats = rng.choices(["pdf", "docx", "txt", "md", "html"], weights=[62, 24, 5, 5, 4], k=n_docs - bad)
    # A web page has no pages: it is one page's worth of text; the other formats share the rest.
    paged = [i for i, f in enumerate(formats) if f != "html"]
    budgets = [1] * len(formats)
    for i, b in zip(paged, page_budgets(len(paged), n_pages - (len(formats) - len(paged)), rng), strict=True):
        budgets[i] = b
    manifest = {"documents": [], "pages": 0}
    for i, (pages_wanted, fmt) in enumerate(zip(budgets, formats, strict=True)):
        kind = kinds[i % len(kinds)]
        example = rng.randrange(len(by_type[kind]))
        base = by_type[kind][example]
        area = rng.choice(AREAS)
        paras = document_text(base, by_type[kind], answers, area, names,
                              pages_wanted * CHARS_PER_PAGE + 500, rng)
        title = paras[0]
        pages = paginate(paras[1:], pages_wanted)
        path = out / f"scan{i + 1:04d}.{fmt}"
        if fmt == "pdf":
            write_pdf(path, pages, title, area)
        elif fmt == "docx":
            write_docx(path, pages, title)
        elif fmt in ("txt", "md"):
            write_text(path, pages, title, markdown=fmt == "md")
        else:
            write_html(path, pages, title)
        manifest["documents"].append({"file": path.name, "kind": kind, "example": example,
                                      "pages": len(pages), "format": fmt})
        manifest["pages"] += len(pages)
    for k in range(bad):
        kind = ["scanned", "encrypted", "damaged"][k % 3]
        path = write_bad(out / f"scan{len(budgets) + k + 1:04d}.pdf", kind, rng)
        manifest["documents"].append({"file": path.name, "kind": f"bad:{kind}", "pages": 0, "format": "pdf"})
    (out.parent / f"{out.name}-manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--docs", type=int, default=340)
    ap.add_argument("--pages", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bad", type=int, default=4)
    a = ap.parse_args()
    m = build(a.out, a.docs, a.pages, a.seed, a.bad)
    fmts: dict[str, int] = {}
    for d in m["documents"]:
        fmts[d["format"]] = fmts.get(d["format"], 0) + 1
    print(f"{len(m['documents'])} documents, {m['pages']} pages in {a.out}: {fmts}")


if __name__ == "__main__":
    main()
