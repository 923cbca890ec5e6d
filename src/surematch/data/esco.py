"""ESCO adapter: occupations as groups, title-description pairs, references, queries; ISCO split."""

from __future__ import annotations

import logging
import math
import random
import re
from collections import Counter

from surematch.data.esco_reader import Occupation, bundled_esco_path, read_esco
from surematch.data.samples import (
    GroupedTexts,
    LabelledQueries,
    References,
    TextPairs,
    drop_singletons,
)

__all__ = [
    "Occupation",
    "bundled_esco_path",
    "esco_groups",
    "esco_queries",
    "esco_references",
    "esco_title_description_pairs",
    "read_esco",
    "split_by_isco",
]

logger = logging.getLogger(__name__)


def esco_groups(
    occupations: list[Occupation], dataset: str = "esco", *, keep_singletons: bool = False,
    drop_ambiguous: bool = True, taxonomy: list[Occupation] | None = None,
) -> GroupedTexts:
    """Each occupation's titles (preferred, then alternatives) as one group "dataset/uri".

    With `drop_ambiguous` (the default) an alternative title that another occupation of
    `occupations` or `taxonomy` also uses is left out, compared as in `esco_queries`: it would
    be a positive of two groups that are negatives of each other. Occupations left without
    alternative titles form single-member groups and are dropped (logged once) unless
    `keep_singletons`.
    """
    shared = _shared_titles(occupations, taxonomy) if drop_ambiguous else set()
    titles = [(t, o.uri) for o in occupations
              for t in [o.preferred, *(a for a in o.alternatives if _key(a) not in shared)]]
    left_out = sum(len(o.titles) for o in occupations) - len(titles)
    if left_out:
        logger.info("ESCO: left out %d titles shared by several occupations", left_out)
    samples = GroupedTexts.from_labels([t for t, _ in titles], [u for _, u in titles], dataset)
    if keep_singletons:
        return samples
    kept, dropped = drop_singletons(samples)
    if dropped:
        logger.warning("ESCO: dropped %d occupations without alternative titles", dropped)
    return kept


def esco_title_description_pairs(occupations: list[Occupation]) -> TextPairs:
    """(preferred title, description) pairs, label 1; occupations without description skipped."""
    described = [o for o in occupations if o.description]
    return TextPairs(
        [o.preferred for o in described], [o.description for o in described], [1.0] * len(described)
    )


def esco_references(occupations: list[Occupation]) -> References:
    """One reference per occupation: id = uri, text = preferred title, payload = ISCO codes."""
    payloads = [
        {"isco_group": o.isco_group, "isco_major": o.isco_group[:1], "isco_minor": o.isco_group[:3]}
        for o in occupations
    ]
    return References([o.uri for o in occupations], [o.preferred for o in occupations], payloads)


def esco_queries(occupations: list[Occupation], *, drop_ambiguous: bool = True,
                 taxonomy: list[Occupation] | None = None) -> LabelledQueries:
    """Every alternative title as a query whose expected match is its occupation's uri.

    A title that belongs to two or more occupations (as preferred or alternative title) has
    no single right answer: ESCO lists "judge" among the titles of "sport official", and
    "judge" is also an occupation of its own. With `drop_ambiguous` (the default) such queries
    are left out, titles compared without case, punctuation and plural s ("audio-visual
    technicians" = "audio visual technician"). `taxonomy` is every occupation whose titles
    count (default: `occupations`): pass all of ESCO when the queries come from a subset.
    """
    pairs = [(t, o.uri) for o in occupations for t in o.alternatives]
    if drop_ambiguous:
        shared = _shared_titles(occupations, taxonomy)
        kept = [(t, uri) for t, uri in pairs if _key(t) not in shared]
        if len(kept) < len(pairs):
            logger.info(
                "ESCO: left out %d titles shared by several occupations", len(pairs) - len(kept)
            )
        pairs = kept
    return LabelledQueries([t for t, _ in pairs], [uri for _, uri in pairs])


def _shared_titles(occupations: list[Occupation], taxonomy: list[Occupation] | None
                   ) -> set[str]:
    """Title keys (`_key`) that two or more occupations of taxonomy + occupations use."""
    every = {o.uri: o for o in [*(taxonomy or []), *occupations]}.values()
    owners = Counter(k for o in every for k in {_key(t) for t in o.titles})
    return {k for k, n in owners.items() if n > 1}


def _key(title: str) -> str:
    """A title without case, punctuation and plural s, to find titles that several occupations
    use."""
    words = re.sub(r"[^\w]+", " ", title.casefold()).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def split_by_isco(
    occupations: list[Occupation], held_out_fraction: float = 0.2, seed: int = 0, level: int = 4
) -> tuple[list[Occupation], list[Occupation]]:
    """Split into (training, held out) by ISCO group: the first `level` digits of the code.

    At least `held_out_fraction` of the groups (rounded up) are held out, chosen at random with
    `seed`; no group is on both sides and each side keeps the input order.
    """
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    if level not in (1, 2, 3, 4):
        raise ValueError(f"level must be 1, 2, 3 or 4 (ISCO digits), got {level}")
    codes = sorted({o.isco_group[:level] for o in occupations})
    n_held = math.ceil(held_out_fraction * len(codes))
    if n_held >= len(codes):
        raise ValueError(f"cannot hold out {n_held} of {len(codes)} ISCO groups and train on any")
    held = set(random.Random(seed).sample(codes, n_held))
    training = [o for o in occupations if o.isco_group[:level] not in held]
    return training, [o for o in occupations if o.isco_group[:level] in held]
