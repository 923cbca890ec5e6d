"""Evidence independent of k: a match's probability and band are the same whatever k the
caller asks for, on every path (Python, micro-batcher, HTTP single and batch, CLI, files)."""

from __future__ import annotations

import csv
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.tiny_text_model import save_calibrated_tiny_index
from typer.testing import CliRunner

from surematch.cli import load_commands
from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import IndexLocation
from surematch.model import SimilarityModel
from surematch.service import create_app
from surematch.service.batching import MicroBatcher
from surematch.workflows.match_file import match_file

KS = (1, 2, 5, 100)
QUERIES = ["nurse", "a baker of bread", "driver", "pilot chef", "zz"]


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model folder with a calibration read at depth 2, index of 24 references)."""
    return save_calibrated_tiny_index(tmp_path_factory.mktemp("depth"))


def _evidence(matches: list[dict[str, Any]]) -> list[tuple[str, float, str]]:
    return [(m["id"], round(float(m["probability"]), 9), m["band"]) for m in matches]


def _same_prefixes(by_k: dict[int, list[list[tuple[str, float, str]]]]) -> None:
    """Every k's answer is the first k of k = 100's, probabilities and bands included."""
    full = by_k[100]
    for k, rows in by_k.items():
        assert rows == [row[:k] for row in full], k
    assert all(len(row) >= 2 for row in full)


def _close(a: dict[int, list[list[tuple[str, float, str]]]],
           b: dict[int, list[list[tuple[str, float, str]]]]) -> None:
    """The same answers from two paths, whose batches differ: ids and bands equal,
    probabilities to float rounding (a text's vector is batch-invariant to rounding)."""
    assert a.keys() == b.keys()
    for k in a:
        assert [[(i, band) for i, _, band in row] for row in a[k]] == \
            [[(i, band) for i, _, band in row] for row in b[k]], k
        np.testing.assert_allclose([p for row in a[k] for _, p, _ in row],
                                   [p for row in b[k] for _, p, _ in row], atol=1e-5)


def test_python_and_micro_batcher_give_the_same_evidence_for_every_k(calibrated) -> None:
    folder, where = calibrated
    with ReferenceIndex.open(where, SimilarityModel.load(folder)) as index:
        assert index.calibration.calibrated and index.calibration.depth == 2
        python = {k: [_evidence([m.to_dict() for m in index.match(q, k).matches])
                      for q in QUERIES] for k in KS}
        _same_prefixes(python)
        assert {m[2] for row in python[100] for m in row} >= {"accept", "reject"}
        batcher = {}
        for k in KS:
            mb = MicroBatcher(lambda texts, k=k: index.match_batch(texts, k), window_ms=20)
            with ThreadPoolExecutor(len(QUERIES)) as pool:
                got = list(pool.map(mb.call, QUERIES))
            mb.close()
            batcher[k] = [_evidence([m.to_dict() for m in r.matches]) for r in got]
        _close(batcher, python)


def test_http_single_and_batch_give_the_same_evidence_for_every_k(calibrated) -> None:
    folder, where = calibrated
    with TestClient(create_app(folder, where)) as client:
        single = {k: [_evidence(client.post("/v1/match", json={"query": q, "k": k})
                                .json()["matches"]) for q in QUERIES] for k in KS}
        batch = {k: [_evidence(r["matches"]) for r in client.post(
            "/v1/match", json={"queries": QUERIES, "k": k}).json()["results"]] for k in KS}
    _same_prefixes(single)
    _close(batch, single)


def test_cli_and_files_give_the_same_evidence_for_every_k(calibrated, tmp_path: Path) -> None:
    folder, where = calibrated
    runner = CliRunner()
    cli = {}
    for k in KS:
        rows = []
        for q in QUERIES:
            res = runner.invoke(load_commands(), ["match", str(folder), q, "--index", str(where),
                                                  "-k", str(k), "--json"])
            assert res.exit_code == 0, res.output
            rows.append(_evidence(json.loads(res.stdout)["matches"]))
        cli[k] = rows
    _same_prefixes(cli)
    queries = tmp_path / "q.csv"
    queries.write_text("query\n" + "\n".join(QUERIES) + "\n", encoding="utf-8")
    files = {}
    for k in KS:
        out = tmp_path / f"out{k}.csv"
        match_file(folder, IndexLocation(str(where)), queries, out, k)
        with out.open(encoding="utf-8") as f:
            files[k] = [[(r[f"id_{i}"], round(float(r[f"probability_{i}"]), 9), r[f"band_{i}"])
                         for i in range(1, k + 1) if r[f"id_{i}"]] for r in csv.DictReader(f)]
    _close(files, cli)
