"""`evaluate --report DIR`: a markdown report with reliability, score and risk-coverage plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surematch.confidence.retrieval import MatchCalibration
from surematch.evaluation.ranked import RankedQueries
from surematch.evaluation.summary import top1_probabilities


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_report(folder: str | Path, ranked: RankedQueries, summary: dict[str, Any],
                 calibration: MatchCalibration | None, title: str = "surematch evaluation"
                 ) -> Path:
    """Write `report.md` and its PNGs into `folder`; returns the markdown file's path."""
    from surematch.evaluation.plots import (
        reliability_diagram,
        risk_coverage_plot,
        score_distributions,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    y = ranked.correct.astype(int)
    lines = [f"# {title}", "", "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in summary.items() if k not in ("note",)]
    if summary.get("note"):
        lines += ["", f"Note: {summary['note']}"]
    lines += ["", "Open-set queries (no right reference among the references) count as wrong "
              "top matches in every calibration and triage metric.", ""]
    if calibration is not None:
        p = top1_probabilities(ranked, calibration)
        b = calibration.bands
        rule = calibration.no_match
        reject = (f"no match when the no-match score < {_fmt(rule.reject_below)} (at most "
                  f"{_fmt(rule.miss_bound)} of right matches)" if rule is not None else
                  f"reject below {_fmt(b.reject_below)}")
        lines += ["## Triage bands", "",
                  f"accept from p >= {_fmt(b.accept_at)}, {reject} "
                  f"(targets: precision >= {b.precision_target:g}, miss <= {b.miss_target:g}, "
                  f"at {b.confidence:g} confidence). {b.message}.", ""]
        reliability_diagram(p, y, folder / "reliability.png")
        score_distributions(p, y, folder / "scores.png", bands=b,
                            lines={"threshold": calibration.threshold})
        risk_coverage_plot(p, y, folder / "risk_coverage.png")
        lines += ["![reliability](reliability.png)", "",
                  "![score distributions](scores.png)", ""]
    else:
        s = ranked.similarity[:, 0]
        score_distributions(s, y, folder / "scores.png")
        risk_coverage_plot((s + 1.0).clip(0.0, 2.0) / 2.0, y, folder / "risk_coverage.png")
        lines += ["![score distributions](scores.png)", ""]
    lines += ["![risk-coverage](risk_coverage.png)", ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
