"""Report definitions as data (`codebook/report-2013.yaml`): each Appendix 3b line counts the localities
whose answer to a question carries one of its codes; validated on load, every error naming file and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from coder.codebook import Codebook, project_file, read_yaml
from coder.errors import InputError

DEFINITIONS_FILE = "report-2013.yaml"


@dataclass(frozen=True)
class Figure:
    """A labelled count over codes: the secondary figure (`also`) or one part of a `split`."""

    label: str
    count: tuple[str, ...]


@dataclass(frozen=True)
class ReportLine:
    """One Appendix 3b line: the share of localities whose answer to `question` carries a `count` code.

    `positive` is False for lines where being counted is not a strength (e.g. a barrier reported); the
    pro-forma then lists the line under areas for development instead.
    """

    theme: str
    question: int
    label: str
    count: tuple[str, ...]
    also: Figure | None = None
    split: tuple[Figure, ...] = ()
    assumed: bool = False
    positive: bool = True

    @property
    def key(self) -> str:
        """A file-name-safe id, e.g. `q05`."""
        return f"q{self.question:02d}"

    @property
    def short(self) -> str:
        """The label without its leading '% of places' / '% reporting', for pro-forma sentences."""
        s = re.sub(r"^%\s*(of places|reporting|of|that report|where|using|developing|including)?\s*", "",
                   self.label).strip()
        return s[:1].upper() + s[1:]


@dataclass(frozen=True)
class Theme:
    name: str
    lines: tuple[ReportLine, ...]


@dataclass(frozen=True)
class ReportDefinitions:
    codebook: str
    denominator: str
    themes: tuple[Theme, ...]
    path: str = field(default="", compare=False)
    sha256: str = field(default="", compare=False)

    @property
    def lines(self) -> list[ReportLine]:
        return [ln for t in self.themes for ln in t.lines]


def load_report_definitions(path: str | Path | None = None,
                            codebook: Codebook | None = None) -> ReportDefinitions:
    """Load and validate report definitions; every error names the file and the key at fault.

    With a codebook, each line's question and codes are checked against it too.
    """
    path = Path(path) if path else project_file(DEFINITIONS_FILE)
    data, sha256 = read_yaml(path, "report definitions")
    return parse_report_definitions(data, source=str(path), codebook=codebook, sha256=sha256)


def parse_report_definitions(data: object, source: str = "<report definitions>",
                             codebook: Codebook | None = None, sha256: str = "") -> ReportDefinitions:
    """Validate parsed definitions; anything malformed is an InputError naming the file (never a traceback)."""
    try:
        return _parse_report_definitions(data, source, codebook, sha256)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
        raise InputError(f"not valid report definitions ({type(e).__name__}: {e})", file=source) from None


def _parse_report_definitions(data: object, source: str, codebook: Codebook | None,
                              sha256: str) -> ReportDefinitions:
    def fail(key: str, msg: str) -> InputError:
        return InputError(f"{key}: {msg}", file=source)

    if not isinstance(data, dict):
        raise fail("(top)", "report definitions are a mapping with codebook and themes")
    if codebook is not None and data.get("codebook") not in (None, codebook.name):
        raise fail("codebook",
                   f"definitions are for codebook {data.get('codebook')!r}, not {codebook.name!r}")
    themes_raw = data.get("themes")
    if not isinstance(themes_raw, list) or not themes_raw:
        raise fail("themes", "missing or not a non-empty list")

    def codes_of(key: str, value: object, qid: int) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise fail(key, "must be a non-empty list of codes")
        codes = tuple(str(v).strip() for v in value)
        if codebook is not None:
            q = codebook.by_id[qid]
            bad = [c for c in codes if c not in q.code_values]
            if bad:
                raise fail(key, f"code {bad[0]!r} is not a code of question {qid} ({q.ref}); "
                                f"allowed: {', '.join(q.code_values)}")
        return codes

    def figure(key: str, value: object, qid: int) -> Figure:
        if not isinstance(value, dict) or "label" not in value or "count" not in value:
            raise fail(key, "needs label and count")
        return Figure(str(value["label"]).strip(), codes_of(f"{key}.count", value["count"], qid))

    themes = []
    known = {"question", "label", "count", "also", "split", "assumed", "positive"}
    for i, t in enumerate(themes_raw):
        tkey = f"themes[{i}]"
        if not isinstance(t, dict) or not str(t.get("name", "")).strip():
            raise fail(f"{tkey}.name", "missing")
        if not isinstance(t.get("lines"), list) or not t["lines"]:
            raise fail(f"{tkey}.lines", "missing or not a non-empty list")
        lines = []
        for j, ln in enumerate(t["lines"]):
            key = f"{tkey}.lines[{j}]"
            if not isinstance(ln, dict):
                raise fail(key, "must be a mapping")
            unknown = sorted(set(ln) - known)
            if unknown:
                raise fail(f"{key}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(known))})")
            for k in ("question", "label", "count"):
                if k not in ln:
                    raise fail(f"{key}.{k}", "missing")
            try:
                qid = int(ln["question"])
            except (TypeError, ValueError):
                raise fail(f"{key}.question", f"not a whole number: {ln['question']!r}") from None
            if codebook is not None and qid not in codebook.by_id:
                raise fail(f"{key}.question", f"question {qid} is not in codebook {codebook.name!r}")
            also = figure(f"{key}.also", ln["also"], qid) if ln.get("also") is not None else None
            split_raw = ln.get("split") or []
            if not isinstance(split_raw, list):
                raise fail(f"{key}.split", "must be a list of {label, count}")
            split = tuple(figure(f"{key}.split[{k}]", s, qid) for k, s in enumerate(split_raw))
            if also and split:
                raise fail(key, "has both also and split; a line prints one secondary figure")
            for flag in ("assumed", "positive"):
                if flag in ln and not isinstance(ln[flag], bool):
                    raise fail(f"{key}.{flag}", "must be true or false")
            lines.append(ReportLine(str(t["name"]).strip(), qid, str(ln["label"]).strip(),
                                    codes_of(f"{key}.count", ln["count"], qid), also, split,
                                    bool(ln.get("assumed", False)), bool(ln.get("positive", True))))
        themes.append(Theme(str(t["name"]).strip(), tuple(lines)))
    seen: dict[str, str] = {}
    for i, t in enumerate(themes):
        for j, ln in enumerate(t.lines):
            if not ln.label:
                raise fail(f"themes[{i}].lines[{j}].label", "is empty")
            if ln.label in seen:
                raise fail(f"themes[{i}].lines[{j}].label", f"{ln.label!r} is already the label of {seen[ln.label]} "
                                                            "(each line needs its own label)")
            seen[ln.label] = f"themes[{i}].lines[{j}]"
    return ReportDefinitions(str(data.get("codebook", "")), str(data.get("denominator", "")), tuple(themes),
                             path=source, sha256=sha256)
