"""The review queue: one item per normalised query with its count, ordered by the traffic a
review would settle, audits first, resolved items gone."""

from __future__ import annotations

from typing import Any

import pytest

from surematch.errors import InputError
from surematch.feedback import ReviewQueue, order_items


def result(query: str, top: str = "a", p: float = 0.5, band: str = "review") -> dict[str, Any]:
    return {"query": query, "matches": [{"id": top, "text": top.upper(), "probability": p,
                                         "band": band},
                                        {"id": "z", "text": "Z", "probability": 0.1,
                                         "band": "reject"}]}


def test_identical_normalised_queries_are_one_item_with_their_count() -> None:
    queue = ReviewQueue(audit_fraction=0.0)
    queue.observe([result("Auto mechanic"), result("auto  MECHANIC!")], now=10.0)
    queue.observe([result("auto mechanics", p=0.6)], now=20.0)
    [item] = queue.items()
    assert (item.count, item.first_seen, item.last_seen) == (3, 10.0, 20.0)
    assert (item.query, item.probability) == ("auto mechanics", 0.6)  # the latest sighting
    assert item.to_dict()["settles"] == pytest.approx(3 * 0.4)


def test_items_are_ordered_by_traffic_settled_and_leave_once_resolved() -> None:
    queue = ReviewQueue(audit_fraction=0.0)
    queue.observe([result("rare", p=0.3)] + [result("often", p=0.8)] * 5
                  + [result("accepted", band="accept", p=0.99)])
    # often: 5 x 0.2 = 1.0 ahead of rare: 1 x 0.7; an accepted top match is not in question
    assert [i.query for i in queue.items()] == ["often", "rare"]
    # by band edge: rare (0.05 from 0.35) before often (0.45 from it), whatever the traffic
    assert [i.query for i in queue.items(order="edge", accept_at=0.35,
                                         reject_below=0.01)] == ["rare", "often"]
    resolved = queue.resolve("OFTEN")
    assert resolved is not None and resolved.count == 5
    assert [i.query for i in queue.items(limit=5)] == ["rare"]
    queue.observe([result("rare", band="accept", p=0.97)])  # now auto-accepted: settled
    assert len(queue) == 0


def test_audits_come_first_oldest_first_then_conflicts() -> None:
    queue = ReviewQueue(audit_fraction=1.0)
    queue.observe([result("first", band="accept", p=0.99)], now=1.0)
    queue.observe([result("second", p=0.4)], now=2.0)
    audit_items = queue.items()
    assert [(i.query, i.audit) for i in audit_items] == [("first", True), ("second", True)]
    plain = ReviewQueue(audit_fraction=0.0)
    plain.observe([result("busy", p=0.5)] * 9)
    plain.conflict("mechanic", ["bike", "car"])
    assert [(i.query, i.conflict) for i in plain.items()] == [
        ("mechanic", ["bike", "car"]), ("busy", [])]


def test_the_queue_keeps_at_most_max_items_and_random_order_is_seeded() -> None:
    queue = ReviewQueue(audit_fraction=0.0, max_items=3)
    queue.observe([result(f"q{i}") for i in range(5)])
    assert sorted(i.query for i in queue.items()) == ["q2", "q3", "q4"]
    items = queue.items()
    assert order_items(items, "random", seed=1) == order_items(items, "random", seed=1)
    with pytest.raises(InputError):
        order_items(items, "loudest")  # type: ignore[arg-type]
