"""One error type for everything a user can get wrong, so the CLI can print one line and exit 2."""

from __future__ import annotations


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
