"""Reviews as data: POST /v1/feedback (stored, and taught to the index), DELETE
/v1/feedback/{id} (undo), the labelled-query export, the calibration refit on the stored
reviews, and the running audit of auto-accept precision and traffic (GET /v1/audit,
/metrics)."""

from __future__ import annotations

import io
import logging
import math
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import Gauge

from surematch.confidence.targets import Targets
from surematch.errors import InputError
from surematch.feedback import DECISIONS, write_labelled
from surematch.service.observe import error
from surematch.service.schemas import FeedbackRequest, RefitRequest
from surematch.service.security import read_key, review_key, write_key

router = APIRouter(prefix="/v1")
log = logging.getLogger("surematch.service")


def _decision(body: FeedbackRequest) -> tuple[str, str | None, str | None, str]:
    """(decision, shown id, corrected id, the field naming the shown id) of either body."""
    if body.id is not None or body.accepted is not None:
        if body.decision is not None or body.shown_id is not None \
                or body.corrected_id is not None:
            raise InputError('give either {"query", "id", "accepted"} or {"query", '
                             '"decision", "shown_id", "corrected_id"}, not both', field="id")
        if body.id is None:
            raise InputError('"accepted" needs the reference\'s "id"', field="id")
        if body.accepted is None:
            raise InputError('"id" needs "accepted": true or false', field="accepted")
        return ("accept" if body.accepted else "reject"), body.id, None, "id"
    if body.decision not in DECISIONS:
        raise InputError(f"must be one of {list(DECISIONS)}, got {body.decision!r}",
                         field="decision")
    return body.decision, body.shown_id, body.corrected_id, "shown_id"


@router.post("/feedback", dependencies=[Depends(review_key)])
def feedback(body: FeedbackRequest, request: Request) -> Any:
    """Store a reviewer's decision durably (feedback.sqlite3 beside the index)."""
    state = request.app.state.service
    decision, shown, corrected, shown_field = _decision(body)
    named = [(f, i) for f, i in ((shown_field, shown), ("corrected_id", corrected))
             if i is not None]
    with state.lock.read():
        found = state.index.get([i for _, i in named]) if named else []
    for (name, ref_id), ref in zip(named, found, strict=True):
        if ref is None:
            log.info("404 POST /v1/feedback: no reference %r (%s)", ref_id, name)
            return error(request, 404, f"no reference with id {ref_id!r}", name)
    try:
        review = state.feedback.add(
            body.query, decision, shown_id=shown, corrected_id=corrected,
            candidates=body.candidates, reviewer=getattr(request.state, "key_name", None),
            model_id=state.model.identity(), calibration_id=state.calibration_id,
            audit=body.audit)
    except InputError as exc:
        if exc.field == "shown_id" and shown_field != "shown_id":
            raise InputError(exc.message, field=shown_field) from None
        raise
    state.traffic.reviewed(state.forget_review(body.query))
    learned = state.learn(review)  # after: a conflict goes back to the queue
    if body.audit:
        state.check_audit()
    return {"stored": review.to_dict(), "learned": learned.to_dict()}


@router.delete("/feedback/{review_id}", dependencies=[Depends(write_key)])
def undo_feedback(review_id: int, request: Request) -> Any:
    """Undo a review by id: it no longer counts, and the text it taught the index goes (what
    the other reviews of its query say is applied). 404 for an unknown id."""
    state = request.app.state.service
    try:
        review, learned = state.undo(review_id)
    except InputError as exc:
        if exc.field == "id":
            return error(request, 404, exc.message, "review_id")
        raise
    return {"undone": review.to_dict(),
            "learned": None if learned is None else learned.to_dict()}


@router.get("/feedback/export", dependencies=[Depends(read_key)])
def export(request: Request, format: str = "jsonl") -> Response:
    """The reviews as labelled queries (text, expected_id, rejected_id), a query's latest
    decision only: JSONL (`format=jsonl`) or CSV (`format=csv`, formulas defused)."""
    if format not in ("jsonl", "csv"):
        raise InputError(f"must be jsonl or csv, got {format!r}", field="format")
    out = io.StringIO()
    write_labelled(request.app.state.service.feedback.labelled_queries(), out, format)
    return Response(out.getvalue(), media_type="application/x-ndjson" if format == "jsonl"
                    else "text/csv; charset=utf-8")


