"""`surematch serve`: the HTTP API and review page of one model and index, under uvicorn."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from surematch.cli.app import app
from surematch.cli.options import RuntimeOpt, SearchEfOpt
from surematch.errors import InputError
from surematch.folder import DEFAULT_RUNTIME
from surematch.logs import setup_logging

_NAMED = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=([^=].*)")
_ROLE = re.compile(r"(.+):(read|review|admin)")
log = logging.getLogger("surematch.service")


def key_roles(values: list[str] | None) -> tuple[str | dict[str, str] | None, dict[str, str]]:
    """(keys, {name: role}) of --api-key values: one plain KEY, or NAME=KEY[:ROLE] each."""
    keys = api_keys(values)
    if not isinstance(keys, dict):
        return keys, {}
    roles, plain = {}, {}
    for name, key in keys.items():
        m = _ROLE.fullmatch(key)
        plain[name] = m.group(1) if m else key
        if m:
            roles[name] = m.group(2)
    return plain, roles


def api_keys(values: list[str] | None) -> str | dict[str, str] | None:
    """--api-key values: one plain KEY, or NAME=KEY pairs (a KEY ending in '=' is plain)."""
    if not values:
        return None
    named = [_NAMED.fullmatch(v) for v in values]
    if len(values) == 1 and named[0] is None:
        return values[0]
    if not all(named):
        raise InputError("give one --api-key KEY, or each as --api-key NAME=KEY",
                         field="--api-key")
    keys: dict[str, str] = {}
    for m in named:
        assert m is not None
        if m.group(1) in keys:
            raise InputError(f"key name {m.group(1)!r} is given twice", field="--api-key")
        keys[m.group(1)] = m.group(2)
    return keys


@app.command()
def serve(
    model: Annotated[Path, typer.Argument(help="model folder")],
    index: Annotated[Path | None, typer.Option("--index", help="index folder (or --qdrant-url)")]
    = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    api_key: Annotated[list[str] | None, typer.Option(
        "--api-key", envvar="SUREMATCH_API_KEY",
        help="key writes need (X-API-Key); repeat as NAME=KEY for named keys, whose name "
             "reviewer feedback records, or NAME=KEY:ROLE with ROLE read, review (feedback) "
             "or admin (references, rules, refit; the default)")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="a Host header name answered (repeat; '*': any); default: "
        "localhost, 127.0.0.1, ::1 and --host (any when --host is 0.0.0.0 or ::)")] = None,
    read_key_required: Annotated[bool, typer.Option(
        "--read-key-required", help="reads need a key too: matches, references, rules, the "
        "review queue, calibration and /metrics")] = False,
    docs: Annotated[bool, typer.Option(
        "--docs/--no-docs", help="serve /docs (bundled Swagger UI, no CDN)")] = True,
    qdrant_url: Annotated[str | None, typer.Option(
        "--qdrant-url", help="Qdrant server holding the index")] = None,
    qdrant_api_key: Annotated[str | None, typer.Option(
        "--qdrant-api-key", envvar="QDRANT_API_KEY", help="the Qdrant server's key")] = None,
    search_ef: SearchEfOpt = None,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    batch_window_ms: Annotated[float, typer.Option(
        "--batch-window-ms", min=0.0, help="single-query matches arriving within this window "
        "are embedded and searched as one batch")] = 3.0,
    audit_fraction: Annotated[float, typer.Option(
        "--audit-fraction", min=0.0, max=1.0,
        help="share of all top matches (any band) sent to the review queue as audit samples: "
             "a random sample that certifies bands, its auto-accepted part the running proof "
             "of auto-accept precision")] = 0.02,
    labelled_queries: Annotated[Path | None, typer.Option(
        "--labelled-queries", help="labelled queries (text, expected_id) the calibration "
        "refit adds to the stored reviews")] = None,
    min_probability: Annotated[float | None, typer.Option(
        "--min-probability", min=0.0, max=0.999999,
        help="per-match floor of the accept band: no match below it is auto-accepted "
             "(default: the calibration's own, 0.5 unless calibrated with another; refits "
             "are certified with it)")] = None,
    client_requests: Annotated[int | None, typer.Option(
        "--client-requests", min=0, help="requests one client address may have in flight; "
        "past them: 429 with Retry-After (0: no limit; default: LIMITS.client_requests, "
        "16)")] = None,
    learn_texts: Annotated[bool, typer.Option(
        "--learn-texts/--no-learn-texts", help="an accepted or corrected review teaches the "
        "index its query (kind 'reviewed', undone with DELETE /v1/feedback/ID)")] = True,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Serve MODEL's index over HTTP (JSON API under /v1, review page at /)."""
    import uvicorn

    from surematch.service import create_app
    from surematch.service.server import allowed_hosts, server_options

    keys, roles = key_roles(api_key)
    if read_key_required and not keys:
        raise InputError("--read-key-required needs --api-key (or SUREMATCH_API_KEY)",
                         field="--read-key-required")
    setup_logging(verbose)
    options: dict[str, Any] = {"read_key_required": True} if read_key_required else {}
    if not docs:
        options["docs"] = False
    if audit_fraction != 0.02:
        options["audit_fraction"] = audit_fraction
    if labelled_queries is not None:
        options["labelled_queries"] = labelled_queries
    if min_probability is not None:
        options["min_probability"] = min_probability
    if not learn_texts:
        options["learn_texts"] = False
    if client_requests is not None:
        options["client_requests"] = client_requests
    if roles:
        options["key_roles"] = roles
    hosts = allowed_hosts(host, allowed_host)
    if hosts is not None:
        options["allowed_hosts"] = hosts
    served = create_app(model, index, api_key=keys, qdrant_url=qdrant_url,
                        qdrant_api_key=qdrant_api_key, search_ef=search_ef, runtime=runtime,
                        batch_window_ms=batch_window_ms, **options)
    if not keys:
        log.warning("no --api-key: anyone reaching %s:%d can write", host, port)
    uvicorn.run(served, host=host, port=port, log_level="info" if verbose else "warning",
                **server_options())
