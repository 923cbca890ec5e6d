"""The shift monitor around a model: record the calibration queries' sketch (with the basis of
its content features), sketch match results, and say whether a file's queries differ from the
calibration queries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from surematch.confidence.shift.content import ContentBasis, fit_basis
from surematch.confidence.shift.monitor import (
    ShiftMonitor,
    ShiftResult,
    query_sketch,
    shift_message,
)
from surematch.confidence.shift.reference_file import load_basis, load_reference, save_reference

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


def match_summary(result: Any, basis: ContentBasis | None = None) -> tuple[float, ...]:
    """(top similarity, the runner-up's, the top match's probability, then the content
    features of its embedding under `basis`) of a MatchResult, NaN where it has none: what
    `query_sketch` and the content features read of a result besides its query."""
    m = result.matches
    p = m[0].probability if m else None
    head = (float(m[0].similarity) if m else np.nan, float(m[1].similarity)
            if len(m) > 1 else np.nan, np.nan if p is None else float(p))
    if basis is None:
        return head
    content = basis.project_rows([getattr(result, "embedding", None)])
    return head + tuple(float(content[name][0]) for name in basis.names)


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

    def add(self, texts: Sequence[str], summaries: Sequence[tuple[float, ...]]) -> None:
        """Rows of queries `texts` with each one's `match_summary` (under `basis`); only the
        rows the sample keeps are sketched (a file's repeated rows cost little)."""
        if self.reference is None or not texts:
            return
        keep, slots = self._sample(len(texts))
        if len(keep):
            values = np.asarray([summaries[i] for i in keep], np.float64)
            sketch = query_sketch([texts[i] for i in keep], values[:, 0], values[:, 1],
                                  values[:, 2])
            if self.basis is not None and values.shape[1] > 3:
                sketch.update({name: values[:, 3 + j]
                               for j, name in enumerate(self.basis.names)})
            self._put(self._columns(sketch), slots)

    def add_sketch(self, sketch: dict[str, np.ndarray]) -> None:
        if self.reference is None:
            return
        rows = self._columns(sketch)
        keep, slots = self._sample(len(rows))
        self._put(rows[keep], slots)

    def _columns(self, sketch: dict[str, np.ndarray]) -> np.ndarray:
        """Rows [n, F] of the reference's features (NaN: the sketch lacks one)."""
        n = len(next(iter(sketch.values())))
        return np.column_stack([sketch.get(name, np.full(n, np.nan)) for name in self.names])

    def _sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Which of n new rows the sample keeps, and the slot each takes (-1: appended): the
        first rows fill it, each later one replaces a random slot with chance cap / rows seen."""
        room = min(max(FILE_CHECK_ROWS - len(self._rows), 0), n)
        keep, slots = np.arange(room), np.full(room, -1, np.int64)
        if n > room:
            seen = self._seen + room + np.arange(1, n - room + 1)
            slot = (self._rng.random(n - room) * seen).astype(np.int64)
            kept = np.nonzero(slot < FILE_CHECK_ROWS)[0]
            keep, slots = np.concatenate([keep, room + kept]), np.concatenate([slots,
                                                                                slot[kept]])
        self._seen += n
        return keep, slots

    def _put(self, rows: np.ndarray, slots: np.ndarray) -> None:
        added = slots < 0
        if not len(self._rows):
            self._rows = np.zeros((0, rows.shape[1]))
        self._rows = np.vstack([self._rows, rows[added]])
        self._rows[slots[~added]] = rows[~added]  # in order: a later row wins a slot

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
