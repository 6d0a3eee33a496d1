"""Codebooks are data: a questionnaire's sections, questions and codes, loaded from YAML and validated."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
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
    # optional `stance_examples:` (stance -> generic short answers), for the short-answer stance model
    stance_examples: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # optional `training_examples:` (a file of coded example answers written in other styles than the
    # returns, trained on beside them; coder.examples): its resolved path, or ''
    training_examples: str = field(default="", compare=False)
    # optional `calibration_examples:` (a file of coded answers by other writers, never trained on: they only
    # teach the calibration how often the trained model is right on answers unlike its training; coder.examples)
    calibration_examples: str = field(default="", compare=False)

    @property
    def stance_example_map(self) -> dict[str, list[str]]:
        return {s: list(ts) for s, ts in self.stance_examples}

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
            if p in out:
                raise ValueError(f"code {p!r} is given twice in {raw!r}")
            out.append(p)
        if len(out) > 1 and not q.multi:
            raise ValueError(f"question {q.id} ({q.ref}) takes one code, got {raw!r}")
        return tuple(sorted(out, key=_code_sort_key))


def _whole_number(value: object) -> int | None:
    """An id from YAML: an int, or a string of digits; None for anything else (1.5, 'two', True)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


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


YAML_MAX_BYTES = 2 * 2**20     # a codebook is ~20 KB; anything this big is a mistake or an attack
YAML_MAX_ALIASES = 50          # aliases (*name) a file may use
YAML_MAX_NODES = 200_000       # nodes once every alias is expanded (an "anchor bomb" expands to billions)


