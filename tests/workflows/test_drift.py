"""The shift monitor around a model: `calibrate` records the calibration queries' sketch, and
`match --queries` and `evaluate` say in one line when a file's queries differ from them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from surematch.cli import load_commands
from surematch.confidence.certification.targets import Targets
from surematch.confidence.shift.reference_file import REFERENCE_FILE, load_reference
from surematch.data import read_queries, read_references
from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import IndexLocation
from surematch.model import SimilarityModel
from surematch.workflows.calibrate import calibrate_model
from surematch.workflows.evaluate import evaluate_model
from surematch.workflows.match_file import match_file

pytestmark = pytest.mark.slow
app = load_commands()


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MiniLM with a skip head calibrated on ESCO alternative titles of 90 occupations (80
    of them references), and an index of the references."""
    import torch

    from surematch.data.esco import read_esco
    from surematch.encoders.text import TextEncoder
    from surematch.heads import build_head

    root = tmp_path_factory.mktemp("drift")
    head = build_head([{"kind": "skip"}], 384)
    with torch.no_grad():
        head.fc.weight.zero_()
    SimilarityModel(TextEncoder(), head).save(root / "model")
    occupations = [o for o in read_esco() if o.alternatives][:90]
    kept = occupations[:80]
    write_csv(root / "refs.csv", ["id", "text"], [[o.uri, o.preferred] for o in kept])
    rows = [[t, o.uri] for o in occupations for t in o.alternatives[:4]]
    write_csv(root / "queries.csv", ["text", "expected_id"], rows)
    write_csv(root / "alike.csv", ["query"], [[t] for t, _ in rows])
    shouted = [[f"{t.upper()} (M/F) #{i}", e] for i, (t, e) in enumerate(rows)]
    write_csv(root / "shouted.csv", ["text", "expected_id"], shouted)
    write_csv(root / "shouted_queries.csv", ["query"], [[t] for t, _ in shouted])
    calibrate_model(root / "model", references=root / "refs.csv",
                    queries=root / "queries.csv", targets=Targets(0.9, 0.05))
    model = SimilarityModel.load(root / "model")
    with ReferenceIndex.create(root / "index", model) as index:
        index.add(read_references(root / "refs.csv"), progress=False)
    return root


def test_calibrate_records_the_calibration_queries_sketch(calibrated: Path) -> None:
    n = len(read_queries(calibrated / "queries.csv"))
    sketch, info = load_reference(calibrated / "model")
    assert sketch is not None and info["n"] == n and info["source"].endswith("queries.csv")
    assert len(sketch["similarity"]) == n and not any(p != p for p in sketch["probability"])
    doc = json.loads((calibrated / "model" / REFERENCE_FILE).read_text())
    assert set(doc["features"]) >= {"similarity", "margin", "probability", "characters",
                                    "content_1", "content_8"}
    assert len(doc["content"]["axes"]) == 8 and len(doc["content"]["axes"][0]) == 384


def test_matches_carry_their_embedding_and_the_file_check_reads_its_content(
        calibrated: Path) -> None:
    import numpy as np

    from surematch.workflows.drift import FileShift, match_summary, results_sketch

    model = SimilarityModel.load(calibrated / "model")
    with ReferenceIndex.open(calibrated / "index", model) as index:
        results = index.match_batch(["nurse", "cook"], k=2)
    want = model.embed(["nurse", "cook"])
    for result, vector in zip(results, want, strict=True):
        assert result.embedding is not None and "embedding" not in result.to_dict()
        assert np.allclose(result.embedding.astype(np.float32), vector, atol=2e-3)
    check = FileShift(calibrated / "model")
    assert check.basis is not None
    sketch = results_sketch(results, check.basis)
    assert np.isfinite(sketch["content_1"]).all()
    dicts = results_sketch([r.to_dict() for r in results], check.basis)  # no embedding
    assert np.isnan(dicts["content_1"]).all() and np.isfinite(dicts["similarity"]).all()
    summary = match_summary(results[0], check.basis)  # what `match --queries` keeps per query
    assert len(summary) == 3 + 8 and summary[3] == pytest.approx(sketch["content_1"][0])


