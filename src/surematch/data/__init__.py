"""Sample types and readers for grouped texts, pairs, references, labelled queries and rules."""

from surematch.data.combine import combine_groups
from surematch.data.readers import (
    read_groups,
    read_pairs,
    read_queries,
    read_references,
    read_rules,
)
from surematch.data.samples import (
    GroupedTexts,
    LabelledQueries,
    References,
    Rules,
    TextPairs,
    drop_singletons,
)
from surematch.data.tables import Record, read_records

__all__ = [
    "GroupedTexts",
    "LabelledQueries",
    "Record",
    "References",
    "Rules",
    "TextPairs",
    "combine_groups",
    "drop_singletons",
    "read_groups",
    "read_pairs",
    "read_queries",
    "read_records",
    "read_references",
    "read_rules",
]
