"""Property-based tests of every route, generated from the app's own OpenAPI schema.

Schemathesis drives the app in-process (ASGI) with a fixed seed and a bounded number of
examples per operation, valid and invalid bodies alike, with the write key (so writes reach
the store). No answer may be a 5xx, and every error must be the JSON error shape with a
request id. A failure prints the request that reproduces it (a curl line and the case).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from surematch.service import create_app  # noqa: E402

KEY = "fuzz-key"
EXAMPLES = 25  # per operation and mode: several hundred requests, ~1-2 minutes on 2 cores
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