def test_a_file_like_the_calibration_queries_gets_no_line(calibrated: Path) -> None:
    result = match_file(calibrated / "model", IndexLocation.of(str(calibrated / "index")),
                        calibrated / "alike.csv", calibrated / "alike.out.csv", k=3)
    assert result.shift is not None and result.shift.n == len(read_queries(
        calibrated / "queries.csv"))
    assert result.shift.alarm is False


def test_match_queries_says_when_a_files_queries_differ(calibrated: Path) -> None:
    out = CliRunner().invoke(app, ["match", str(calibrated / "model"), "--index",
                                   str(calibrated / "index"), "--queries",
                                   str(calibrated / "shouted_queries.csv"), "--out",
                                   str(calibrated / "shouted.out.csv"), "-k", "3"])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.output.splitlines() if "SHIFT" in line]
    assert len(lines) == 1
    assert "this file's queries differ from the calibration queries" in lines[0]


def test_evaluate_reports_the_shift(calibrated: Path) -> None:
    alike = evaluate_model(calibrated / "model", calibrated / "refs.csv",
                           calibrated / "queries.csv").summary["shift"]
    shouted = evaluate_model(calibrated / "model", calibrated / "refs.csv",
                             calibrated / "shouted.csv").summary["shift"]
    assert alike["alarm"] is False and shouted["alarm"] is True
    top = {d["feature"] for d in shouted["top_differences"]}
    assert top & {"upper_share", "lower_case", "characters", "digit_share", "other_share"}


def test_a_long_file_is_checked_on_a_bounded_uniform_sample(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    import numpy as np

    from surematch.confidence.shift.monitor import FEATURES
    from surematch.workflows import drift

    monkeypatch.setattr(drift, "FILE_CHECK_ROWS", 100)
    check = drift.FileShift(None)
    check.reference = {name: np.zeros(30) for name in FEATURES}  # as if loaded
    for batch in range(50):
        check.add_sketch({name: np.full(37, float(batch)) for name in FEATURES})
    rows = check._rows[:, 0]
    assert len(rows) == 100 and check._seen == 50 * 37
    assert 15 < rows.mean() < 35 and rows.max() > 40  # late batches are as likely as early


def test_a_file_sketches_only_the_rows_its_sample_keeps(monkeypatch: pytest.MonkeyPatch,
                                                        ) -> None:
    """FileShift.add (texts and summaries, sketched only where kept) keeps the very rows that
    add_sketch of every row's sketch keeps."""
    import numpy as np

    from surematch.confidence.shift.monitor import FEATURES, query_sketch
    from surematch.workflows import drift

    monkeypatch.setattr(drift, "FILE_CHECK_ROWS", 50)
    rng = np.random.default_rng(1)
    checks = [drift.FileShift(None), drift.FileShift(None)]
    for check in checks:
        check.reference = {name: np.zeros(30) for name in FEATURES}  # as if loaded
    sketched: list[int] = []
    real = drift.query_sketch

    def counting(texts: Any, *args: Any) -> Any:
        sketched.append(len(texts))
        return real(texts, *args)

    monkeypatch.setattr(drift, "query_sketch", counting)
    for batch in range(20):
        texts = [f"Query {batch} {'x' * int(n)}" for n in rng.integers(0, 9, 16)]
        summaries = [tuple(v) for v in rng.random((16, 3))]
        top, second, prob = np.asarray(summaries).T
        checks[0].add_sketch(query_sketch(texts, top, second, prob))
        checks[1].add(texts, summaries)
    np.testing.assert_array_equal(checks[1]._rows, checks[0]._rows)
    assert checks[1]._seen == checks[0]._seen == 320 and sum(sketched) < 200
