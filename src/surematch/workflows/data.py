"""The user's files read into samples: training data, and references with labelled queries."""

from __future__ import annotations

from pathlib import Path

from surematch.config import Config
from surematch.data import combine_groups, read_groups, read_pairs, read_queries, read_references
from surematch.data.samples import GroupedTexts, LabelledQueries, References, TextPairs
from surematch.errors import InputError


def load_training_data(paths: list[Path], config: Config) -> GroupedTexts | TextPairs:
    """Read every file in the configured format; several group files are combined."""
    fmt, cols = config.data.format, config.data.columns or None
    if fmt == "pairs":
        if len(paths) > 1:
            raise InputError("pairs: give one file (several are supported for groups)")
        return read_pairs(paths[0], columns=cols)
    if fmt == "esco":
        from surematch.data.esco import esco_groups, esco_title_description_pairs, read_esco
        from surematch.training.samples import groups_from_pairs

        parts = []
        for p in paths:
            occupations = read_esco(p)
            parts.append(esco_groups(occupations, dataset=p.stem.replace("/", "_")))
            if config.data.esco_description_pairs:
                parts.append(groups_from_pairs(esco_title_description_pairs(occupations),
                                               dataset=f"{p.stem}-descriptions"))
        return combine_groups(parts) if len(parts) > 1 else parts[0]
    parts = [read_groups(p, columns=cols) for p in paths]
    return combine_groups(parts) if len(parts) > 1 else parts[0]


def load_references(path: Path, fmt: str = "references",
                    columns: dict[str, str] | None = None) -> References:
    """References from our file (`references`) or ESCO's CSV (`esco`: preferred titles)."""
    if fmt == "esco":
        from surematch.data.esco import esco_references, read_esco

        return esco_references(read_esco(path))
    if fmt == "references":
        return read_references(path, columns=columns)
    raise InputError(f"--format must be references or esco, got {fmt!r}", field="--format")


def load_matching_data(references: Path | None, queries: Path | None, fmt: str = "default",
                       columns: dict[str, str] | None = None,
                       ref_columns: dict[str, str] | None = None,
                       ) -> tuple[References, LabelledQueries]:
    """(References, LabelledQueries) from our files, their columns remapped by `ref_columns`
    and `columns` (OURS: THEIRS), or, with fmt "esco", ESCO CSVs: references = every preferred
    title of REFS, queries = the alternative titles of QUERIES."""
    if references is None or queries is None:
        raise InputError("give both --references and --queries (or --pairs / --scores)")
    if fmt == "esco" and (columns or ref_columns):
        raise InputError("--format esco reads ESCO's own columns; leave --column out",
                         field="--column")
    if fmt == "esco":
        from surematch.data.esco import esco_queries, esco_references, read_esco

        ref_occ = read_esco(references)
        return esco_references(ref_occ), esco_queries(read_esco(queries), taxonomy=ref_occ)
    if fmt != "default":
        raise InputError(f"--format: unknown {fmt!r}; choose 'default' or 'esco'")
    return (read_references(references, columns=ref_columns),
            read_queries(queries, columns=columns))
