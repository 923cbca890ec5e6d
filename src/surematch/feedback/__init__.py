"""Closing the loop: reviewer decisions stored durably, the texts they teach the index, the
review queue, the precision audit and the traffic they settle."""

from surematch.feedback.audit import (
    AuditResult,
    alarm_delta,
    audit_precision,
    audit_reviews,
    first_alarm,
)
from surematch.feedback.learn import Learned, learn, settle, undo
from surematch.feedback.queue import (
    ORDERS,
    QueueItem,
    ReviewQueue,
    audit_draw,
    edge_distance,
    order_items,
    review_order,
)
from surematch.feedback.store import (
    DECISIONS,
    FeedbackStore,
    LabelledFeedback,
    Review,
    export_labelled,
    labelled_queries,
    latest_reviews,
    write_labelled,
)
from surematch.feedback.traffic import TrafficMeter

__all__ = [
    "DECISIONS",
    "ORDERS",
    "AuditResult",
    "FeedbackStore",
    "LabelledFeedback",
    "Learned",
    "QueueItem",
    "Review",
    "ReviewQueue",
    "TrafficMeter",
    "alarm_delta",
    "audit_draw",
    "audit_precision",
    "audit_reviews",
    "edge_distance",
    "export_labelled",
    "first_alarm",
    "labelled_queries",
    "latest_reviews",
    "learn",
    "order_items",
    "review_order",
    "settle",
    "undo",
    "write_labelled",
]
