"""References (bulk upsert, get, delete) and rules (add, list, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from surematch.data import References
from surematch.service.schemas import ReferencesRequest, RuleRequest
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
    batch = References([r.id for r in refs], [r.text for r in refs], [r.payload for r in refs])
    with state.lock.write():
        written = state.index.add(batch, progress=False)
        count = state.index.count()
    return {"written": written, "count": count}


@router.get("/references/{ref_id:path}", dependencies=[Depends(read_key)])
def get_reference(ref_id: str, request: Request) -> dict[str, Any]:
    ref_id = ref_id.strip()  # as ids are stripped on the way in
    state = request.app.state.service
    with state.lock.read():
        found = state.index.get([ref_id])[0]
    if found is None:
        raise HTTPException(404, f"no reference with id {ref_id!r}")
    return {"id": found.id, "text": found.text, "payload": found.payload}


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
