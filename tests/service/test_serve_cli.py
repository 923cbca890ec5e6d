"""`surematch serve` builds the app from MODEL and --index and hands it to uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from surematch.cli import load_commands

app = load_commands()

pytestmark = pytest.mark.slow


def test_serve_reads_key_from_environment(built: tuple[Path, Path, list[str]],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(asgi: Any, host: str, port: int, **_: Any) -> None:
        seen.update(key=asgi.state.api_key, host=host, port=port)
        asgi.state.service.close()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(app, ["serve", str(built[0]), "--index", str(built[1]),
                                      "--port", "8123"], env={"SUREMATCH_API_KEY": "k1"})
    assert result.exit_code == 0, result.output
    assert seen == {"key": "k1", "host": "127.0.0.1", "port": 8123}


def test_serve_without_index_says_so(tmp_path: Path, built: tuple) -> None:
    result = CliRunner().invoke(app, ["serve", str(built[0]), "--index", str(tmp_path / "no")])
    assert "no index in" in str(result.exception)


def test_serve_takes_a_qdrant_url_without_index(built: tuple[Path, Path, list[str]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_app(model: Path, index: Path | None, **options: Any) -> str:
        seen.update(index=index, **options)
        return "app"

    monkeypatch.setattr("surematch.service.create_app", fake_app)
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: None)
    result = CliRunner().invoke(app, ["serve", str(built[0]), "--qdrant-url",
                                      "http://127.0.0.1:6333"])
    assert result.exit_code == 0, result.output
    assert seen["index"] is None and seen["qdrant_url"] == "http://127.0.0.1:6333"


def test_serve_passes_audit_fraction_and_labelled_queries(
        built: tuple[Path, Path, list[str]], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def fake_app(model: Path, index: Path | None, **options: Any) -> str:
        seen.update(options)
        return "app"

    monkeypatch.setattr("surematch.service.create_app", fake_app)
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: None)
    result = CliRunner().invoke(app, ["serve", str(built[0]), "--index", str(built[1]),
                                      "--audit-fraction", "0.1", "--labelled-queries",
                                      str(tmp_path / "q.csv")])
    assert result.exit_code == 0, result.output
    assert seen["audit_fraction"] == 0.1 and seen["labelled_queries"] == tmp_path / "q.csv"
    bad = CliRunner().invoke(app, ["serve", str(built[0]), "--index", str(built[1]),
                                   "--audit-fraction", "2"])
    assert bad.exit_code == 2
