"""Errors surematch raises for bad input, each naming where the problem is."""

from __future__ import annotations

from pathlib import Path


class SurematchError(Exception):
    """Base class: an error a user can act on; the CLI prints it without a traceback."""


class InputError(SurematchError, ValueError):
    """Bad input data, located by file, line and field where they are known.

    `remap`: the column (ours) the user may remap instead of renaming it in the file; the
    hint is said in the form of the interface that shows the error (Python by default, the
    command line's `--column` in `cli_message`).

    >>> str(InputError("empty text", file="groups.csv", line=7, field="text"))
    'groups.csv, line 7, field "text": empty text'
    >>> InputError("missing column", remap="text").cli_message()
    'missing column; or remap it: --column text=<column in your file>'
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        remap: str | None = None,
    ) -> None:
        self.message, self.file, self.line, self.field = message, file, line, field
        self.remap = remap
        super().__init__(self._located(
            f"{message}; or remap it: columns={{{remap!r}: '<column in your file>'}}"
            if remap else message))

    remap_flag = "--column"  # the command line's flag that remaps this file's columns

    def cli_message(self) -> str:
        """The message with a remapping hint in the command line's form."""
        if not self.remap:
            return str(self)
        return self._located(f"{self.message}; or remap it: {self.remap_flag} "
                             f"{self.remap}=<column in your file>")

    def _located(self, message: str) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f'field "{self.field}"')
        return f"{', '.join(where)}: {message}" if where else message


class ModelFormatError(SurematchError):
    """A saved model, calibration or index folder that is missing, damaged or of another version."""


class EngineError(SurematchError):
    """The storage engine failed (an error or a panic of its own, not bad input). The message
    holds the engine's words for the log; the HTTP API answers 500 without them."""


class DiskFullError(SurematchError):
    """Too little free disk beside an embedded index to write safely (HTTP: 507); reads work."""
