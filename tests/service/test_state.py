"""The service's cache of recent results: a repeated query (case and spacing aside) is not
matched again until a write or a recalibration, and k and the filter are part of the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from surematch.service import create_app

KEY = "secret-key"
W = {"X-API-Key": KEY}
pytestmark = pytest.mark.slow


@pytest.fixture
def client(built: tuple[Path, Path, list[str]], tmp_path: Path) -> Iterator[TestClient]:
    import shutil

    model, index, _ = built
    shutil.copytree(index, tmp_path / "index")  # this test writes
    app = create_app(model, tmp_path / "index", api_key=KEY)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def matched(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries the index really matches from now on."""
    index = client.app.state.service.index  # type: ignore[attr-defined]
    calls: list[str] = []
    real = index.match_batch

    def spy(queries: Any, *args: Any) -> Any:
        calls.extend(queries)
        return real(queries, *args)

    monkeypatch.setattr(index, "match_batch", spy)
    return calls


def match(client: TestClient, query: str, k: int = 3, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/match", json={"query": query, "k": k, **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_repeated_query_is_answered_from_the_cache_until_a_write(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = matched(client, monkeypatch)
    first = match(client, "Ship  Captain")
    again = match(client, "ship captain ")
    assert calls == ["Ship  Captain"]  # the second was not matched again
    assert again == {**first, "query": again["query"]} and again["query"] != first["query"]
    batch = client.post("/v1/match", json={"queries": ["SHIP captain", "ship captain"],
                                           "k": 3}).json()["results"]
    assert calls == ["Ship  Captain"] and [r["matches"] for r in batch] == [first["matches"]] * 2
    match(client, "ship captain", k=2)
    match(client, "ship captain", filter={"lang": "en"})
    assert len(calls) == 3  # another k, another filter: other keys

    body = {"references": [{"id": "x1", "text": "ship captain"}]}
    assert client.post("/v1/references", json=body, headers=W).status_code == 200
    after = match(client, "ship captain")
    assert calls[-1] == "ship captain" and len(calls) == 4  # the write dropped the cache
    assert after["matches"][0]["id"] == "x1" != first["matches"][0]["id"]


def test_a_recalibration_drops_the_cache(client: TestClient,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    calls = matched(client, monkeypatch)
    match(client, "nurse")
    match(client, "nurse")
    assert calls == ["nurse"]
    state = client.app.state.service  # type: ignore[attr-defined]
    state.swap_calibration(state.match_calibration)
    match(client, "nurse")
    assert calls == ["nurse", "nurse"]