@router.post("/calibration/refit", dependencies=[Depends(write_key)])
def refit(request: Request, body: RefitRequest | None = None) -> dict[str, Any]:
    """Refit the retrieval calibration on the stored reviews (and the labelled file the
    server was given), save it in the model folder and match with it from now on. Too few
    reviews: 422 naming why, and the calibration in use stays."""
    from surematch.service.routes_ops import calibration_view
    from surematch.workflows.feedback import (
        learned_texts,
        refit_calibration,
        stored_rows,
    )

    state = request.app.state.service
    body = body or RefitRequest()
    if not state.refit_lock.acquire(blocking=False):
        raise HTTPException(409, "a refit is running already")
    try:
        old = state.match_calibration
        bands = old.bands if old is not None else None
        with state.lock.read():
            refs, rows = stored_rows(state.index, strict=False)  # rows: not embedded again
            learned = learned_texts(state.index)
        labelled = None
        if state.labelled_queries is not None:
            from surematch.data import read_queries

            labelled = read_queries(state.labelled_queries)
        try:
            _, fit = refit_calibration(
                state.model, state.model_dir, refs, state.feedback.reviews(), labelled,
                targets=_refit_targets(body, bands, state.min_probability), seed=body.seed,
                learned=learned, labelled_file=state.labelled_queries, reference_vectors=rows)
        except InputError as exc:
            raise InputError(f"refit failed, the calibration in use is unchanged: "
                             f"{exc.message}", field=exc.field or "feedback") from None
        state.drift.keep_recent()  # the shift monitor's reference: the traffic audited
        state.swap_calibration(fit.calibration)
    finally:
        state.refit_lock.release()
    for warning in fit.warnings:
        log.warning("refit: %s", warning)
    return {"calibration": calibration_view(state.model_dir),
            "calibration_id": state.calibration_id, "warnings": fit.warnings,
            "counts": fit.counts}


@router.get("/audit", dependencies=[Depends(read_key)])
def audit(request: Request) -> dict[str, Any]:
    """Auto-accept precision observed on the audit reviews of auto-accepted top matches made
    under the calibration in use:
    {"n", "right", "precision", "low", "high", "target", "alarm", "message", ...}, and the
    traffic: {"queries", "auto_accepted", "auto_share", "reviews", "settled", "days": [...]}
    (since the server started; each day's audited precision with its interval from the
    stored audit reviews)."""
    state = request.app.state.service
    result = state.check_audit()
    return {**result.to_dict(), "calibration_id": state.calibration_id,
            "audit_fraction": state.audit_fraction,
            "traffic": state.traffic.summary(state.feedback.reviews(audit=True))}


def install_audit_metrics(app: FastAPI) -> None:
    """Gauges read at each scrape from the last audit check."""
    state, registry = app.state.service, app.state.registry

    def nan(v: float | None) -> float:
        return math.nan if v is None else float(v)

    for name, doc, read in (
        ("surematch_audit_reviews", "audit reviews under the calibration in use",
         lambda: float(state.audit.n)),
        ("surematch_audit_precision", "observed auto-accept precision (NaN: no audits)",
         lambda: nan(state.audit.precision)),
        ("surematch_audit_precision_low", "lower end of its 95 % interval",
         lambda: float(state.audit.low)),
        ("surematch_audit_precision_high", "upper end of its 95 % interval",
         lambda: float(state.audit.high)),
        ("surematch_audit_alarm", "1 when the audits show precision below the certified target",
         lambda: float(state.audit.alarm)),
        ("surematch_traffic_auto_share", "share of matched queries whose top match was "
         "auto-accepted since the server started (NaN: none yet)",
         lambda: nan(state.traffic.summary()["auto_share"])),
        ("surematch_review_queue_items", "queries waiting in the review queue",
         lambda: float(len(state.queue))),
    ):
        Gauge(name, doc, registry=registry).set_function(read)


def _refit_targets(body: RefitRequest, bands: Any | None, serving: float | None) -> Targets:
    """What a refit certifies: the request's targets, else those of the calibration in use,
    else the defaults; the per-match floor the server was started with, else the
    calibration's in use, else the default."""
    from surematch.confidence.targets import DEFAULT_TARGETS, MIN_PROBABILITY

    base = bands.targets if bands is not None else DEFAULT_TARGETS
    floor = getattr(bands, "min_probability", None)
    if serving is not None:
        floor = serving
    return Targets(body.target_precision or base.precision, body.max_miss or base.max_miss,
                   body.confidence or base.confidence,
                   MIN_PROBABILITY if floor is None else float(floor))
