"""The app factory: routes, limits, metrics, error handlers and the review page at `/`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from surematch.folder import DEFAULT_RUNTIME
from surematch.service import drift, routes_data, routes_feedback, routes_match, routes_ops
from surematch.service.guard import Guard
from surematch.service.observe import install_error_handlers, install_metrics
from surematch.service.request_limits import BodyLimit, ClientLimit
from surematch.service.security import check_roles, named_keys
from surematch.service.state import ServiceState
from surematch.workflows.verify import Verifier

STATIC = Path(__file__).parent / "static"


def create_app(model_dir: str | Path, index_dir: str | Path | None = None, *,
               api_key: str | Mapping[str, str] | None = None,
               read_key_required: bool = False, max_body_bytes: int = 1_000_000,
               max_batch: int = 256, qdrant_url: str | None = None,
               qdrant_api_key: str | None = None, search_ef: int | None = None,
               runtime: str = DEFAULT_RUNTIME, docs: bool = True, batch_window_ms: float = 3.0,
               audit_fraction: float = 0.02,
               labelled_queries: str | Path | None = None,
               key_roles: Mapping[str, str] | None = None,
               allowed_hosts: Iterable[str] | None = None,
               client_requests: int | None = None,
               min_probability: float | None = None,
               learn_texts: bool = True) -> FastAPI:
    """Load the model, open the index (a folder, or the collection at qdrant_url) and serve;
    api_key: one key, or named keys {name: key} (feedback records the reviewer's name);
    read_key_required: reads need a key too; search_ef: candidates each search examines
    (None: the store's default); runtime: what runs the model ("auto": the fastest the
    folder has, see `surematch export`); docs: serve /docs from the bundled Swagger UI;
    audit_fraction: the share of all top matches (any band) the review queue samples for audit
    (a random sample of the traffic; its auto-accepted part is the precision audit);
    labelled_queries: a labelled-queries file the calibration refit (POST
    /v1/calibration/refit) adds to the stored reviews; key_roles: {key name: read | review |
    admin} (a key not named there is admin); allowed_hosts: the Host names answered (None:
    any; `surematch serve` defaults to the localhost names and the bound address);
    client_requests: requests one client address may have in flight (None:
    LIMITS.client_requests; 0: no limit); min_probability: the per-match floor of the
    accept band (None: the calibration's own; refits are certified with it); learn_texts: an
    accepted or corrected review teaches the index its query (`feedback.learn`; False: reviews
    are only stored)."""
    keys = named_keys(api_key)
    roles = check_roles(key_roles, keys)
    if read_key_required and not keys:
        raise ValueError("read_key_required needs an API key")
    if not 0.0 <= audit_fraction <= 1.0:
        raise ValueError(f"audit_fraction must lie in [0, 1], got {audit_fraction}")
    state = ServiceState(Path(model_dir), None if index_dir is None else str(index_dir),
                         qdrant_url, qdrant_api_key, search_ef, runtime, audit_fraction,
                         None if labelled_queries is None else Path(labelled_queries),
                         batch_window_ms, min_probability, learn_texts)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="surematch", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, description="Similarity matching with calibrated confidence.")
    app.state.service, app.state.verifier = state, Verifier(state.model, Path(model_dir))
    app.state.api_key, app.state.api_keys, app.state.key_roles = api_key, keys, roles
    app.state.read_key_required = read_key_required
    app.state.max_batch = max_batch
    install_metrics(app)
    routes_feedback.install_audit_metrics(app)
    drift.install_drift_metrics(app)
    install_error_handlers(app)
    for module in (routes_match, routes_data, routes_feedback, routes_ops, drift):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if docs:
        _bundled_docs(app)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(ClientLimit, limit=client_requests)
    app.add_middleware(Guard, allowed_hosts=allowed_hosts)
    return app


def _bundled_docs(app: FastAPI) -> None:
    """/docs from the Swagger UI files of the swagger-ui-bundle package, never from a CDN;
    without that package there are no docs (the schema stays at /openapi.json)."""
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:
        return
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/docs/openapi.json", title="surematch API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png")

    @app.get("/docs/openapi.json", include_in_schema=False)
    def docs_schema() -> JSONResponse:
        # the bundled Swagger UI (4.x) renders OpenAPI 3.0 documents; ours reads the same
        schema: dict[str, Any] = {**app.openapi(), "openapi": "3.0.3"}
        return JSONResponse(schema)
