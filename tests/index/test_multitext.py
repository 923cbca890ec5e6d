"""References with several texts (issue #13): one point per reference, one row per text, on
both store backends; the best text decides a reference's similarity and is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.index.test_reference_index import tiny_model, unit

from surematch.data import References
from surematch.errors import InputError, SurematchError
from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores.edge import EdgeStore
from surematch.model import SimilarityModel

TABLE = {"a": unit(1), "a_syn": unit(0, 1), "a_desc": unit(0, 0, 1), "b": unit(0, 0, 0, 1),
         "b_syn": unit(0, 0, 0, 0, 1), "c": unit(0, 0, 0, 0, 0, 1), "new": unit(0, 0, 0, 0, 0,
                                                                             0, 1),
         "q_a_syn": unit(0.1, 1), "q_b_syn": unit(0, 0, 0, 0.2, 1), "q_new": unit(0, 0, 0, 0,
                                                                                  0, 0, 1, 0.1),
         "t": unit(0, 0, 0, 0, 0, 0, 0, 1), "q_t_a": unit(0.3, 0, 0, 0, 0, 0, 0, 1)}


def refs() -> References:
    return References(["A", "B", "C"], ["a", "b", "c"],
                      [{"lang": "en"}, {"lang": "de"}, {"lang": "en"}],
                      [[("a_syn", "synonym"), ("a_desc", "description")], [("b_syn", "synonym")],
                       []])


@pytest.fixture(params=["edge", "local"])
def make(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         ) -> Iterator:
    """Opens a ReferenceIndex in a folder (edge), or through qdrant-client's local mode."""
    opened: list[ReferenceIndex] = []
    if request.param == "local":
        from surematch.index.stores.server import ServerStore

        def local_store(location, dim, *, collection="references", multivector=False):
            return ServerStore(path=str(tmp_path / f"local-{collection}"), collection=collection,
                               dim=dim, multivector=multivector)

        monkeypatch.setattr("surematch.index.reference_index.open_store", local_store)
        monkeypatch.setattr("surematch.index.stores.IndexLocation.require", lambda *a: None)

    def make_index(model: SimilarityModel | None = None) -> ReferenceIndex:
        idx = ReferenceIndex.create(tmp_path / "ix", model or tiny_model(TABLE))
        opened.append(idx)
        return idx

    yield make_index
    for idx in opened:
        idx.close()


@pytest.fixture
def index(make) -> ReferenceIndex:
    idx = make()
    assert idx.store.multivector
    idx.add(refs(), progress=False, batch_size=2)  # batches split between references
    return idx


def test_get_returns_every_text_with_its_kind(index: ReferenceIndex) -> None:
    assert index.count() == 3 and index.count({"lang": "en"}) == 2
    a, missing = index.get(["A", "zz"])
    assert missing is None and a is not None
    assert (a.text, a.payload) == ("a", {"lang": "en"})
    assert a.texts == [("a", "title"), ("a_syn", "synonym"), ("a_desc", "description")]
    assert a.to_dict()["texts"][1] == {"text": "a_syn", "kind": "synonym"}
    assert index.get(["C"])[0].texts == [("c", "title")]


def test_match_is_one_row_per_reference_and_shows_the_best_text(index: ReferenceIndex) -> None:
    result = index.match("q_a_syn", k=3)
    ids = [m.id for m in result.matches]
    assert ids[0] == "A" and sorted(ids) == ["A", "B", "C"]  # one row per reference
    top = result.matches[0]
    assert (top.text, top.kind, top.payload) == ("a_syn", "synonym", {"lang": "en"})
    assert top.similarity == pytest.approx(float(np.dot(TABLE["q_a_syn"], TABLE["a_syn"])),
                                           abs=1e-5)
    assert top.to_dict()["kind"] == "synonym"
    b = index.match("q_b_syn", k=1).matches[0]
    assert (b.id, b.text, b.kind) == ("B", "b_syn", "synonym")
    assert index.match_batch(["q_a_syn"], k=3)[0].matches == result.matches


def test_filters_behave_as_before(index: ReferenceIndex) -> None:
    assert {m.id for m in index.match("q_b_syn", k=3, filter={"lang": "en"}).matches} == {
        "A", "C"}
    only = index.match("q_a_syn", k=3, filter={"lang": "de"}).matches
    assert [m.id for m in only] == ["B"]
    spec = {"must_not": [{"key": "lang", "any": ["en"]}]}
    assert [m.id for m in index.match("q_b_syn", k=3, filter=spec).matches] == ["B"]


def spy_on_embed(index: ReferenceIndex) -> list[list[str]]:
    """The texts the index's model is asked to embed from now on, one list per call."""
    embedded: list[list[str]] = []
    embed = index.model.embed

    def spy(texts, *args, **kwargs):
        embedded.append(list(texts))
        return embed(texts, *args, **kwargs)

    index.model.embed = spy  # type: ignore[method-assign]
    return embedded


def test_add_texts_embeds_only_the_new_ones(index: ReferenceIndex) -> None:
    embedded = spy_on_embed(index)
    assert index.add_texts("C", ["new", ("a_syn", "description"), "new"]) == 2
    assert embedded == [["new", "a_syn"]]
    assert index.get(["C"])[0].texts == [("c", "title"), ("new", "synonym"),
                                         ("a_syn", "description")]
    assert index.add_texts("C", ["new"]) == 0 and len(embedded) == 1  # held already
    top = index.match("q_new", k=1).matches[0]
    assert (top.id, top.text, top.kind) == ("C", "new", "synonym")
    assert index.count() == 3 and index.get(["C"])[0].payload == {"lang": "en"}


