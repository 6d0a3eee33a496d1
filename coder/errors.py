"""One error type for everything a user can get wrong, so the CLI can print one line and exit 2."""

from __future__ import annotations

import re


class InputError(Exception):
    """A problem with the user's input: names the file and, where known, the row and column.

    Rows are numbered as a spreadsheet user sees them: the header is row 1, the first data row is row 2.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        message = " ".join(str(self.message).split("\n"))  # one line, whatever a parser's message held
        return f"{prefix}: {message}" if prefix else message


# C0 and C1 control characters (ESC starts terminal escape sequences), DEL, and bidi overrides
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, *, one_line: bool = False) -> str:
    """Text safe to print to a terminal: control characters (escape sequences, NUL, bidi overrides) removed.

    With `one_line`, line breaks and tabs become spaces, so an error stays on one line.
    """
    s = str(text)
    if one_line:
        s = re.sub(r"\s*[\r\n\t]+\s*", " ", s).strip()
    return _CONTROL.sub("", s)
