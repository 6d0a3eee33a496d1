"""Check a style-shift answer file before it is used: every line parses, every (qid, code) is in the codebook.

Also prints what the README's tables need (answers and word range per style, length bands, codes covered)
and whether any answer shares a long run of words with the bundled answer bank, the codebook's training
examples and calibration answers, the other development files or the held-out set (only ids and run lengths
are printed, never the other sets' texts):

    python bench/styleshift_check.py bench/styleshift-dev/dev3.jsonl
    python bench/styleshift_check.py codebook/stocktake-2013-examples.csv
    python bench/styleshift_check.py codebook/stocktake-2013-calibration.csv
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from styleshift_eval import BANDS, DEV, HERE  # noqa: E402

from coder.codebook import format_codes, load_codebook  # noqa: E402
from coder.examples import CALIBRATION_ROUND, EXAMPLES_ROUND, read_examples  # noqa: E402

FIELDS = ("id", "qid", "codes", "style", "text", "note")
RUN = 12  # a shared run this long counts as copied (8-word runs are stock phrases: "Director of Adult ...")


def read_rows(path: Path, cb) -> list[dict]:
    """The file's answers; exits 2 with one line naming file and row on the first malformed line."""
    rows, seen = [], set()
    for n, line in records(path):
        try:
            r = json.loads(line) if isinstance(line, str) else line
            missing = [f for f in FIELDS if f not in r]
            if missing:
                raise ValueError(f"missing {missing}")
            codes = cb.parse_codes(int(r["qid"]), r["codes"])
            if codes == (cb.blank_code,):
                raise ValueError("gold NR on a written answer")
            if format_codes(codes) != r["codes"]:
                raise ValueError(f"codes {r['codes']!r} not in canonical form {format_codes(codes)!r}")
            if r["id"] in seen:
                raise ValueError(f"id {r['id']} repeated")
            if not str(r["text"]).strip():
                raise ValueError("empty text")
        except (ValueError, KeyError, TypeError) as e:
            print(f"{path}: row {n}: {e}", file=sys.stderr)
            sys.exit(2)
        seen.add(r["id"])
        rows.append(r)
    return rows


def records(path: Path) -> list[tuple[int, str | dict]]:
    """(row number, JSON line or CSV record) of a JSONL answer set or a CSV one (the codebook's examples)."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [(n, r) for n, r in enumerate(csv.DictReader(fh), 2)]
    return [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]


def grams(text: str) -> set[tuple[str, ...]]:
    w = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(w[i:i + RUN]) for i in range(len(w) - RUN + 1)}


def others(path: Path, cb) -> dict[str, set]:
    """Word runs of every other answer set, keyed by a name that is safe to print (set and id)."""
    out: dict[str, set] = {}
    bank = ROOT / "coder" / "data" / "answers.jsonl"
    for i, line in enumerate(bank.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            out[f"bank:{i}"] = grams(json.loads(line)["text"])
    for file, name in ((cb.training_examples, EXAMPLES_ROUND), (cb.calibration_examples, CALIBRATION_ROUND)):
        if file and Path(file).resolve() != path.resolve():  # the codebook's example answers (coder.examples)
            examples = read_examples(file, cb, name)
            for i, text in zip(examples["locality"], examples["text"], strict=True):
                out[f"{name}:{i}"] = grams(text)
    for folder in (DEV, HERE):
        for f in sorted(folder.glob("*.jsonl")):
            if f.resolve() == path.resolve():
                continue
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    r = json.loads(line)
                    out[f"{f.name}:{r['id']}"] = grams(r["text"])
    return out


def main() -> None:
    path = Path(sys.argv[1])
    cb = load_codebook()
    rows = read_rows(path, cb)
    print(f"{path}: {len(rows)} answers parse; every (qid, code) is in codebook {cb.name}")
    words = {r["id"]: len(r["text"].split()) for r in rows}
    print("| style | n | words |\n|---|---|---|")
    for s in sorted({r["style"] for r in rows}):
        w = [words[r["id"]] for r in rows if r["style"] == s]
        print(f"| `{s}` | {len(w)} | {min(w)}-{max(w)} |")
    bands = ", ".join(f"{b}: {sum(lo <= w < hi for w in words.values())}" for lo, hi, b in BANDS)
    print(f"length bands (words): {bands}")
    have = {(int(r["qid"]), c) for r in rows for c in r["codes"].split(";")}
    every = {(q.id, str(c.code)) for q in cb.questions for c in q.codes}
    print(f"questions: {len({int(r['qid']) for r in rows})} of {len(cb.questions)}; "
          f"codes as gold: {len(have & every)} of {len(every)}; missing: {sorted(every - have)}")
    other = others(path, cb)
    asked = set().union(*(grams(q.text) for q in cb.questions))  # quoting the question back is not copying
    index: dict[tuple[str, ...], str] = {}
    for k, g in other.items():
        for gram in g - asked:
            index.setdefault(gram, k)
    hits = sorted({(r["id"], index[gram], " ".join(gram)) for r in rows for gram in grams(r["text"]) if gram in index})
    hits = list({(i, k): (i, k, run) for i, k, run in hits}.values())  # one run per pair of answers
    print(f"answers sharing a run of {RUN}+ words (not from a question's text) with another set: {len(hits)}")
    for h in hits:
        print("  ", *h)


if __name__ == "__main__":
    main()
