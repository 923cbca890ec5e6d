"""The shift monitor around a model: record the calibration queries' sketch (with the basis of
its content features), sketch match results, and say whether a file's queries differ from the
calibration queries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surematch.confidence.drift import (
    ShiftMonitor,
    ShiftResult,
    query_sketch,
    shift_message,
)
from surematch.confidence.drift_content import ContentBasis, fit_basis
from surematch.confidence.drift_store import load_basis, load_reference, save_reference

FILE_CHECK_ROWS = 20_000  # a file's check reads a random sample of at most this many rows


def ranked_sketch(texts: Sequence[str], ranked: Any, calibration: Any,
                  basis: ContentBasis | None = None) -> dict[str, np.ndarray]:
    """`query_sketch` of ranked queries (`RankedQueries` of `texts`) under a
    `MatchCalibration` (None: no probability), with the content features of `basis` when
    given (and the ranked queries hold their embeddings)."""
    sims = ranked.similarity
    probability = None
    if calibration is not None:
        probability = calibration.probabilities(sims, ranked.confidence, ranked.evidence)[:, 0]
    sketch = query_sketch(texts, sims[:, 0], sims[:, 1] if sims.shape[1] > 1 else None,
                          probability)
    vectors = getattr(ranked, "vectors", None)
    if basis is not None and vectors is not None:
        sketch.update(basis.project(vectors))
    return sketch


def record_reference(model_dir: Path, texts: Sequence[str], ranked: Any, calibration: Any,
                     source: str) -> Path:
    """Save the sketch of the calibration queries beside the calibration just saved, with
    the principal axes of their embeddings as its content basis (`drift_content`)."""
    vectors = getattr(ranked, "vectors", None)
    basis = fit_basis(vectors) if vectors is not None and len(vectors) >= 2 else None
    return save_reference(model_dir, ranked_sketch(texts, ranked, calibration, basis), source,
                          basis)


def results_sketch(results: Sequence[Any], basis: ContentBasis | None = None,
                   ) -> dict[str, np.ndarray]:
    """`query_sketch` of match results (`MatchResult`s or their JSON dicts); a result without
    matches has no similarity, one with a single match no margin. With `basis`, the content
    features of each `MatchResult`'s embedding (NaN for a dict or a result without one)."""
    texts, top, second, prob = [], [], [], []
    for r in results:
        d = r if isinstance(r, dict) else r.to_dict()
        matches = d.get("matches") or []
        texts.append(str(d.get("query", "")))
        top.append(matches[0]["similarity"] if matches else np.nan)
        second.append(matches[1]["similarity"] if len(matches) > 1 else np.nan)
        p = matches[0].get("probability") if matches else None
        prob.append(np.nan if p is None else p)
    sketch = query_sketch(texts, top, second, prob)
    if basis is not None:
        sketch.update(basis.project_rows([getattr(r, "embedding", None) for r in results]))
    return sketch


class FileShift:
    """Collects the match results of one file: a uniform random sample of at most
    FILE_CHECK_ROWS of them (reservoir sampling: memory stays bounded whatever the file's
    length); `check` runs the monitor over them in a random order (a file is one look: its
    order says nothing). Inactive (`check` None) when the model folder holds no drift
    reference for its calibration."""

    def __init__(self, model_dir: Path | None, seed: int = 0) -> None:
        self.reference, self.info = (None, {}) if model_dir is None else \
            load_reference(model_dir)
        self.basis = None if self.reference is None or model_dir is None else \
            load_basis(model_dir)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._rows = np.zeros((0, 0))
        self._seen = 0

    @property
    def names(self) -> tuple[str, ...]:
        """The features the reference holds (the monitor's)."""
        return tuple(self.reference or ())

    def add(self, results: Sequence[Any]) -> None:
        """Match results (`MatchResult`s: their embeddings give the content features)."""
        if self.reference is not None and results:
            self.add_sketch(results_sketch(results, self.basis))

    def add_sketch(self, sketch: dict[str, np.ndarray]) -> None:
        if self.reference is None:
            return
        n = len(next(iter(sketch.values())))
        rows = np.column_stack([sketch.get(name, np.full(n, np.nan)) for name in self.names])
        if not self._seen:
            self._rows = np.zeros((0, rows.shape[1]))
        room = max(FILE_CHECK_ROWS - len(self._rows), 0)
        self._rows = np.vstack([self._rows, rows[:room]])
        rest = rows[room:]
        if len(rest):  # each later row replaces a random slot with chance cap / rows seen
            seen = self._seen + room + np.arange(1, len(rest) + 1)
            slot = (self._rng.random(len(rest)) * seen).astype(np.int64)
            kept = slot < FILE_CHECK_ROWS
            self._rows[slot[kept]] = rest[kept]
        self._seen += len(rows)

    def check(self) -> ShiftResult | None:
        if self.reference is None or not len(self._rows):
            return None
        rows = self._rows[self._rng.permutation(len(self._rows))]
        monitor = ShiftMonitor(self.reference, seed=self.seed)
        monitor.update({name: rows[:, j] for j, name in enumerate(self.names)})
        return monitor.result()


def shift_line(result: ShiftResult | None, what: str) -> str | None:
    """The summary line when `what`'s queries differ from the calibration queries (None when
    they do not, or nothing was checked)."""
    return shift_message(result, what) if result is not None and result.alarm else None
