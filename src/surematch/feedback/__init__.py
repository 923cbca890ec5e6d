"""Closing the loop: reviewer decisions stored durably, the review queue, the precision audit."""

from surematch.feedback.audit import (
    AuditResult,
    alarm_delta,
    audit_precision,
    audit_reviews,
    first_alarm,
)
from surematch.feedback.queue import audit_draw, audit_sample, edge_distance, review_order
from surematch.feedback.store import (
    DECISIONS,
    FeedbackStore,
    LabelledFeedback,
    Review,
    export_labelled,
    labelled_queries,
)

__all__ = [
    "DECISIONS",
    "AuditResult",
    "FeedbackStore",
    "LabelledFeedback",
    "Review",
    "alarm_delta",
    "audit_draw",
    "audit_precision",
    "audit_reviews",
    "audit_sample",
    "edge_distance",
    "export_labelled",
    "first_alarm",
    "labelled_queries",
    "review_order",
]
