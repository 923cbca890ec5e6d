"""`surematch calibrate / evaluate / verify` end to end, and bad input as one line with exit 2."""

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from surematch.cli import main


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the console entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["surematch", *map(str, args)])
    with pytest.raises(SystemExit) as stop:
        main()
    captured = capsys.readouterr()
    return int(stop.value.code or 0), captured.out, captured.err


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def scores_file(tmp_path: Path, n: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.5).astype(int)
    dist = np.where(labels == 1, rng.normal(0.3, 0.12, n), rng.normal(0.7, 0.12, n))
    return write_csv(tmp_path / "scores.csv", ["distance", "label"],
                     [[f"{d:.5f}", y] for d, y in zip(dist, labels, strict=True)])


def test_calibrate_from_your_own_distances(tmp_path, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "calibrate", tmp_path / "cal", "--scores",
                         scores_file(tmp_path), "--distance", "euclidean", "--json",
                         "--min-probability", "0.6")
    assert code == 0, err
    result = json.loads(out)
    cut = result["cut_offs"]  # one place names every cut-off and what it does
    assert "threshold" not in result and "matching does not use" not in cut["threshold"]["use"]
    assert result["report"]["n_pairs"] == 300 and 0.3 < cut["threshold"]["value"] < 0.7
    assert "verify" in cut["threshold"]["use"] and cut["min_probability"] == 0.6
    assert cut["accept_at"] is None or cut["accept_at"] >= 0.6
    assert result["guarantee"].startswith("auto-accept certified at precision ≥ 0.99 with "
                                          "95 % confidence, each accepted match p ≥ 0.6, for "
                                          "pairs like the 300 of scores.csv (sha256 ") or \
        result["guarantee"].startswith("nothing is auto-accepted")
    saved = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert saved["verification"]["distance"] == "euclidean" and saved["retrieval"] is None


@pytest.mark.parametrize("rows, extra, message", [
    ([["nan", 1]] + [[0.1, i % 2] for i in range(40)], [], "outside"),
    ([[0.1 * (i % 9), 1] for i in range(40)], [], "only one class"),
    ([[0.1 * (i % 9), i % 2] for i in range(40)], ["--distance", "manhattan"], "unknown distance"),
    ([[0.1, 0], [0.2, 1]], [], "too few"),
])
def test_bad_scores_end_in_one_line_and_exit_2(tmp_path, monkeypatch, capsys, rows, extra,
                                               message):
    path = write_csv(tmp_path / "s.csv", ["distance", "label"], rows)
    code, _, err = run(monkeypatch, capsys, "calibrate", tmp_path / "cal", "--scores", path,
                       *extra)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3  # one message (rich may wrap a long line)


def test_similarity_columns_need_a_similarity_measure(tmp_path, monkeypatch, capsys):
    path = write_csv(tmp_path / "s.csv", ["similarity", "label"],
                     [[0.1 * (i % 9), i % 2] for i in range(40)])
    code, _, err = run(monkeypatch, capsys, "calibrate", tmp_path / "cal", "--scores", path,
                       "--distance", "euclidean")
    assert code == 2 and "--distance cosine or dot" in err
    path = write_csv(tmp_path / "t.csv", ["score", "label"], [[0.1, 1]])
    code, _, err = run(monkeypatch, capsys, "calibrate", tmp_path / "cal", "--scores", path)
    assert code == 2 and "needs a `distance` or a `similarity` column" in err


def test_a_missing_model_folder_is_exit_2(tmp_path, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "verify", tmp_path / "nope", "a", "b")
    assert code == 2 and "not a surematch model folder" in err


@pytest.mark.parametrize("command", ["calibrate", "evaluate"])
def test_a_bad_file_is_reported_before_the_model_loads(tmp_path, monkeypatch, capsys, command):
    """The files are read first: with a bad queries file and no model at all, the error
    names the file's line (the model would have taken seconds to load)."""
    refs = write_csv(tmp_path / "refs.csv", ["id", "text"], [["a", "nurse"], ["b", "baker"]])
    queries = write_csv(tmp_path / "q.csv", ["text", "expected_id"], [["nurse", "a"], ["", "b"]])
    code, _, err = run(monkeypatch, capsys, command, tmp_path / "no-model", "--references",
                       refs, "--queries", queries)
    assert code == 2 and "q.csv" in err and "line 3" in err, err
    assert "model folder" not in err


@pytest.mark.parametrize("command", ["calibrate", "evaluate"])
def test_columns_of_both_files_are_remapped_and_each_hint_names_its_flag(
        tmp_path, monkeypatch, capsys, command):
    refs = write_csv(tmp_path / "refs.csv", ["code", "name"], [["a", "nurse"], ["b", "baker"]])
    queries = write_csv(tmp_path / "q.csv", ["title", "answer"], [["nurse", "a"]])
    base = (command, tmp_path / "no-model", "--references", refs, "--queries", queries)
    code, _, err = run(monkeypatch, capsys, *base)
    err = " ".join(err.split())
    assert code == 2 and "refs.csv" in err and "--ref-column id=<column in your file>" in err
    ref_flags = ("--ref-column", "id=code", "--ref-column", "text=name")
    code, _, err = run(monkeypatch, capsys, *base, *ref_flags)
    err = " ".join(err.split())
    assert code == 2 and "q.csv" in err and "--column text=<column in your file>" in err
    code, _, err = run(monkeypatch, capsys, *base, *ref_flags, "--column", "text=title",
                       "--column", "expected_id=answer")
    assert code == 2 and "not a surematch model folder" in err  # both files were read


