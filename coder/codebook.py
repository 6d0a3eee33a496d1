"""Codebooks are data: a questionnaire's sections, questions and codes, loaded from YAML and validated."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from coder.errors import InputError

PROJECT_CODEBOOK_DIR = Path(__file__).resolve().parent.parent / "codebook"
PACKAGED_CODEBOOK_DIR = Path(__file__).resolve().parent / "data"


STANCES = ("no", "yes", "unclear", "underway", "other")
KINDS = ("code", "count", "date")  # code: codes from a list; count: a whole number; date: a month, YYYY-MM
LEVELS = ("area", "person")  # one answer per area, or one per person the area's return mentions
_UNDERWAY = re.compile(r"in progress|in process|in development|being developed|under review|being put in place|"
                       r"work in progress|in part|part completed|further discussion|under discussion|developing")


def label_stance(label: str) -> str:
    """The answer's stance a code label stands for (no / yes / unclear / underway / other).

    Most questions share these kinds of code; the classifier learns stance once across all questions.
    A codebook can override the guess with `stance:` on a code.
    """
    s = label.lower().strip()
    if re.match(r"^(no|none|no arrangement|no process)\b", s):
        return "no"
    if s.startswith("not clear") or s.startswith("unclear"):
        return "unclear"
    if re.match(r"^yes\b", s):
        return "yes"
    if _UNDERWAY.search(s):
        return "underway"
    return "other"


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    stance: str = "other"

    @property
    def display(self) -> str:
        return f"{self.code} - {self.label}"


@dataclass(frozen=True)
class Question:
    id: int
    ref: str
    section: int
    text: str
    multi: bool
    codes: tuple[Code, ...]
    kind: str = "code"
    level: str = "area"

    @cached_property
    def code_values(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)

    def label(self, code: str) -> str:
        for c in self.codes:
            if c.code == code:
                return c.label
        raise KeyError(code)


@dataclass(frozen=True)
class Section:
    id: int
    title: str


@dataclass(frozen=True)
class Codebook:
    name: str
    title: str
    blank_code: str
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    sha256: str = field(default="", compare=False)
    path: str = field(default="", compare=False)

    @cached_property
    def by_id(self) -> dict[int, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def by_ref(self) -> dict[str, Question]:
        return {q.ref: q for q in self.questions}

    def question(self, qid: int) -> Question:
        try:
            return self.by_id[int(qid)]
        except (KeyError, ValueError):
            raise KeyError(f"question {qid!r} is not in codebook {self.name!r}") from None

    def section_title(self, sid: int) -> str:
        for s in self.sections:
            if s.id == sid:
                return s.title
        raise KeyError(sid)

    def parse_codes(self, qid: int, value: str) -> tuple[str, ...]:
        """Split a codes cell (`1`, `2;5;6`, `NR`) and check every code belongs to the question.

        Raises ValueError with a user-facing message; callers add file/row/column.
        """
        q = self.question(qid)
        raw = str(value).strip()
        if raw.upper() == self.blank_code.upper():
            return (self.blank_code,)
        parts = [p.strip() for p in re.split(r"[;,]", raw) if p.strip()]
        if not parts:
            raise ValueError("empty code")
        out = []
        for p in parts:
            p = _normalise_code(p)
            if p not in q.code_values:
                allowed = ", ".join(q.code_values + (self.blank_code,))
                raise ValueError(f"code {p!r} is not a code of question {q.id} ({q.ref}); allowed: {allowed}")
            if p not in out:
                out.append(p)
        if len(out) > 1 and not q.multi:
            raise ValueError(f"question {q.id} ({q.ref}) takes one code, got {raw!r}")
        return tuple(sorted(out, key=_code_sort_key))


def _normalise_code(p: str) -> str:
    # Excel turns 1 into 1.0; accept it.
    if re.fullmatch(r"\d+\.0+", p):
        return p.split(".")[0]
    return p


def _code_sort_key(c: str) -> tuple[int, str]:
    return (int(c), "") if c.isdigit() else (10**9, c)


def format_codes(codes: tuple[str, ...] | list[str]) -> str:
    """The canonical cell form: `1`, `2;5;6`, `NR`."""
    return ";".join(sorted(codes, key=_code_sort_key))


def project_file(name: str) -> Path:
    """A file of the project's codebook folder (codebooks, report definitions, the documents' vocabulary),
    or the copy shipped in the package when installed elsewhere."""
    for d in (PROJECT_CODEBOOK_DIR, PACKAGED_CODEBOOK_DIR):
        p = d / name
        if p.exists():
            return p
    raise FileNotFoundError(f"no {name} found in {PROJECT_CODEBOOK_DIR}")


def default_codebook_path() -> Path:
    """The project's codebook, or the copy shipped in the package when installed elsewhere."""
    return project_file("stocktake-2013.yaml")