def test_add_texts_bad_input_changes_nothing(index: ReferenceIndex) -> None:
    before = index.get(["A"])[0]
    for texts, message in [(["new", ""], "empty text"), ([("new", "nickname")], "unknown kind"),
                           ([], "non-empty list"), ("new", "non-empty list"),
                           ([("new",)], "string or a")]:
        with pytest.raises(InputError, match=message):
            index.add_texts("A", texts)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no reference with id 'zz'"):
        index.add_texts("zz", ["new"])
    assert index.get(["A"])[0] == before


def test_delete_one_text_then_the_reference(index: ReferenceIndex) -> None:
    assert index.delete_text("A", "a_syn") is True
    assert index.get(["A"])[0].texts == [("a", "title"), ("a_desc", "description")]
    assert index.match("q_a_syn", k=1).matches[0].text in {"a", "a_desc"}
    assert index.delete_text("A", "a_syn") is False  # gone already
    assert index.delete_text("A", "a") is True  # the title may go: another text stays
    with pytest.raises(InputError, match="last text of reference 'A'; delete the reference"):
        index.delete_text("A", "a_desc")
    assert index.get(["A"])[0].texts == [("a_desc", "description")]
    with pytest.raises(InputError, match="no reference"):
        index.delete_text("zz", "a")
    assert index.delete(["A"]) == 1 and index.count() == 2
    assert "A" not in [m.id for m in index.match("q_a_syn", k=3).matches]


def test_readding_replaces_every_text(index: ReferenceIndex) -> None:
    index.add(References(["A"], ["a"], [{"lang": "fr"}]), progress=False)
    assert index.get(["A"])[0].texts == [("a", "title")] and index.count() == 3


@pytest.mark.parametrize(("extra", "message", "field"), [
    ([("", "synonym")], "empty text", "extra_texts[0][0]"),
    ([("x", "nickname")], "unknown kind 'nickname'", "extra_texts[0][0].kind"),
    ([("x",)], "string or a", "extra_texts[0][0]"),
])
def test_bad_texts_store_nothing(index: ReferenceIndex, extra, message, field) -> None:
    before = index.get(["A", "B", "C"])
    with pytest.raises(InputError, match=message) as err:
        index.add(References(["A", "N"], ["a", "n"], [{}, {}], [extra, []]), progress=False)
    assert err.value.field == field
    assert index.count() == 3 and index.get(["A", "B", "C"]) == before


def test_rule_compares_the_excluded_text_with_the_matched_text(make) -> None:
    """R has texts a and a_syn; a rule triggered by t excludes results near a. A query near t
    and a matches R through a: R is dropped; one matching R through a_syn keeps it."""
    idx = make()
    idx.add(References(["R", "B"], ["a", "b"], [{}, {}], [[("a_syn", "synonym")], []]),
            progress=False)
    idx.add_rule("t", "a", id="r1", trigger_similarity=0.5, exclude_similarity=0.9)
    near_a = idx.match("q_t_a", k=2)  # matches R through "a" (0.29) more than "a_syn" (0)
    assert near_a.rules_fired == ["r1"] and "R" not in [m.id for m in near_a.matches]
    table = {**TABLE, "q_t_syn": unit(0, 0.3, 0, 0, 0, 0, 0, 1)}
    idx.close()
    idx2 = make(tiny_model(table))
    kept = idx2.match("q_t_syn", k=2)  # matches R through "a_syn": not near "a", kept
    assert kept.rules_fired == ["r1"] and kept.matches[0].id == "R"
    assert kept.matches[0].text == "a_syn"


def test_one_vector_index_keeps_working(tmp_path: Path) -> None:
    """An index built before multivectors: opens, adds single texts, matches, deletes; a
    second text is refused with a message to rebuild."""
    EdgeStore(tmp_path / "ix" / "references", 8).close()  # the old layout: one vector a point
    with ReferenceIndex.create(tmp_path / "ix", tiny_model(TABLE)) as idx:
        assert not idx.store.multivector
        idx.add(References(["A", "B"], ["a", "b"], [{"n": 1}, {}]), progress=False)
        top = idx.match("q_a_syn", k=1).matches[0]
        assert (top.id, top.text, top.kind) == ("A", "a", "title")
        assert idx.get(["A"])[0].texts == [("a", "title")]
        with pytest.raises(SurematchError, match="Rebuild it"):
            idx.add_texts("A", ["a_syn"])
        with pytest.raises(SurematchError, match="Rebuild it"):
            idx.add(References(["C"], ["c"], [{}], [[("new", "synonym")]]), progress=False)
        with pytest.raises(InputError, match="last text"):
            idx.delete_text("A", "a")
        assert idx.count() == 2 and idx.delete(["A"]) == 1 and idx.count() == 1
    with ReferenceIndex.open(tmp_path / "ix", tiny_model(TABLE)) as idx:
        assert not idx.store.multivector and idx.count() == 1


def test_adding_again_embeds_only_what_changed(index: ReferenceIndex) -> None:
    """A rerun of an interrupted import skips references stored with the same texts."""
    embedded = spy_on_embed(index)
    assert index.add(refs(), progress=False) == 0 and embedded == []
    changed = refs()
    changed.payloads[2]["lang"] = "fr"  # C's payload changed, A and B as stored
    assert index.add(changed, progress=False) == 1 and embedded == [["c"]]
    assert index.get(["C"])[0].payload == {"lang": "fr"} and index.count() == 3
