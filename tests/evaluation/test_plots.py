"""Plots write non-empty PNG files and leave no pyplot figures behind."""

import numpy as np
from matplotlib._pylab_helpers import Gcf

from surematch.confidence import fit_bands
from surematch.confidence.targets import Targets
from surematch.evaluation.plots import reliability_diagram, risk_coverage_plot, score_distributions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _data():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 2000)
    return p, (rng.random(2000) < p).astype(int)


def _is_png(path) -> bool:
    return path.exists() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_plots_write_pngs(tmp_path):
    p, y = _data()
    bands = fit_bands(p, y, Targets(0.9, 0.05))
    out = [
        reliability_diagram(p, y, tmp_path / "reliability.png"),
        reliability_diagram(p, y, tmp_path / "mass.png", n_bins=10, strategy="quantile"),
        score_distributions(p, y, tmp_path / "sub" / "scores.png", bands=bands,
                            lines={"threshold": 0.5}),
        risk_coverage_plot(p, y, tmp_path / "rc.png"),
    ]
    assert all(_is_png(path) for path in out)
    assert out[2].parent.name == "sub"
    assert Gcf.get_num_fig_managers() == 0


def test_score_distributions_with_one_class_and_empty_bands(tmp_path):
    p, _ = _data()
    bands = fit_bands(p[:50], np.ones(50, dtype=int))  # too little data: both bands empty
    assert bands.accept_at is None
    assert _is_png(score_distributions(p[:50], np.ones(50), tmp_path / "s.png", bands=bands))
