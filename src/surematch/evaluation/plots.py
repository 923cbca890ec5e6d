"""PNG plots of calibration: reliability diagram, right-vs-wrong score histograms, risk-coverage.

Figures are built as `matplotlib.figure.Figure` objects on the Agg canvas, never through
pyplot, so no global figure state is created or left behind; each figure is cleared after
saving. Every function takes arrays and an output path and returns the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from surematch.confidence.certification.bands import TriageBands
from surematch.confidence.checks import as_finite, as_labels, same_length
from surematch.confidence.metrics.calibration_metrics import (
    Strategy,
    aurc,
    ece,
    reliability_bins,
    risk_coverage_curve,
)


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=100)
    fig.clear()
    return path


def reliability_diagram(
    probs: ArrayLike, correct: ArrayLike, path: str | Path, n_bins: int = 15,
    strategy: Strategy = "uniform",
) -> Path:
    """Observed accuracy against mean confidence per bin (with the diagonal), and below it the
    number of examples per bin. probs [N], correct [N] (0/1)."""
    r = reliability_bins(probs, correct, n_bins, strategy)
    full = r.counts > 0
    fig = Figure(figsize=(5, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.plot(r.confidence[full], r.accuracy[full], marker="o", label="observed")
    top.set(ylabel="share right", xlim=(0, 1), ylim=(0, 1),
            title=f"Reliability (ECE {ece(probs, correct, n_bins, strategy):.3f})")
    top.legend(loc="upper left")
    width = 0.9 / n_bins
    bottom.bar(r.confidence[full], r.counts[full], width=width, color="tab:blue")
    bottom.set(xlabel="predicted probability", ylabel="count")
    return _save(fig, path)


def score_distributions(
    scores: ArrayLike, correct: ArrayLike, path: str | Path, bands: TriageBands | None = None,
    lines: Mapping[str, float] | None = None, bins: int = 40,
) -> Path:
    """Histograms of the scores (or probabilities) [N] of right and wrong matches, with the
    triage cut-offs of `bands` and any extra labelled `lines` (e.g. a threshold) drawn."""
    s = as_finite(scores, "scores")
    y = as_labels(correct, "correct")
    same_length(s, y, "scores", "correct")
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    edges = np.histogram_bin_edges(s, bins=bins).tolist()
    for mask, label, color in ((y == 1, "right", "tab:green"), (y == 0, "wrong", "tab:red")):
        if mask.any():
            ax.hist(s[mask], bins=edges, alpha=0.5, label=f"{label} (n={int(mask.sum())})",
                    color=color)
    marks: dict[str, float | None] = dict(lines or {})
    if bands is not None:
        marks.update({"accept from": bands.accept_at, "reject below": bands.reject_below})
    for (name, x), style in zip(marks.items(), ("-", "--", "-.", ":") * 4, strict=False):
        if x is not None:
            ax.axvline(x, color="black", linestyle=style, label=f"{name} {x:.3g}")
    ax.set(xlabel="score", ylabel="count", title="Scores of right and wrong matches")
    ax.legend()
    return _save(fig, path)


def risk_coverage_plot(confidence: ArrayLike, correct: ArrayLike, path: str | Path) -> Path:
    """Risk (share wrong among answered) against coverage, answering the most confident first."""
    coverage, risk = risk_coverage_curve(confidence, correct)
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.plot(coverage, risk)
    ax.set(xlabel="coverage", ylabel="risk", xlim=(0, 1), ylim=(0, max(0.05, risk.max() * 1.05)),
           title=f"Risk-coverage (AURC {aurc(confidence, correct):.4f})")
    return _save(fig, path)