def read_yaml(path: str | Path, what: str) -> tuple[object, str]:
    """Parse a YAML file; returns (data, sha256 of its bytes). Errors name the file and the line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {what}: {e.strerror}", file=str(path)) from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(e, 'problem', e)}", file=str(path),
                         row=(mark.line + 1) if mark else None) from None
    return data, hashlib.sha256(raw).hexdigest()


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook YAML; every error names the file and the key at fault."""
    path = Path(path) if path else default_codebook_path()
    data, sha256 = read_yaml(path, "codebook")
    return parse_codebook(data, source=str(path), sha256=sha256)


def parse_codebook(data: object, source: str = "<codebook>", sha256: str = "") -> Codebook:
    def fail(key: str, msg: str) -> InputError:
        return InputError(f"{key}: {msg}", file=source)

    if not isinstance(data, dict):
        raise fail("(top)", "a codebook is a mapping with name, sections and questions")
    for key in ("name", "questions"):
        if key not in data:
            raise fail(key, "missing")
    sections = []
    for i, s in enumerate(data.get("sections") or []):
        if not isinstance(s, dict) or "id" not in s or "title" not in s:
            raise fail(f"sections[{i}]", "needs id and title")
        sections.append(Section(int(s["id"]), str(s["title"])))
    section_ids = {s.id for s in sections}
    questions = []
    seen_ids: set[int] = set()
    seen_refs: set[str] = set()
    if not isinstance(data["questions"], list) or not data["questions"]:
        raise fail("questions", "must be a non-empty list")
    for i, q in enumerate(data["questions"]):
        key = f"questions[{i}]"
        if not isinstance(q, dict):
            raise fail(key, "must be a mapping")
        kind, level = str(q.get("kind", "code")), str(q.get("level", "area"))
        if kind not in KINDS:
            raise fail(f"{key}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        if level not in LEVELS:
            raise fail(f"{key}.level", f"{level!r} is not one of {', '.join(LEVELS)}")
        for k in ("id", "text", "codes") if kind == "code" else ("id", "text"):
            if k not in q:
                raise fail(f"{key}.{k}", "missing")
        if kind != "code":
            if q.get("codes"):
                raise fail(f"{key}.codes", f"a {kind} question has no codes list")
            if q.get("multi"):
                raise fail(f"{key}.multi", f"a {kind} question takes one value")
        try:
            qid = int(q["id"])
        except (TypeError, ValueError):
            raise fail(f"{key}.id", f"not a whole number: {q['id']!r}") from None
        if qid in seen_ids:
            raise fail(f"{key}.id", f"duplicate question id {qid}")
        seen_ids.add(qid)
        ref = str(q.get("ref", qid))
        if ref in seen_refs:
            raise fail(f"{key}.ref", f"duplicate ref {ref}")
        seen_refs.add(ref)
        section = int(q.get("section", 0))
        if sections and section not in section_ids:
            raise fail(f"{key}.section", f"section {section} is not defined under sections")
        codes = []
        if kind == "code" and (not isinstance(q["codes"], list) or not q["codes"]):
            raise fail(f"{key}.codes", "must be a non-empty list")
        for j, c in enumerate(q.get("codes") or []):
            if not isinstance(c, dict) or "code" not in c or "label" not in c:
                raise fail(f"{key}.codes[{j}]", "needs code and label")
            stance = str(c.get("stance") or label_stance(str(c["label"])))
            if stance not in STANCES:
                raise fail(f"{key}.codes[{j}].stance", f"{stance!r} is not one of {', '.join(STANCES)}")
            codes.append(Code(str(c["code"]), str(c["label"]), stance))
        if len({c.code for c in codes}) != len(codes):
            raise fail(f"{key}.codes", "duplicate code")
        questions.append(Question(qid, ref, section, str(q["text"]).strip(), bool(q.get("multi", False)),
                                  tuple(codes), kind, level))
    blank = str(data.get("blank_code", "NR"))
    for q in questions:
        if blank in q.code_values:
            raise fail(f"question {q.id}", f"uses the blank code {blank!r} as a code")
    return Codebook(str(data["name"]), str(data.get("title", data["name"])), blank, tuple(sections),
                    tuple(questions), sha256=sha256, path=source)
