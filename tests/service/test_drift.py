"""GET /v1/drift and its gauges: the shift monitor of the calibration in use, fed by every
match; it alarms on traffic unlike the calibration queries and starts over on a refit."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from surematch.confidence.certification.targets import Targets
from surematch.confidence.file.store import save_calibration
from surematch.confidence.match_calibration import fit_match_calibration
from surematch.data.esco import esco_queries, esco_references, read_esco
from surematch.data.samples import LabelledQueries
from surematch.evaluation.ranked_queries import rank_queries
from surematch.model import SimilarityModel
from surematch.service import create_app
from surematch.workflows.drift import record_reference

pytestmark = pytest.mark.slow
KEY = {"X-API-Key": "k"}
KEYS = ("alarm", "statistic", "threshold", "n", "since", "top_differences")


def labelled(ids: list[str], n: int = 90) -> LabelledQueries:
    """ESCO alternative titles: two thirds of the index's occupations, a third of others."""
    occupations = read_esco()
    qs = esco_queries(occupations, taxonomy=occupations)
    known = set(ids)
    pairs = list(zip(qs.texts, qs.expected_ids, strict=True))
    inside = [(t, e) for t, e in pairs if e in known][: n - n // 3]
    outside = [(t, None) for t, e in pairs if e not in known][: n // 3]
    rows = inside + outside
    return LabelledQueries([t for t, _ in rows], [e for _, e in rows])


@pytest.fixture()
def calibrated(built: tuple[Path, Path, list[str]], tmp_path: Path
               ) -> tuple[Path, Path, LabelledQueries]:
    """Copies of the model and index; the model calibrated on 90 labelled titles, with their
    sketch as the drift reference."""
    shutil.copytree(built[0], tmp_path / "model")
    shutil.copytree(built[1], tmp_path / "index")
    for name in ("feedback.sqlite3", "feedback.sqlite3-wal", "feedback.sqlite3-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    model = SimilarityModel.load(tmp_path / "model")
    refs = esco_references(read_esco())
    refs = type(refs)(refs.ids[:30], refs.texts[:30], refs.payloads[:30])
    qs = labelled(built[2])
    ranked = rank_queries(model, refs, qs, k=10)
    cal = fit_match_calibration(ranked.similarity, ranked.correct, ranked.confidence,
                                ranked.expected, targets=Targets(0.9, 0.05),
                                evidence=ranked.evidence)
    save_calibration(tmp_path / "model", cal, model.identity(), model.runtime)
    record_reference(tmp_path / "model", qs.texts, ranked, cal, "labelled.csv")
    return tmp_path / "model", tmp_path / "index", qs


@pytest.fixture()
def client(calibrated: tuple[Path, Path, LabelledQueries]) -> Iterator[TestClient]:
    app = create_app(calibrated[0], calibrated[1], api_key=KEY["X-API-Key"])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def gauges(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics", headers=KEY).text
    return {f.name: f.samples[0].value for f in text_string_to_metric_families(text)
            if f.name.startswith("surematch_drift")}


def match(client: TestClient, texts: list[str]) -> list[dict]:
    r = client.post("/v1/match", json={"queries": texts, "k": 5}, headers=KEY)
    assert r.status_code == 200
    return r.json()["results"]


def test_drift_alarms_on_unlike_traffic_and_starts_over_on_refit(
        client: TestClient, calibrated: tuple[Path, Path, LabelledQueries]) -> None:
    qs = calibrated[2]
    d = client.get("/v1/drift", headers=KEY).json()
    assert set(KEYS) <= set(d) and d["n"] == 0 and d["alarm"] is False
    assert d["threshold"] > 0 and d["reference"]["source"] == "labelled.csv"
    # no evidence yet: the rank test's log-wealth 0 less log(2 J), J = 11 features and 8
    # content features
    assert gauges(client) == {"surematch_drift_statistic": pytest.approx(-math.log(38)),
                              "surematch_drift_alarm": 0.0}

    match(client, qs.texts)  # the calibration queries themselves
    d = client.get("/v1/drift", headers=KEY).json()
    assert d["n"] == len(qs) and d["alarm"] is False and d["statistic"] < d["threshold"]
    monitor = client.app.state.service.drift.monitor  # type: ignore[attr-defined]
    seen = {f["feature"]: f["n"] for f in monitor.top_differences(50)}
    assert seen["content_1"] == seen["content_8"] == len(qs)  # every match's embedding read

    junk = [f"ZX-{i:04d} QQ#{i % 7} {'W' * (i % 5)}" for i in range(240)]
    match(client, junk[:120])
    match(client, junk[120:])
    d = client.get("/v1/drift", headers=KEY).json()
    assert d["alarm"] is True and d["statistic"] >= d["threshold"]
    assert d["n"] == len(qs) + len(junk) and len(qs) < d["alarm_at"] <= d["n"]
    assert d["top_differences"] and d["top_differences"][0]["log_wealth"] > 0
    assert "SHIFT" in d["message"]
    g = gauges(client)
    assert g["surematch_drift_alarm"] == 1.0 and g["surematch_drift_statistic"] >= d["threshold"]

    since = d["since"]
    for text, result in zip(qs.texts, match(client, qs.texts), strict=True):
        expected = qs.expected_ids[qs.texts.index(text)]
        top = result["matches"][0]["id"]
        body = {"query": text, "decision": "accept", "shown_id": top, "audit": True}
        if expected is None:
            body.update(decision="reject")
        elif top != expected:
            body.update(decision="correct", corrected_id=expected)
        assert client.post("/v1/feedback", json=body, headers=KEY).status_code == 200
    assert client.post("/v1/calibration/refit", json={}, headers=KEY).status_code == 200
    d = client.get("/v1/drift", headers=KEY).json()
    assert d["n"] == 0 and d["alarm"] is False and d["since"] >= since
    assert "live queries" in d["reference"]["source"]  # the traffic the audits sampled
    assert gauges(client)["surematch_drift_alarm"] == 0.0


def test_an_uncalibrated_service_monitors_nothing(built: tuple[Path, Path, list[str]]) -> None:
    app = create_app(built[0], built[1])
    with TestClient(app) as c:
        page = c.get("/").text  # the page's banner reads /v1/drift
        assert 'id="drift"' in page and "/static/drift.js" in page
        assert "/v1/drift" in c.get("/static/drift.js").text
        c.post("/v1/match", json={"query": "nurse"})
        d = c.get("/v1/drift").json()
        assert d["alarm"] is False and d["statistic"] is None and d["n"] == 0
        assert "no drift reference" in d["message"]
        assert {f.name: f.samples[0].value for f in text_string_to_metric_families(
            c.get("/metrics").text) if f.name == "surematch_drift_alarm"} == {
            "surematch_drift_alarm": 0.0}
