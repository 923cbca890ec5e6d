"""Concurrent single-query matches are answered from shared batches, each with its own result."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from surematch.service import create_app

pytestmark = pytest.mark.slow
QUERIES = ["nurse", "truck driver", "python developer", "chef", "bookkeeper", "teacher",
           "welder", "plumber"] * 4


def test_concurrent_queries_share_batches_and_get_their_own_results(
        built: tuple[Path, Path, list[str]]) -> None:
    model, index, _ = built
    app = create_app(model, index, batch_window_ms=50)
    with TestClient(app) as client:
        alone = {q: client.post("/v1/match", json={"query": q, "k": 3}).json() for q in
                 set(QUERIES)}
        batcher = app.state.service.batcher
        before = batcher.batches

        def ask(q: str) -> dict:
            return client.post("/v1/match", json={"query": q, "k": 3}).json()

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(ask, QUERIES))
        assert [a["query"] for a in answers] == QUERIES
        for q, a in zip(QUERIES, answers, strict=True):
            assert [m["id"] for m in a["matches"]] == [m["id"] for m in alone[q]["matches"]]
        assert batcher.batches - before < len(QUERIES)  # some requests shared a batch
        bad = client.post("/v1/match", json={"query": "nurse", "filter": {"a..b": 1}})
        assert bad.status_code == 422  # a bad item fails alone, with its own error
        assert client.post("/v1/match", json={"query": "chef"}).status_code == 200
