"""POST /v1/match (one query or a batch) and POST /v1/verify."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from starlette.concurrency import run_in_threadpool

from surematch.limits import over_open_budget
from surematch.service.schemas import MatchRequest, VerifyRequest
from surematch.service.security import API_KEY, read_key, role_of

router = APIRouter(prefix="/v1", dependencies=[Depends(read_key)])


@router.post("/match")
async def match(body: MatchRequest, request: Request,
                given: str | None = Security(API_KEY),
                count: bool = Query(True, description="false: not traffic (a reviewer's "
                                    "search): neither counted nor queued")) -> dict[str, Any]:
    """`{"query", "k", "filter"}` -> one result; `{"queries": [...]}` -> `{"results": [...]}`.
    Sent without a key, texts x k is at most LIMITS.open_match_budget and the texts hold at
    most LIMITS.open_match_chars characters (422 beyond): the embedding's cost per request.
    `count=false`: a reviewer's search, neither counted as traffic nor queued."""
    state = request.app.state.service
    if (body.query is None) == (body.queries is None):
        raise HTTPException(422, 'give exactly one of "query" (a text) or "queries" (a list)')
    queries = [body.query] if body.query is not None else list(body.queries or [])
    if len(queries) > request.app.state.max_batch:
        raise HTTPException(422, f'"queries" holds {len(queries)} texts; at most '
                            f"{request.app.state.max_batch} per request")
    over = over_open_budget(len(queries), body.k, sum(len(q) for q in queries))
    if over is not None and (not request.app.state.api_keys or role_of(request, given) is None):
        raise HTTPException(422, over)
    since = state.deletions()
    if body.query is not None:  # micro-batched with other single queries arriving meanwhile
        results = [await state.batcher.submit((body.query, body.k, body.filter))]
    else:  # a batch request is its own batch, in a worker thread
        results = await run_in_threadpool(
            state.match_many, [(q, body.k, body.filter) for q in queries])
    if count:
        state.remember_reviews(results, since)
    return results[0] if body.query is not None else {"results": results}


@router.post("/verify")
def verify(body: VerifyRequest, request: Request) -> dict[str, Any]:
    """`{"a", "b"}` -> the `surematch verify --json` object."""
    return request.app.state.verifier(body.a, body.b)
