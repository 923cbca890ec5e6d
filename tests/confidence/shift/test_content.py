"""The shift monitor's content features: a query embedding's coordinates on the calibration
queries' principal axes, stored with the drift reference, find a shift in meaning that the
match and form features cannot see."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from surematch.confidence.shift.content import ContentBasis, content_names, fit_basis
from surematch.confidence.shift.monitor import ShiftMonitor
from surematch.confidence.shift.reference_file import (
    REFERENCE_FILE,
    load_basis,
    load_reference,
    save_reference,
)
from surematch.errors import InputError


def topics(rng: np.random.Generator, n: int, centres: np.ndarray, which: np.ndarray
           ) -> np.ndarray:
    """n unit embeddings near the given topic centres (rows of `centres`)."""
    v = centres[which] + 0.35 * rng.standard_normal((n, centres.shape[1]))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_the_basis_is_the_leading_principal_axes_and_projects_each_query() -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((500, 12)) * np.array([5, 3] + [0.1] * 10)
    basis = fit_basis(v, 3)
    assert basis.names == ("content_1", "content_2", "content_3") == content_names(3)
    assert np.allclose(basis.axes @ basis.axes.T, np.eye(3), atol=1e-9)
    assert abs(basis.axes[0, 0]) > 0.99 and abs(basis.axes[1, 1]) > 0.99  # largest spread first
    z = basis.project(v)
    assert set(z) == set(basis.names) and z["content_1"].shape == (500,)
    assert z["content_1"].std() > z["content_2"].std() > z["content_3"].std()
    rows = basis.project_rows([v[0], None, v[2]])  # a query without an embedding: NaN
    assert rows["content_1"][0] == pytest.approx(z["content_1"][0])
    assert np.isnan(rows["content_1"][1]) and rows["content_2"][2] == pytest.approx(
        z["content_2"][2])
    again = ContentBasis.from_dict(json.loads(json.dumps(basis.to_dict())))
    assert np.allclose(again.project(v)["content_2"], z["content_2"], atol=1e-4)
    with pytest.raises(InputError, match="dimension 12"):
        basis.project(np.zeros((2, 5)))
    with pytest.raises(InputError, match="two embeddings"):
        fit_basis(np.zeros((1, 12)))


def test_a_shift_in_meaning_alone_is_found_and_alike_queries_are_not() -> None:
    """Queries on 6 topics; live queries of one topic only. The other features (here one
    that every query shares in distribution) cannot tell; the content features do."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((6, 32))
    ref = topics(rng, 1500, centres, rng.integers(0, 6, 1500))
    basis = fit_basis(ref, 8)
    reference = {"similarity": rng.random(1500), **basis.project(ref)}
    one_topic = topics(rng, 400, centres, np.full(400, 2))
    plain = ShiftMonitor({"similarity": reference["similarity"]}, seed=3)
    plain.update({"similarity": rng.random(400)})
    assert not plain.alarm  # same similarity distribution: nothing to see
    monitor = ShiftMonitor(reference, seed=3)
    monitor.update({"similarity": rng.random(400), **basis.project(one_topic)})
    assert monitor.alarm and monitor.alarm_at is not None and monitor.alarm_at <= 400
    assert monitor.top_differences(1)[0]["feature"].startswith("content_")
    alike = ShiftMonitor(reference, seed=4)
    mixed = topics(rng, 2000, centres, rng.integers(0, 6, 2000))
    alike.update({"similarity": rng.random(2000), **basis.project(mixed)})
    assert not alike.alarm


def test_the_reference_file_keeps_its_basis_and_reads_format_one(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"format": 1, "retrieval": {"threshold": 0.5}, "verification": None}))
    rng = np.random.default_rng(2)
    v = rng.standard_normal((40, 6))
    basis = fit_basis(v, 2)
    save_reference(tmp_path, {"similarity": rng.random(40), **basis.project(v)}, "q.csv",
                   basis)
    sketch, _ = load_reference(tmp_path)
    loaded = load_basis(tmp_path)
    assert sketch is not None and set(sketch) == {"similarity", "content_1", "content_2"}
    assert loaded is not None and np.allclose(loaded.axes, basis.axes, atol=1e-5)
    doc = json.loads((tmp_path / REFERENCE_FILE).read_text())
    assert doc["format"] == 2 and len(doc["content"]["axes"]) == 2
    doc.update(format=1)  # written before the content features: read without them
    doc.pop("content")
    for name in ("content_1", "content_2"):
        doc["features"].pop(name)
    (tmp_path / REFERENCE_FILE).write_text(json.dumps(doc))
    sketch, _ = load_reference(tmp_path)
    assert sketch is not None and set(sketch) == {"similarity"} and load_basis(tmp_path) is None
