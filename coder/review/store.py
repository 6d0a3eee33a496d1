"""The store of human decisions (default ``annotations/``), the source of truth for every human code.

* ``reviews.jsonl`` (``documents.jsonl`` for documents): one JSON line per version of a completed annotation,
  keyed by ``record_id`` (project, annotation id and its last edit time), so pulling twice records nothing
  twice and an annotation edited after a pull is recorded again, its latest version winning. Lines are
  never dropped.
* ``state.json``: the suggestions file last pushed or accepted, so ``coder status`` can count what is
  auto-coded and what waits for review without being told again.

Every file is rewritten atomically, and every read-modify-write holds a file lock (``<file>.lock`` beside it,
the `filelock` package), so two pulls at once, or a pull during an accept, lose nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from pathlib import Path

from filelock import FileLock, Timeout

from coder.codebook import Codebook
from coder.errors import InputError
from coder.files import write_json_atomic, write_text_atomic

REVIEWS_FILE = "reviews.jsonl"
DOCUMENTS_FILE = "documents.jsonl"
STATE_FILE = "state.json"
LOCK_TIMEOUT = 120.0  # seconds to wait for another coder process to finish its write


class ReviewStore:
    """The append-only record of human reviews, deduplicated by `record_id`.

    `filename` keeps each queue's decisions apart: answers in `reviews.jsonl`, documents in `documents.jsonl`.
    """

    def __init__(self, path: str | Path = "annotations", filename: str = REVIEWS_FILE) -> None:
        self.dir = Path(path)
        self.reviews_path = self.dir / filename
        self.state_path = self.dir / STATE_FILE

    def records(self) -> list[dict]:
        """Every recorded version, in the order recorded."""
        if not self.reviews_path.exists():
            return []
        out = []
        try:  # utf-8-sig: a file an editor saved with a byte-order mark still reads
            lines = self.reviews_path.read_text(encoding="utf-8-sig").split("\n")  # not splitlines: U+2028 is text
        except UnicodeDecodeError as e:
            raise InputError(f"not UTF-8 text (byte {e.start})", file=str(self.reviews_path)) from None
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                raise InputError("line is not valid JSON (was the file edited by hand?)",
                                 file=str(self.reviews_path), row=n) from None
            if not isinstance(rec, dict):
                raise InputError("line is not a JSON object (was the file edited by hand?)",
                                 file=str(self.reviews_path), row=n)
            if not isinstance(rec.get("record_id"), str) or not rec["record_id"]:
                raise InputError("line has no record_id (was the file edited by hand?)",
                                 file=str(self.reviews_path), row=n, column="record_id")
            rec["_line"] = n
            out.append(rec)
        return out

    def lock(self, path: Path) -> FileLock:
        """The lock another coder process must wait for before rewriting `path`."""
        self.dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)

    def add(self, records: list[dict]) -> int:
        """Add the records not already stored; returns how many were new. Safe with other processes adding."""
        try:
            with self.lock(self.reviews_path):
                existing = self.records()
                seen = {r["record_id"] for r in existing}
                new = []
                for r in records:
                    if r["record_id"] not in seen:
                        seen.add(r["record_id"])
                        new.append(r)
                if new:
                    lines = [json.dumps({k: v for k, v in r.items() if k != "_line"}, ensure_ascii=False,
                                        sort_keys=True) for r in existing + new]
                    write_text_atomic(self.reviews_path, "\n".join(lines) + "\n")
        except Timeout:
            raise InputError(f"another coder process has held the store's lock for {LOCK_TIMEOUT:.0f} s; "
                             "try again when it has finished", file=str(self.reviews_path)) from None
        return len(new)

    def latest(self) -> list[dict]:
        """The latest version of each annotation (an annotation edited in Label Studio supersedes itself)."""
        by_annotation: dict[str, dict] = {}
        for r in self.records():
            key = str(r.get("annotation") or r["record_id"])
            seen = by_annotation.get(key)
            if seen is None or str(r.get("reviewed_at", "")) >= str(seen.get("reviewed_at", "")):
                by_annotation[key] = r
        return list(by_annotation.values())

    def decisions(self, key: Callable[[dict], Hashable]) -> dict:
        """One decision per `key(record)`: the most recently made review wins when several exist."""
        out: dict = {}
        for r in sorted(self.latest(), key=lambda r: str(r.get("reviewed_at", ""))):
            out[key(r)] = r
        return out

    def state(self) -> dict:
        """What the store remembers (the last suggestions file); a damaged state.json is named, not replaced."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError("not valid JSON (delete it: it only remembers the last suggestions file)",
                             file=str(self.state_path)) from None
        if not isinstance(state, dict):
            raise InputError("not a JSON object (delete it: it only remembers the last suggestions file)",
                             file=str(self.state_path))
        return state

    def remember_suggestions(self, path: str | Path) -> None:
        try:
            with self.lock(self.state_path):
                state = self.state()
                state["suggestions"] = str(Path(path).resolve())
                write_json_atomic(self.state_path, state)
        except Timeout:
            raise InputError("another coder process holds the store's lock", file=str(self.state_path)) from None


def answer_key(record: dict) -> tuple[str, str, int]:
    """The answer a review decides: (round, locality, qid)."""
    return str(record["round"]), str(record["locality"]), int(record["qid"])


def human_decisions(store: ReviewStore, codebook: Codebook | None = None) -> dict[tuple[str, str, int], dict]:
    """One decision per answer (round, locality, qid): the most recently made review wins.

    Every record is checked first (and, given the codebook, its codes): a hand-edited line is named by its
    line number, never turned into a human code.
    """
    for r in store.records():
        check_answer_record(r, store.reviews_path, codebook)
    return store.decisions(answer_key)


def check_answer_record(r: dict, path: Path, codebook: Codebook | None) -> None:
    where = {"file": str(path), "row": r.get("_line")}
    for k in ("round", "locality"):
        if not isinstance(r.get(k), str) or not r[k].strip():
            raise InputError(f"{k} is missing or blank (was the file edited by hand?)", column=k, **where)
    qid = r.get("qid")
    if isinstance(qid, bool) or not (isinstance(qid, int) or (isinstance(qid, str) and qid.strip().isdigit())):
        raise InputError(f"qid {qid!r} is not a question number", column="qid", **where)
    if not isinstance(r.get("codes"), str):
        raise InputError("codes is missing", column="codes", **where)
    if codebook is not None:
        from coder.codebook import format_codes

        try:
            r["codes"] = format_codes(codebook.parse_codes(int(qid), r["codes"]))
        except (KeyError, ValueError) as e:
            raise InputError(f"human code from a review: {str(e).strip(chr(34) + chr(39))}", column="codes",
                             **where) from None
