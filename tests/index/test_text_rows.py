"""TextRows: a match reads which text decided from kept rows, fetched once per reference and
texts; changed texts are fetched anew; the memory budget holds (both store backends)."""

from __future__ import annotations

from typing import Any

import numpy as np
from tests.index import test_multitext

from surematch.index.reference_index import ReferenceIndex
from surematch.index.text_rows import TextRows

make, index = test_multitext.make, test_multitext.index  # the references with several texts


def spy(index: ReferenceIndex) -> dict[str, list[Any]]:
    """Records the store's search calls (their with_vectors) and get calls (their ids)."""
    calls: dict[str, list[Any]] = {"search": [], "get": []}
    search, get = index.store.search, index.store.get

    def searching(*args: Any, **kwargs: Any) -> Any:
        calls["search"].append(kwargs.get("with_vectors", False))
        return search(*args, **kwargs)

    def getting(ids: Any, **kwargs: Any) -> Any:
        calls["get"].append(sorted(ids))
        return get(ids, **kwargs)

    index.store.search, index.store.get = searching, getting  # type: ignore[method-assign]
    return calls


def test_a_match_reads_its_best_text_from_rows_fetched_once(index: ReferenceIndex) -> None:
    calls = spy(index)
    first = index.match("q_a_syn", k=3)
    assert (first.matches[0].id, first.matches[0].text) == ("A", "a_syn")
    assert calls == {"search": [False], "get": [["A", "B", "C"]]}  # no vectors searched
    again = index.match_batch(["q_b_syn", "q_a_syn"], k=3)
    assert [(r.matches[0].id, r.matches[0].text) for r in again] == [("B", "b_syn"),
                                                                    ("A", "a_syn")]
    assert again[1].matches == first.matches
    assert calls == {"search": [False, False], "get": [["A", "B", "C"]]}  # rows kept


def test_a_reference_whose_texts_change_is_read_anew(index: ReferenceIndex) -> None:
    index.match("q_new", k=3)  # keeps A's rows as they were
    index.add_texts("A", [("new", "synonym")])
    top = index.match("q_new", k=1).matches[0]
    assert (top.id, top.text, top.kind) == ("A", "new", "synonym")
    assert index.delete_text("A", "new")
    assert index.match("q_new", k=1).matches[0].text != "new"


def test_rows_of_texts_the_store_no_longer_holds_are_none(index: ReferenceIndex) -> None:
    rows = TextRows(index.store)
    a, stale, gone = rows.rows([("A", ("a", "a_syn", "a_desc")), ("B", ("b", "old")),
                                ("Z", ("z",))])
    assert a is not None and a.shape == (3, index.store.dim)
    assert np.allclose(a @ a.T, np.eye(3), atol=1e-5)  # three unit rows, one per text
    assert stale is None and gone is None and len(rows) == 1


def test_least_recently_used_rows_go_first_beyond_the_budget(index: ReferenceIndex) -> None:
    a_key, b_key = ("A", ("a", "a_syn", "a_desc")), ("B", ("b", "b_syn"))
    rows = TextRows(index.store, max_bytes=1)  # room for one entry only
    rows.rows([a_key])
    rows.rows([b_key])
    assert len(rows) == 1 and list(rows._rows) == [b_key]
    roomy = TextRows(index.store)
    roomy.rows([a_key, b_key])
    roomy.rows([a_key])  # A used last: B goes first
    c_key, c_rows = ("C", ("c",)), roomy._rows[a_key][:1].copy()
    roomy.max_bytes = roomy._rows[a_key].nbytes + c_rows.nbytes  # A and C fit, not B too
    roomy._keep(c_key, c_rows)
    assert list(roomy._rows) == [a_key, c_key]
