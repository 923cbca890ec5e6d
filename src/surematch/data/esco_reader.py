"""Read ESCO's occupations file (bundled as demo data) into occupations with cleaned titles."""

from __future__ import annotations

import atexit
import contextlib
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path

from surematch.data.fields import check_unique, label, text
from surematch.data.tables import Record, read_records

_RESOURCE = ("resources", "esco", "occupations_en.csv")
_files = contextlib.ExitStack()
atexit.register(_files.close)


@dataclass(frozen=True)
class Occupation:
    """One ESCO occupation: its uri, 4-digit ISCO unit group, preferred and other titles."""

    uri: str
    isco_group: str
    preferred: str
    alternatives: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def titles(self) -> list[str]:
        """The preferred title, then the alternatives."""
        return [self.preferred, *self.alternatives]


def bundled_esco_path() -> Path:
    """The occupations CSV shipped with surematch (ESCO, European Commission; see its README)."""
    resource = files("surematch").joinpath(*_RESOURCE)
    if isinstance(resource, Path):
        return resource
    return _files.enter_context(as_file(resource))  # installed in a zip: extract once


def read_esco(path: str | Path | None = None) -> list[Occupation]:
    """Occupations from an ESCO occupations file (CSV, or JSONL / Parquet with its columns).

    Alternative titles (newline-separated in `altLabels`) are stripped; empty ones, repeats
    and those equal to the preferred title are removed. Defaults to the bundled file.
    """
    records = read_records(
        path if path is not None else bundled_esco_path(),
        ["conceptUri", "iscoGroup", "preferredLabel"],
        ["altLabels", "description"],
    )
    uris = [label(r, "conceptUri", required=True) or "" for r in records]
    check_unique(records, list(uris), "conceptUri")
    occupations = []
    for record, uri in zip(records, uris, strict=True):
        preferred = text(record, "preferredLabel").strip()
        description = record.values.get("description")
        occupations.append(
            Occupation(
                uri=uri,
                isco_group=_isco_group(record),
                preferred=preferred,
                alternatives=_alternatives(record, preferred),
                description=description.strip() if isinstance(description, str) else "",
            )
        )
    return occupations


def _isco_group(record: Record) -> str:
    value = record.values.get("iscoGroup")
    code = f"{value:04d}" if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(code, str) or len(code.strip()) != 4 or not code.strip().isdigit():
        raise record.error(f"expected a 4-digit ISCO unit group, found {value!r}", "iscoGroup")
    return code.strip()


def _alternatives(record: Record, preferred: str) -> list[str]:
    value = record.values.get("altLabels")
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split("\n")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise record.error("expected titles separated by newlines", "altLabels")
    titles = dict.fromkeys(t.strip() for t in value)  # ordered, without repeats
    return [t for t in titles if t and t != preferred]
