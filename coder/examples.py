"""Coded example answers written in other styles than the returns, trained on beside them.

The returns a model learns from are short and alike (the bundled ones stop at 130 words); the answers it
must code are not: pasted action plans, pages of narrative, hedges, note form. A codebook may name a file
of hand-coded example answers in such styles (`training_examples:` in its YAML): every training of a model
on that codebook adds them to the returns' answers, so the classifier and its held-out calibration see those
styles. They are training data only: never in a round, a report or a review queue.

The file is a CSV or XLSX with the columns `qid` (or `ref`), `codes` and `text`, and optionally `id`,
`style` and `note` (kept for the people who write examples; not read by the model).

A codebook may also name `calibration_examples:`, a file of the same form by other writers, never trained
on. Held-out training answers (grouped folds) are what calibration otherwise learns from, and the training
examples, written to teach hard styles, are harder than fresh answers of the same length: the long answers'
map learned too much caution from them. Scored by the trained model exactly as a new answer is, the
calibration examples show how often it is right on answers it has never seen (`coder.model.pipeline`).
"""

from __future__ import annotations

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.returns import RETURN_COLUMNS, read_table, tidy_returns

EXAMPLES_ROUND = "examples"
CALIBRATION_ROUND = "calibration"
SOURCE_PREFIX = "example:"


def read_training_examples(codebook: Codebook) -> pd.DataFrame:
    """The codebook's example answers as rows of the long returns table (round `examples`), or no rows.

    Every row must be a written, coded answer; errors name the file, row and column."""
    return read_examples(codebook.training_examples, codebook, EXAMPLES_ROUND)


def read_calibration_examples(codebook: Codebook) -> pd.DataFrame:
    """The codebook's calibration answers (never trained on) as rows of the long returns table (round
    `calibration`), or no rows."""
    return read_examples(codebook.calibration_examples, codebook, CALIBRATION_ROUND)


def read_examples(file: str, codebook: Codebook, round_name: str) -> pd.DataFrame:
    """An examples file's rows as the long returns table, in round `round_name`; no rows when `file` is ''."""
    if not file:
        return pd.DataFrame(columns=RETURN_COLUMNS)
    df = read_table(file)
    for col in ("codes", "text"):
        if col not in df.columns:
            raise InputError(f"missing column {col!r} (an examples file has qid or ref, codes and text)",
                             file=file, row=1, column=col)
    if "qid" not in df.columns and "ref" not in df.columns:
        raise InputError("missing column 'qid' (or 'ref'): which question each example answers", file=file,
                         row=1, column="qid")
    ids = df["id"].str.strip() if "id" in df.columns else pd.Series([""] * len(df), index=df.index)
    ids = [i or f"row {n + 2}" for n, i in enumerate(ids)]
    df = df.assign(round=round_name, locality=ids, region="", source_id=[SOURCE_PREFIX + i for i in ids])
    out = tidy_returns(df, codebook, file)
    for n, (text, codes) in enumerate(zip(out["text"], out["codes"], strict=True)):
        if not text:
            raise InputError("an example needs its answer's text", file=file, row=n + 2, column="text")
        if not codes or codes == codebook.blank_code:
            raise InputError(f"an example needs the answer's code (not blank, not {codebook.blank_code})",
                             file=file, row=n + 2, column="codes")
    return out
