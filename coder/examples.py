"""Coded example answers written in other styles than the returns, trained on beside them.

The returns a model learns from are short and alike (the bundled ones stop at 130 words); the answers it
must code are not: pasted action plans, pages of narrative, hedges, note form. A codebook may name a file
of hand-coded example answers in such styles (`training_examples:` in its YAML): every training of a model
on that codebook adds them to the returns' answers, so the classifier and its held-out calibration see those
styles. They are training data only: never in a round, a report or a review queue.

The file is a CSV or XLSX with the columns `qid` (or `ref`), `codes` and `text`, and optionally `id`,
`style` and `note` (kept for the people who write examples; not read by the model).
"""

from __future__ import annotations

import pandas as pd

from coder.codebook import Codebook
from coder.errors import InputError
from coder.returns import RETURN_COLUMNS, read_table, tidy_returns

EXAMPLES_ROUND = "examples"
SOURCE_PREFIX = "example:"


def read_training_examples(codebook: Codebook) -> pd.DataFrame:
    """The codebook's example answers as rows of the long returns table (round `examples`), or no rows.

    Every row must be a written, coded answer; errors name the file, row and column."""
    if not codebook.training_examples:
        return pd.DataFrame(columns=RETURN_COLUMNS)
    file = codebook.training_examples
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
    df = df.assign(round=EXAMPLES_ROUND, locality=ids, region="", source_id=[SOURCE_PREFIX + i for i in ids])
    out = tidy_returns(df, codebook, file)
    for n, (text, codes) in enumerate(zip(out["text"], out["codes"], strict=True)):
        if not text:
            raise InputError("an example needs its answer's text", file=file, row=n + 2, column="text")
        if not codes or codes == codebook.blank_code:
            raise InputError(f"an example needs the answer's code (not blank, not {codebook.blank_code})",
                             file=file, row=n + 2, column="codes")
    return out
