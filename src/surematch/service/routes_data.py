"""References (bulk upsert, get, delete) and rules (add, list, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from surematch.data import References
from surematch.service.schemas import (
    ReferenceIn,
    ReferencesRequest,
    RuleRequest,
    TextsRequest,
)
from surematch.service.security import read_key, write_key

router = APIRouter(prefix="/v1")


@router.post("/references", dependencies=[Depends(write_key)])
def add_references(body: ReferencesRequest, request: Request) -> dict[str, Any]:
    """Upsert references: an id stored already is replaced."""
    state = request.app.state.service
    refs = body.references
    if len(refs) > request.app.state.max_batch:
        raise HTTPException(422, f'"references" holds {len(refs)} items; at most '
                            f"{request.app.state.max_batch} per request")
    batch = _references(refs)
    with state.lock.write():
        written = state.index.add(batch, progress=False)
        count = state.index.count()
    return {"written": written, "count": count}


def _references(refs: list[ReferenceIn]) -> References:
    """The request's references: each one's first text its title (unless a kind says
    otherwise), the rest synonyms unless their kind says otherwise."""
    texts = [r.pairs() for r in refs]
    return References([r.id for r in refs], [p[0][0] for p in texts], [r.payload for r in refs],
                      [[(t, k or "synonym") for t, k in p[1:]] for p in texts],
                      [p[0][1] or "title" for p in texts])


# the two texts routes come before the reference routes: those take any id, "/" included
@router.post("/references/{ref_id:path}/texts", dependencies=[Depends(write_key)])
def add_texts(ref_id: str, body: TextsRequest, request: Request) -> dict[str, Any]:
    """Append texts to a stored reference (one it holds already is skipped)."""
    state = request.app.state.service
    pairs = [t if isinstance(t, str) else (t.text, t.kind or "synonym") for t in body.texts]
    with state.lock.write():
        if state.index.get([ref_id])[0] is None:
            raise HTTPException(404, f"no reference with id {ref_id!r}")
        added = state.index.add_texts(ref_id, pairs)
        found = state.index.get([ref_id])[0]
    return {"added": added, **found.to_dict()}


@router.delete("/references/{ref_id:path}/texts", dependencies=[Depends(write_key)])
def delete_text(ref_id: str, text: str, request: Request) -> dict[str, Any]:
    """Remove one text of a reference: DELETE /v1/references/{id}/texts?text=... (a query
    parameter). Its last text cannot go: delete the reference instead (422)."""
    state = request.app.state.service
    with state.lock.write():
        if state.index.get([ref_id])[0] is None:
            raise HTTPException(404, f"no reference with id {ref_id!r}")
        if not state.index.delete_text(ref_id, text):
            raise HTTPException(404, f"reference {ref_id!r} has no text {text!r}")
        found = state.index.get([ref_id])[0]
    return {"deleted": text, **found.to_dict()}


@router.get("/references/{ref_id:path}", dependencies=[Depends(read_key)])
def get_reference(ref_id: str, request: Request) -> dict[str, Any]:
    ref_id = ref_id.strip()  # as ids are stripped on the way in
    state = request.app.state.service
    with state.lock.read():
        found = state.index.get([ref_id])[0]
    if found is None:
        raise HTTPException(404, f"no reference with id {ref_id!r}")
    return found.to_dict()


@router.delete("/references/{ref_id:path}", dependencies=[Depends(write_key)])
def delete_reference(ref_id: str, request: Request) -> dict[str, Any]:
    ref_id = ref_id.strip()
    state = request.app.state.service
    with state.lock.write():
        deleted = state.index.delete([ref_id])
    state.forget_reference(ref_id)
    if not deleted:
        raise HTTPException(404, f"no reference with id {ref_id!r}")
    return {"deleted": ref_id}


@router.post("/rules", dependencies=[Depends(write_key)])
def add_rule(body: RuleRequest, request: Request) -> dict[str, Any]:
    state = request.app.state.service
    options = body.model_dump(exclude={"trigger", "exclude"}, exclude_none=True)
    with state.lock.write():
        rule_id = state.index.add_rule(body.trigger, body.exclude, **options)
    return {"id": rule_id}


@router.get("/rules", dependencies=[Depends(read_key)])
def list_rules(request: Request) -> dict[str, Any]:
    state = request.app.state.service
    with state.lock.read():
        return {"rules": [r.to_dict() for r in state.index.list_rules()]}


@router.delete("/rules/{rule_id:path}", dependencies=[Depends(write_key)])
def delete_rule(rule_id: str, request: Request) -> dict[str, Any]:
    rule_id = rule_id.strip()
    state = request.app.state.service
    with state.lock.write():
        deleted = state.index.delete_rules([rule_id])
    if not deleted:
        raise HTTPException(404, f"no rule with id {rule_id!r}")
    return {"deleted": rule_id}
