"""The app factory: routes, limits, metrics, error handlers and the review page at `/`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from surematch.service import routes_data, routes_match, routes_ops
from surematch.service.limits import BodyLimit
from surematch.service.observe import install_error_handlers, install_metrics
from surematch.service.state import ServiceState
from surematch.workflows.verify import Verifier

STATIC = Path(__file__).parent / "static"


def create_app(model_dir: str | Path, index_dir: str | Path | None = None, *,
               api_key: str | None = None,
               read_key_required: bool = False, max_body_bytes: int = 1_000_000,
               max_batch: int = 256, qdrant_url: str | None = None,
               qdrant_api_key: str | None = None, search_ef: int | None = None,
               runtime: str = "auto") -> FastAPI:
    """Load the model, open the index (a folder, or the collection at qdrant_url) and serve;
    search_ef: candidates each search examines (None: the store's default); runtime: what
    runs the model ("auto": the fastest the folder has, see `surematch export`)."""
    state = ServiceState(Path(model_dir), None if index_dir is None else str(index_dir),
                         qdrant_url, qdrant_api_key, search_ef, runtime)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="surematch", version="1", lifespan=lifespan,
                  description="Similarity matching with calibrated confidence.")
    app.state.service, app.state.verifier = state, Verifier(state.model, Path(model_dir))
    app.state.api_key, app.state.read_key_required = api_key, read_key_required
    app.state.max_batch = max_batch
    install_metrics(app)
    install_error_handlers(app)
    for module in (routes_match, routes_data, routes_ops):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
