"""Property-based tests of every route, generated from the app's own OpenAPI schema.

Schemathesis drives the app in-process (ASGI) with a fixed seed and a bounded number of
examples per operation, valid and invalid bodies alike, with the write key (so writes reach
the store). No answer may be a 5xx, and every error must be the JSON error shape with a
request id. A failure prints the request that reproduces it (a curl line and the case).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from surematch.service import create_app  # noqa: E402

KEY = "fuzz-key"
# per operation and mode (a fixed seed: the same cases every run); SUREMATCH_FUZZ_EXAMPLES=100
# fuzzes deeper. 10 makes about 450 requests, under a minute on 2 cores
EXAMPLES = int(os.environ.get("SUREMATCH_FUZZ_EXAMPLES", "10"))
PHASES = [Phase.explicit, Phase.generate, Phase.shrink]  # fixed seed, no example database
CASES: list[str] = []

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_app(built: tuple[Path, Path, list[str]], tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[Any]:
    model, index, _ = built
    copy = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(index, copy)
    app = create_app(model, copy, api_key=KEY, max_batch=8)
    yield app
    app.state.service.close()


def error_shape(ctx: Any, response: Any, case: Any) -> bool:
    """4xx answers are JSON {"detail", "field", "request_id"}."""
    if response.status_code >= 400:
        kind = response.headers.get("content-type", [""])[0]
        assert kind.startswith("application/json"), f"{response.status_code} answered {kind}"
        body = response.json()
        assert isinstance(body.get("detail"), str) and body.get("request_id"), body
    return True


def test_every_route(fuzz_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    checks = [not_a_server_error, error_shape]
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=PHASES)
            def run(case: Any) -> None:
                CASES.append(f"{case.method} {case.path}")
                case.call_and_validate(headers={"X-API-Key": KEY}, checks=checks)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid: a route without input
                assert mode is GenerationMode.NEGATIVE
    with capsys.disabled():
        print(f"\nfuzzer: {len(CASES)} cases over {len(operations)} operations")
    assert len({c for c in CASES}) == len(operations) >= 10


# Values a schema-driven generator never makes but a hostile client sends (issue #22): integers
# past 64 bits, numbers past a double (1e400 reads as infinity), lone surrogates (valid JSON
# escapes, invalid Unicode), control characters; each is put into every slot of every body.
RAW = st.sampled_from([
    "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" + "0" * 400,
    "1e400", "-1e400", "1e-400", '"\\udfff"', '"\\ud800x"', '"a\\u0000b"', '"\\udfff.a"',
    '{"\\udfff": 1}', "[1e400]", '{"a": 18446744073709551616}'])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(st.characters(categories=["Cs", "Cc", "Lu", "Nd"]), max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(st.characters(categories=["Cs", "Ll"]), max_size=3), inner, max_size=3),
    max_leaves=6)
HOSTILE = RAW | JSON_VALUES.map(json.dumps)  # json.dumps writes surrogates as \\u escapes
SLOTS = [
    ("/v1/match", '{"query": "nurse", "filter": {"a": @}}'),
    ("/v1/match", '{"query": "nurse", "filter": {"must": [{"key": "a", "range": {"gte": @}}]}}'),
    ("/v1/match", '{"query": "nurse", "filter": {"must": [{"key": "a", "any": [@]}]}}'),
    ("/v1/match", '{"query": "nurse", "filter": {"must": [{"key": @, "match": 1}]}}'),
    ("/v1/match", '{"query": @}'), ("/v1/match", '{"queries": ["nurse", @], "k": 2}'),
    ("/v1/match", '{"query": "nurse", "k": @}'),
    ("/v1/references", '{"references": [{"id": "fz", "text": "t", "payload": {"p": @}}]}'),
    ("/v1/references", '{"references": [{"id": "fz", "text": "t", "payload": @}]}'),
    ("/v1/references", '{"references": [{"id": @, "text": "t"}]}'),
    ("/v1/references", '{"references": [{"id": "fz", "texts": ["t", @]}]}'),
    ("/v1/references/fz/texts", '{"texts": [@]}'),
    ("/v1/rules", '{"trigger": @, "exclude": "b"}'),
    ("/v1/rules", '{"trigger": "a", "exclude": "b", "trigger_similarity": @}'),
    ("/v1/feedback", '{"query": @, "decision": "accept", "shown_id": "fz"}'),
    ("/v1/feedback", '{"query": "q", "decision": "correct", "corrected_id": @}'),
    ("/v1/feedback", '{"query": "q", "decision": "accept", "shown_id": "fz", "candidates": '
                     '[{"id": "fz", "probability": @}]}'),
    ("/v1/calibration/refit", '{"seed": @}'), ("/v1/calibration/refit", '{"max_miss": @}'),
    ("/v1/verify", '{"a": @, "b": "nurse"}'),
]


def test_hostile_values_in_every_slot(built: tuple[Path, Path, list[str]],
                                      tmp_path: Path) -> None:
    """Each slot of each body filled with hostile values: never a 5xx, always the error shape
    (an app of its own: the schema run's lifespan closed the shared one)."""
    from fastapi.testclient import TestClient

    shutil.copytree(built[1], tmp_path / "index")
    app = create_app(built[0], tmp_path / "index", api_key=KEY, max_batch=8)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/v1/references", json={"references": [{"id": "fz", "text": "t"}]},
                    headers={"X-API-Key": KEY})
        for path, template in SLOTS:

            @given(value=HOSTILE)
            @settings(max_examples=12, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=PHASES)
            def run(value: str) -> None:
                body = template.replace("@", value).encode()  # noqa: B023 (run at once)
                r = client.post(path, content=body, headers={  # noqa: B023
                    "X-API-Key": KEY, "content-type": "application/json"})
                assert r.status_code < 500, (path, body[:300], r.text[:300])  # noqa: B023
                if r.status_code >= 400:
                    out = r.json()
                    assert isinstance(out["detail"], str) and out["request_id"], out

            run()