@pytest.fixture(scope="module")
def esco_files(tmp_path_factory):
    """A small text model (MiniLM + untrained feature-group head) and ESCO-derived files."""
    from surematch.data.esco import read_esco
    from surematch.encoders.text import TextEncoder
    from surematch.heads import build_head
    from surematch.model import SimilarityModel

    root = tmp_path_factory.mktemp("esco")
    head = build_head([{"kind": "feature_groups", "groups": 4, "size": 4, "skip_dim": 384}], 384)
    SimilarityModel(TextEncoder(), head).save(root / "model")
    occupations = [o for o in read_esco() if o.alternatives][:90]
    kept = occupations[:80]  # the last 10 have no reference: open-set queries
    write_csv(root / "refs.csv", ["id", "text"], [[o.uri, o.preferred] for o in kept])
    write_csv(root / "queries.csv", ["text", "expected_id"],
              [[t, o.uri] for o in occupations for t in o.alternatives[:4]])
    rng = np.random.default_rng(0)
    pair_rows = []
    for o in occupations:
        for t in o.alternatives[:2]:
            pair_rows += [[t, o.preferred, 1], [t, kept[rng.integers(len(kept))].preferred, 0]]
    write_csv(root / "pairs.csv", ["text_a", "text_b", "label"], pair_rows)
    return root


@pytest.mark.slow
def test_calibrate_evaluate_verify_on_a_tiny_model(esco_files, monkeypatch, capsys):
    root, model = esco_files, esco_files / "model"
    code, out, err = run(monkeypatch, capsys, "evaluate", model, "--references",
                         root / "refs.csv", "--queries", root / "queries.csv", "--json")
    assert code == 0, err
    before = json.loads(out)
    assert before["ece"] is None and before["note"] and before["n_open_set"] > 0
    code, out, err = run(monkeypatch, capsys, "calibrate", model, "--references",
                         root / "refs.csv", "--queries", root / "queries.csv",
                         "--target-precision", "0.9", "--max-miss", "0.05")
    assert code == 0, err
    assert "calibration.json" in out and ("auto-" in out or "not supported" in out)
    assert "guarantee: " in out and "queries.csv (sha256 " in out  # what it covers
    code, out, err = run(monkeypatch, capsys, "evaluate", model, "--references",
                         root / "refs.csv", "--queries", root / "queries.csv", "--json",
                         "--report", root / "report")
    assert code == 0, err
    after = json.loads(out)
    for key in ("n_queries", "p_at_1", "recall_at_10", "mrr", "ece", "brier", "aurc",
                "auto_precision", "auto_coverage", "review_fraction"):
        assert key in after
    assert after["p_at_1"] == before["p_at_1"] and 0 <= after["ece"] <= 1
    for name in ("report.md", "reliability.png", "scores.png", "risk_coverage.png"):
        assert (root / "report" / name).is_file()
    code, out, err = run(monkeypatch, capsys, "calibrate", model, "--pairs", root / "pairs.csv")
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "verify", model, "registered nurse", "nurse",
                         "--json")
    assert code == 0, err
    v = json.loads(out)
    assert set(v) >= {"verified", "distance", "similarity", "threshold", "probability",
                      "percent", "band"}
    assert v["percent"] == pytest.approx(100 * v["probability"])
    assert v["distance"] == pytest.approx(1 - v["similarity"], abs=1e-5)
    assert v["band"] in ("accept", "review", "reject")


@pytest.mark.slow
def test_calibrate_records_the_no_match_rule_and_evaluate_applies_it(esco_files, monkeypatch,
                                                                    capsys, tmp_path):
    """`calibrate` on references fits the no-match rule by default (`--max-miss` is its
    share), names it in --json's cut-offs, and a clearly off-domain query gets no match."""
    import shutil

    from surematch.confidence.store import load_calibration

    root, model = esco_files, tmp_path / "model"
    shutil.copytree(esco_files / "model", model)
    code, out, err = run(monkeypatch, capsys, "calibrate", model, "--references",
                         root / "refs.csv", "--queries", root / "queries.csv",
                         "--target-precision", "0.9", "--max-miss", "0.1", "--json")
    assert code == 0, err
    cut = json.loads(out)["cut_offs"]
    assert cut["no_match"] is not None and cut["reject_below"] is None
    assert cut["no_match"]["miss_target"] == 0.1 and "no match" in cut["rule"]
    cal = load_calibration(model)
    assert cal is not None and cal.no_match is not None
    assert cal.no_match.to_dict() == cut["no_match"]
    from surematch.data import read_references
    from surematch.data.samples import LabelledQueries
    from surematch.evaluation.ranked import rank_queries
    from surematch.evaluation.summary import top1_bands
    from surematch.loader import load_model

    ranked = rank_queries(load_model(model), read_references(root / "refs.csv"),
                          LabelledQueries(["qwxzzv jjkkpp", "0x7fff5fbff8a8"], [None, None]))
    assert list(top1_bands(ranked, cal)) == ["reject", "reject"]
