"""Targets: what a calibration's bands must certify, as one object with one default."""

from __future__ import annotations

from dataclasses import dataclass

from surematch.errors import InputError

MIN_PROBABILITY = 0.5  # "more likely right than wrong": the accept band's per-match floor


@dataclass(frozen=True)
class Targets:
    """What the bands must certify, jointly with probability >= `confidence` over the draw of
    the calibration data: precision among auto-accepted >= `precision`, and at most `max_miss`
    of right matches auto-rejected; and no match under `min_probability` is auto-accepted.
    Checked once, here, when made.

    >>> Targets(precision=0.95)
    Targets(precision=0.95, max_miss=0.01, confidence=0.95, min_probability=0.5)
    """

    precision: float = 0.99
    max_miss: float = 0.01
    confidence: float = 0.95
    min_probability: float = MIN_PROBABILITY

    def __post_init__(self) -> None:
        if isinstance(self.min_probability, bool) or not isinstance(
                self.min_probability, int | float) or not 0.0 <= self.min_probability < 1.0:
            raise InputError(f"min_probability must be a number in [0, 1), got "
                             f"{self.min_probability!r}", field="min_probability")
        for name, value, field in (("precision", self.precision, "target_precision"),
                                   ("max_miss", self.max_miss, "max_miss"),
                                   ("confidence", self.confidence, "confidence")):
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not 0.0 < float(value) < 1.0:
                raise InputError(f"{name} must be a number strictly between 0 and 1, got "
                                 f"{value!r}", field=field)


DEFAULT_TARGETS = Targets()