class _BudgetLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases while composing, so an anchor bomb is refused before it expands."""

    aliases = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > YAML_MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(f"more than {YAML_MAX_ALIASES} aliases (line {mark.line + 1})")
        return super().compose_node(parent, index)


def _expanded_nodes(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes `node` stands for with every alias expanded (memoised, so bombs cost nothing here)."""
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = YAML_MAX_NODES + 1  # a cycle counts as too big
    n = 1
    if isinstance(node, yaml.SequenceNode):
        n += sum(_expanded_nodes(c, sizes) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        n += sum(_expanded_nodes(k, sizes) + _expanded_nodes(v, sizes) for k, v in node.value)
    sizes[id(node)] = min(n, YAML_MAX_NODES + 1)
    return sizes[id(node)]


def safe_yaml(raw: bytes | str) -> object:
    """Parse YAML with plain types only, at most YAML_MAX_ALIASES aliases and YAML_MAX_NODES expanded nodes.

    Raises yaml.YAMLError (the caller names the file). Used for every YAML coder reads: codebooks, report
    definitions, the documents' vocabulary.
    """
    loader = _BudgetLoader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_nodes(node, {}) > YAML_MAX_NODES:
            raise yaml.YAMLError(f"expands to more than {YAML_MAX_NODES:,} values through aliases")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml(path: str | Path, what: str) -> tuple[object, str]:
    """Parse a YAML file; returns (data, sha256 of its bytes). Errors name the file and the line.

    Files over YAML_MAX_BYTES and alias-heavy files are refused (see safe_yaml).
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(f"{what} must be a YAML file, not a folder", file=str(path))
        if path.exists() and not path.is_file():  # a pipe or device would be read forever
            raise InputError(f"{what} must be a YAML file, not a device or pipe", file=str(path))
        if path.stat().st_size > YAML_MAX_BYTES:
            raise InputError(f"{what} is larger than {YAML_MAX_BYTES // 2**20} MB", file=str(path))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what}: file not found", file=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read {what}: {e.strerror}", file=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{what} is not UTF-8 text (byte {e.start})", file=str(path)) from None
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"not valid YAML: {problem}", file=str(path),
                         row=(mark.line + 1) if mark else None) from None
    except RecursionError:
        raise InputError("not valid YAML: nested too deeply", file=str(path)) from None
    return data, hashlib.sha256(raw).hexdigest()


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load and validate a codebook YAML; every error names the file and the key at fault."""
    path = Path(path) if path else default_codebook_path()
    data, sha256 = read_yaml(path, "codebook")
    return parse_codebook(data, source=str(path), sha256=sha256)


def parse_codebook(data: object, source: str = "<codebook>", sha256: str = "") -> Codebook:
    """Validate a parsed codebook; anything malformed is an InputError naming the file (never a traceback)."""
    try:
        return _parse_codebook(data, source, sha256)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
        raise InputError(f"not a valid codebook ({type(e).__name__}: {e})", file=source) from None


def _parse_codebook(data: object, source: str, sha256: str) -> Codebook:
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
        sid = _whole_number(s["id"])
        if sid is None:
            raise fail(f"sections[{i}].id", f"not a whole number: {s['id']!r}")
        sections.append(Section(sid, str(s["title"])))
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
        qid = _whole_number(q["id"])
        if qid is None:
            raise fail(f"{key}.id", f"not a whole number: {q['id']!r}")
        if qid in seen_ids:
            raise fail(f"{key}.id", f"duplicate question id {qid}")
        seen_ids.add(qid)
        ref = str(q.get("ref", qid))
        if ref in seen_refs:
            raise fail(f"{key}.ref", f"duplicate ref {ref}")
        seen_refs.add(ref)
        section = _whole_number(q.get("section", 0))
        if section is None:
            raise fail(f"{key}.section", f"not a whole number: {q.get('section')!r}")
        multi = q.get("multi", False)
        if not isinstance(multi, bool):
            raise fail(f"{key}.multi", f"must be true or false, not {multi!r}")
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
            code = str(c["code"]).strip()
            if not re.fullmatch(r"[A-Za-z0-9_.]+", code):
                raise fail(f"{key}.codes[{j}].code", f"{code!r}: a code is letters, digits, '.' or '_' "
                                                    "(';' and ',' separate codes)")
            codes.append(Code(code, str(c["label"]), stance))
        if len({c.code for c in codes}) != len(codes):
            raise fail(f"{key}.codes", "duplicate code")
        questions.append(Question(qid, ref, section, str(q["text"]).strip(), multi,
                                  tuple(codes), kind, level))
    if not isinstance(data["name"], str | int) or not str(data["name"]).strip():
        raise fail("name", f"must be a non-empty name, not {data['name']!r}")
    blank = str(data.get("blank_code", "NR")).strip()
    if not re.fullmatch(r"[A-Za-z0-9_.]+", blank):
        raise fail("blank_code", f"{data.get('blank_code')!r}: the code of a blank answer is letters, digits, "
                                 "'.' or '_' (e.g. NR)")
    for q in questions:
        if blank in q.code_values:
            raise fail(f"question {q.id}", f"uses the blank code {blank!r} as a code")
    return Codebook(str(data["name"]), str(data.get("title", data["name"])), blank, tuple(sections),
                    tuple(questions), sha256=sha256, path=source,
                    stance_examples=_stance_examples(data.get("stance_examples"), fail),
                    training_examples=_examples_file("training_examples", data, source, fail),
                    calibration_examples=_examples_file("calibration_examples", data, source, fail))


def _examples_file(key: str, data: dict, source: str, fail: Callable[[str, str], InputError]) -> str:
    """`training_examples:` or `calibration_examples:` validated: a file beside the codebook (a relative path is
    read from the codebook's folder) that exists; '' when the key is absent."""
    raw = data.get(key)
    if raw is None:
        return ""
    if not isinstance(raw, str) or not raw.strip():
        raise fail(key, f"must name a CSV or XLSX file of example answers, not {raw!r}")
    path = Path(raw.strip())
    if not path.is_absolute():
        path = (Path(source).parent if source != "<codebook>" else Path.cwd()) / path
    if not path.is_file():
        raise fail(key, f"file not found: {path}")
    return str(path)


def _stance_examples(raw: object, fail: Callable[[str, str], InputError]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`stance_examples:` validated: a mapping from a stance to a list of short answers (optional)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise fail("stance_examples", "must map a stance to a list of short answers")
    out = []
    for stance, texts in raw.items():
        key = f"stance_examples.{stance}"
        if not isinstance(stance, str) or stance not in STANCES:
            hint = " (quote it: 'no' / 'yes' are read as true/false in YAML)" if isinstance(stance, bool) else ""
            raise fail(key, f"{stance!r} is not one of {', '.join(STANCES)}{hint}")
        if not isinstance(texts, list) or not texts:
            raise fail(key, "must be a non-empty list of short answers")
        for j, t in enumerate(texts):
            if not isinstance(t, str | int | float) or isinstance(t, bool) or not str(t).strip():
                raise fail(f"{key}[{j}]", f"must be a short answer (text), not {t!r} (quote yes/no/on/off)")
        out.append((stance, tuple(str(t).strip() for t in texts)))
    return tuple(out)
