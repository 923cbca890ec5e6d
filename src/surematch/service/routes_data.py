"""References (bulk upsert, get, delete) and rules (add, list, delete).

Writes embed their texts outside the write lock and hold it only for the engine's write;
payload indexes for new keys are made afterwards, off the request path (service/indexer.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from surematch.data import References
from surematch.index.rules import new_rule
from surematch.limits import LIMITS
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
    _texts_per_request(sum(len(p) for p in batch.extra_texts or []) + len(refs))
    prepared = state.index.prepare(batch, reading=state.lock.read())  # embeds, no lock held
    with state.lock.write():
        written = state.index.write_prepared(prepared)
        count = state.index.count()
    state.indexer.submit(prepared.payloads)
    return {"written": written, "count": count}


def _texts_per_request(n: int) -> None:
    if n > LIMITS.texts_per_request:
        raise HTTPException(422, f"the request holds {n} texts; at most "
                            f"{LIMITS.texts_per_request} per request (a second each, about)")


def _texts_route(request: Request) -> bool:
    """Whether the URL really ends in /texts: "odd%2Ftexts" is the id "odd/texts", which the
    router (matching the decoded path) sends to the texts routes too."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return bytes(raw).rstrip(b"/").endswith(b"/texts")


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
    ref_id = ref_id.strip()  # as ids are stripped on the way in
    state = request.app.state.service
    pairs = [t if isinstance(t, str) else (t.text, t.kind or "synonym") for t in body.texts]
    _texts_per_request(len(pairs))
    ref_id, checked = state.index.check_texts(ref_id, pairs)
    with state.lock.read():
        if state.index.get([ref_id])[0] is None:
            raise HTTPException(404, f"no reference with id {ref_id!r}")
        new = state.index.new_texts(ref_id, checked)
    rows = state.index.embed_texts(new) if new else {}  # no lock held
    with state.lock.write():
        if state.index.get([ref_id])[0] is None:  # deleted meanwhile
            raise HTTPException(404, f"no reference with id {ref_id!r}")
        added = state.index.write_texts(ref_id, new, rows)
        found = state.index.get([ref_id])[0]
    return {"added": added, **found.to_dict()}


@router.delete("/references/{ref_id:path}/texts", dependencies=[Depends(write_key)])
def delete_text(ref_id: str, request: Request, text: str | None = None) -> dict[str, Any]:
    """Remove one text of a reference: DELETE /v1/references/{id}/texts?text=... (a query
    parameter). Its last text cannot go: delete the reference instead (422)."""
    if not _texts_route(request):  # DELETE /v1/references/odd%2Ftexts: the reference
        return delete_reference(f"{ref_id}/texts", request)
    if text is None:
        raise HTTPException(422, 'give the text to delete: "?text=..."')
    ref_id = ref_id.strip()
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
    rule = new_rule(body.trigger, body.exclude, **options)
    embedded = state.index.embed_rules([rule])  # no lock held
    with state.lock.write():
        state.index.write_rules([rule], *embedded)
    return {"id": rule.id}


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
