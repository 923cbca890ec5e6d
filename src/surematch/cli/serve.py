"""`surematch serve`: the HTTP API and review page of one model and index, under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from surematch.cli import app
from surematch.cli.options import RuntimeOpt, SearchEfOpt
from surematch.logs import setup_logging


@app.command()
def serve(
    model: Annotated[Path, typer.Argument(help="model folder")],
    index: Annotated[Path | None, typer.Option("--index", help="index folder (or --qdrant-url)")]
    = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    api_key: Annotated[str | None, typer.Option(
        "--api-key", envvar="SUREMATCH_API_KEY", help="key writes need (X-API-Key)")] = None,
    qdrant_url: Annotated[str | None, typer.Option(
        "--qdrant-url", help="Qdrant server holding the index")] = None,
    qdrant_api_key: Annotated[str | None, typer.Option(
        "--qdrant-api-key", envvar="QDRANT_API_KEY", help="the Qdrant server's key")] = None,
    search_ef: SearchEfOpt = None,
    runtime: RuntimeOpt = "auto",
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Serve MODEL's index over HTTP (JSON API under /v1, review page at /)."""
    import uvicorn

    from surematch.service import create_app

    setup_logging(verbose)
    uvicorn.run(create_app(model, index, api_key=api_key, qdrant_url=qdrant_url,
                           qdrant_api_key=qdrant_api_key, search_ef=search_ef,
                           runtime=runtime),
                host=host, port=port, log_level="info" if verbose else "warning")
