"""Neural exclusion rules: firing, radius edges (>= is inside), listing, deletion, one query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.index.test_reference_index import tiny_model, unit

from surematch.data import References
from surematch.errors import InputError
from surematch.index.reference_index import ReferenceIndex
from surematch.index.rules import EXCLUDE_SIMILARITY, TRIGGER_SIMILARITY, new_rule

# query q sits at cosine exactly 0.6 from trigger t (3-4-5 triangle); X and X2 are references
TABLE = {"t": unit(1), "q": unit(0.6, 0.8), "q_off": unit(0, 0, 0, 0, 1),
         "x": unit(0, 0, 1), "x2": unit(0, 0, 0.6, 0.8), "y": unit(0, 0, 0.5, 0, 0, 1)}


@pytest.fixture
def index(tmp_path: Path):
    idx = ReferenceIndex.create(tmp_path / "ix", tiny_model(TABLE))
    idx.add(References(["X", "X2", "Y"], ["x", "x2", "y"], [{}, {}, {}]), progress=False)
    yield idx
    idx.close()


def ids(index: ReferenceIndex, query: str, k: int = 3) -> list[str]:
    return [m.id for m in index.match(query, k=k).matches]


def test_rule_fires_and_excludes(index: ReferenceIndex) -> None:
    assert set(ids(index, "q")) == {"X", "X2", "Y"}
    index.add_rule("t", "x", id="r1", trigger_similarity=0.5, exclude_similarity=0.9)
    result = index.match("q", k=3)
    assert result.rules_fired == ["r1"]
    assert {m.id for m in result.matches} == {"X2", "Y"}  # X excluded; X2 is at 0.6 from x


def test_rule_does_not_fire_far_from_trigger(index: ReferenceIndex) -> None:
    index.add_rule("t", "x", id="r1", trigger_similarity=0.5, exclude_similarity=0.5)
    result = index.match("q_off", k=3)
    assert result.rules_fired == [] and {m.id for m in result.matches} == {"X", "X2", "Y"}


@pytest.mark.parametrize(("trigger", "fires"), [(0.6, True), (0.601, False)])
def test_trigger_radius_edge_is_inside(index: ReferenceIndex, trigger: float, fires: bool,
                                       ) -> None:
    index.add_rule("t", "x", id="edge", trigger_similarity=trigger, exclude_similarity=0.99)
    assert index.match("q").rules_fired == (["edge"] if fires else [])


@pytest.mark.parametrize(("exclude", "kept"), [(0.6, {"Y"}), (0.601, {"X2", "Y"})])
def test_exclude_radius_edge_is_inside(index: ReferenceIndex, exclude: float, kept: set[str],
                                       ) -> None:
    index.add_rule("t", "x", id="edge", trigger_similarity=0.5, exclude_similarity=exclude)
    assert set(ids(index, "q")) == kept  # x2 is at exactly 0.6 from x; y at 0.447


def test_list_and_delete_rules(index: ReferenceIndex) -> None:
    index.add_rule("t", "x", id="r1", note="why")
    derived = index.add_rule("t", "y")
    assert derived == index.add_rule("t", "y")  # same texts, same id: replaced, not doubled
    rules = {r.id: r for r in index.list_rules()}
    assert set(rules) == {"r1", derived}
    assert rules["r1"].note == "why" and rules[derived].note is None
    assert (rules["r1"].trigger_similarity, rules["r1"].exclude_similarity) == (
        TRIGGER_SIMILARITY, EXCLUDE_SIMILARITY)
    assert index.delete_rules(["r1", "nope"]) == 1
    assert [r.id for r in index.list_rules()] == [derived]


def test_many_rules_cost_one_rules_query(index: ReferenceIndex) -> None:
    for n in range(5):
        index.add_rule("t", "x" if n % 2 else "y", id=f"r{n}", trigger_similarity=0.5,
                       exclude_similarity=0.9)
    calls: list[int] = []
    search = index.rules.store.search

    def spy(vectors, *args, **kwargs):
        calls.append(len(np.asarray(vectors)))
        return search(vectors, *args, **kwargs)

    index.rules.store.search = spy  # type: ignore[method-assign]
    result = index.match("q", k=1)
    assert calls == [1] and sorted(result.rules_fired) == [f"r{n}" for n in range(5)]
    assert [m.id for m in result.matches] == ["X2"]  # x and y (and their radius) excluded
    index.match_batch(["q", "q_off", "t"], k=2)
    assert calls == [1, 3]  # a batch of queries: still one rules search


def test_overfetch_keeps_k_results(tmp_path: Path) -> None:
    """Rules drop the nearest references; k others still come back."""
    rng = np.random.default_rng(0)
    table = {f"n{i}": unit(*(rng.normal(size=3) * 0.1 + [0, 0, 1])) for i in range(40)}
    table |= {f"f{i}": unit(*rng.normal(size=8)) for i in range(30)}
    table |= {"t": unit(1), "q": unit(1, 0, 0.5)}
    with ReferenceIndex.create(tmp_path / "ix", tiny_model(table)) as idx:
        names = [n for n in table if n[0] in "nf"]
        idx.add(References(names, names, [{}] * len(names)), progress=False)
        idx.add_rule("t", "n0", trigger_similarity=0.5, exclude_similarity=0.9)
        result = idx.match("q", k=10)
        assert len(result.matches) == 10
        assert not any(m.id.startswith("n") for m in result.matches)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"trigger": ""}, "trigger"), ({"exclude": 3}, "exclude"),
    ({"trigger_similarity": 1.5}, "trigger_similarity"),
    ({"exclude_similarity": -1}, "exclude_similarity"), ({"note": 5}, "note")])
def test_bad_rules(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        new_rule(**{"trigger": "t", "exclude": "x", **kwargs})
