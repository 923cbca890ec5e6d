"""ESCO adapter: occupations as groups, title-description pairs, references, queries; ISCO split."""

from __future__ import annotations

import hashlib
import logging
import math
import random
from collections import Counter
from dataclasses import dataclass

from surematch.data.esco_reader import Occupation, bundled_esco_path, read_esco
from surematch.data.samples import (
    GroupedTexts,
    LabelledQueries,
    References,
    TextPairs,
    drop_singletons,
)
from surematch.data.text_keys import text_key

__all__ = [
    "Occupation",
    "Protocol",
    "bundled_esco_path",
    "esco_groups",
    "esco_queries",
    "esco_references",
    "esco_title_description_pairs",
    "known_occupations",
    "read_esco",
    "split_by_isco",
    "unseen_occupations",
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
              for t in [o.preferred, *(a for a in o.alternatives if text_key(a) not in shared)]]
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
        kept = [(t, uri) for t, uri in pairs if text_key(t) not in shared]
        if len(kept) < len(pairs):  # debug: each query subset would repeat the line
            logger.debug(
                "ESCO: left out %d titles shared by several occupations", len(pairs) - len(kept)
            )
        pairs = kept
    return LabelledQueries([t for t, _ in pairs], [uri for _, uri in pairs])


def _shared_titles(occupations: list[Occupation], taxonomy: list[Occupation] | None
                   ) -> set[str]:
    """Title keys (`text_key`) that two or more occupations of taxonomy + occupations use."""
    every = {o.uri: o for o in [*(taxonomy or []), *occupations]}.values()
    owners = Counter(k for o in every for k in {text_key(t) for t in o.titles})
    return {k for k, n in owners.items() if n > 1}


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


@dataclass(frozen=True)
class Protocol:
    """One ESCO evaluation: the references to match against, what the model may train on,
    labelled queries to calibrate on, and labelled queries to test on."""

    name: str
    references: References
    training: GroupedTexts
    calibration: LabelledQueries
    test: LabelledQueries


def stable_fraction(text: str) -> float:
    """A number in [0, 1) fixed by the text alone (sha1), the same on every machine and run."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16) / 16**12


def _references(occupations: list[Occupation], known: dict[str, list[str]]) -> References:
    """Each occupation with its preferred title, the `known` titles of its uri (synonyms) and
    its description."""
    base = esco_references(occupations)
    extra = [[(t, "synonym") for t in known.get(o.uri, [])] +
             ([(o.description, "description")] if o.description else []) for o in occupations]
    return References(base.ids, base.texts, base.payloads, extra)


def known_occupations(occupations: list[Occupation], *, taxonomy: list[Occupation] | None = None,
                      fractions: tuple[float, float] = (0.6, 0.15)) -> Protocol:
    """Known occupations, new titles: every occupation is a reference; its alternative titles
    that no other occupation uses are split by `stable_fraction` of the title into train
    (first fraction), calibration (second) and test (the rest). References hold the preferred
    title, the train titles and the description; the model trains on the train titles."""
    shared = _shared_titles(occupations, taxonomy)
    parts: dict[str, dict[str, list[str]]] = {"train": {}, "calibration": {}, "test": {}}
    for o in occupations:
        for title in o.alternatives:
            if text_key(title) in shared:
                continue
            u = stable_fraction(title)
            part = "train" if u < fractions[0] else "calibration" if u < sum(fractions) else "test"
            parts[part].setdefault(o.uri, []).append(title)
    train = parts["train"]
    groups = GroupedTexts.from_labels(
        [t for o in occupations for t in [o.preferred, *train.get(o.uri, [])]],
        [o.uri for o in occupations for _ in range(1 + len(train.get(o.uri, [])))], "esco")
    kept, _ = drop_singletons(groups)

    def queries(part: str) -> LabelledQueries:
        pairs = [(t, uri) for uri, titles in parts[part].items() for t in titles]
        return LabelledQueries([t for t, _ in pairs], [u for _, u in pairs])

    return Protocol("known occupations, new titles", _references(occupations, train), kept,
                    queries("calibration"), queries("test"))


def unseen_occupations(occupations: list[Occupation], *, held_out_fraction: float = 0.2,
                       seed: int = 0) -> Protocol:
    """Unseen occupations: occupations of held-out ISCO groups (split by `split_by_isco`,
    half for calibration, half for testing) are references the model never trained on; their
    alternative titles are the queries. Every reference holds its preferred title and its
    description only: giving the training occupations their many alternative titles too made
    them win queries meant for the new ones (P@1 about 10 points lower, measured), since a
    reference with more texts has more chances to be nearest."""
    train_occ, held = split_by_isco(occupations, held_out_fraction, seed)
    calib_occ, test_occ = split_by_isco(held, 0.5, seed + 1)
    return Protocol("unseen occupations", _references(occupations, {}),
                    esco_groups(train_occ, taxonomy=occupations),
                    esco_queries(calib_occ, taxonomy=occupations),
                    esco_queries(test_occ, taxonomy=occupations))
