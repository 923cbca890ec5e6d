"""Errors surematch raises for bad input, each naming where the problem is."""

from __future__ import annotations

from pathlib import Path


class SurematchError(Exception):
    """Base class: an error a user can act on; the CLI prints it without a traceback."""


class InputError(SurematchError, ValueError):
    """Bad input data, located by file, line and field where they are known.

    >>> str(InputError("empty text", file="groups.csv", line=7, field="text"))
    'groups.csv, line 7, field "text": empty text'
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message, self.file, self.line, self.field = message, file, line, field
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f'field "{field}"')
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ModelFormatError(SurematchError):
    """A saved model, calibration or index folder that is missing, damaged or of another version."""


class EngineError(SurematchError):
    """The storage engine failed (an error or a panic of its own, not bad input). The message
    holds the engine's words for the log; the HTTP API answers 500 without them."""


class DiskFullError(SurematchError):
    """Too little free disk beside an embedded index to write safely (HTTP: 507); reads work."""
