"""ReferenceIndex with a tiny model (vectors table + skip head): add, get, delete, count, match."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from surematch.data import References
from surematch.encoders.vectors import PrecomputedVectors
from surematch.errors import InputError, SurematchError
from surematch.heads import build_head
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel

DIM = 8


def unit(*xs: float) -> list[float]:
    v = np.zeros(DIM)
    v[: len(xs)] = xs
    return (v / np.linalg.norm(v)).tolist()


def tiny_model(table: dict[str, list[float]], seed: int = 0) -> SimilarityModel:
    """Embeds the names of `table` as exactly their rows (the skip head's correction is zeroed)."""
    import torch

    torch.manual_seed(seed)
    names = list(table)
    head = build_head([{"kind": "skip"}], DIM)
    with torch.no_grad():
        head.fc.weight.zero_()
    return SimilarityModel(PrecomputedVectors(DIM, names, np.array([table[n] for n in names])),
                           head)


TABLE = {"a": unit(1), "a2": unit(1, 0.1), "b": unit(0, 1), "c": unit(0, 0, 1),
         "q_a": unit(1, 0.02), "q_far": unit(0, 0, 0, 1)}


@pytest.fixture
def model() -> SimilarityModel:
    return tiny_model(TABLE)


@pytest.fixture
def index(tmp_path: Path, model: SimilarityModel):
    idx = ReferenceIndex.create(tmp_path / "ix", model)
    idx.add(References(["A", "A2", "B", "C"], ["a", "a2", "b", "c"],
                       [{"lang": "en", "n": 1}, {"lang": "de", "n": 2}, {"lang": "en", "n": 3},
                        {"lang": "fr", "n": 4}]), progress=False)
    yield idx
    idx.close()


def test_add_get_count_delete(index: ReferenceIndex) -> None:
    assert index.count() == 4 and index.count({"lang": "en"}) == 2
    got = index.get(["B", "missing"])
    assert got[0] is not None and got[0].text == "b" and got[0].payload == {"lang": "en", "n": 3}
    assert got[1] is None
    assert index.delete(["B", "missing"]) == 1
    assert index.count() == 3 and index.get(["B"]) == [None]


def test_readding_is_idempotent_and_updates(index: ReferenceIndex) -> None:
    index.add(References(["A"], ["a"], [{"lang": "es"}]), progress=False)
    assert index.count() == 4 and index.get(["A"])[0].payload == {"lang": "es"}


def test_match_orders_by_similarity_and_shows_text(index: ReferenceIndex) -> None:
    result = index.match("q_a", k=3)
    assert [m.id for m in result.matches] == ["A", "A2", "B"]
    top = result.matches[0]
    assert top.text == "a" and top.payload == {"lang": "en", "n": 1}
    assert top.similarity == pytest.approx(float(np.dot(TABLE["q_a"], TABLE["a"])), abs=1e-5)
    assert top.probability is None and top.band is None and top.percent is None
    assert not result.no_match and result.embedding_confidence == pytest.approx(1.0)
    d = result.to_dict()
    assert set(d) == {"query", "matches", "embedding_confidence", "rules_fired", "no_match"}
    assert set(d["matches"][0]) == {"id", "text", "payload", "similarity", "probability",
                                    "percent", "band", "kind"}  # kind: issue #13
    assert d["matches"][0]["kind"] == "title"


def test_filters_through_match(index: ReferenceIndex) -> None:
    assert [m.id for m in index.match("q_a", k=4, filter={"lang": "de"}).matches] == ["A2"]
    spec = {"must": [{"key": "n", "range": {"gte": 2}}], "must_not": [{"key": "lang",
                                                                       "any": ["fr"]}]}
    assert [m.id for m in index.match("q_a", k=4, filter=spec).matches] == ["A2", "B"]
    result = index.match("q_a", k=4, filter={"lang": "xx"})
    assert result.matches == [] and result.no_match  # uncalibrated: nothing returned
    with pytest.raises(InputError, match="range"):
        index.match("q_a", filter={"must": [{"key": "n", "range": {"gte": "x"}}]})


def test_match_batch_matches_single(index: ReferenceIndex) -> None:
    batch = index.match_batch(["q_a", "q_far"], k=2)
    assert [r.query for r in batch] == ["q_a", "q_far"]
    assert batch[0].matches == index.match("q_a", k=2).matches
    assert index.match_batch([], k=2) == []


def test_model_mismatch_names_both_ids(tmp_path: Path, index: ReferenceIndex) -> None:
    index.close()
    other = tiny_model(TABLE)
    with __import__("torch").no_grad():
        next(other.head.parameters()).add_(0.5)
    mine, theirs = tiny_model(TABLE).identity(), other.identity()
    assert mine != theirs
    with pytest.raises(SurematchError, match=f"{mine}.*{theirs}"):
        ReferenceIndex.open(tmp_path / "ix", other)
    with pytest.raises(SurematchError, match=f"{mine}.*{theirs}"):
        ReferenceIndex.create(tmp_path / "ix", other)


def test_search_width_reaches_the_store_and_is_checked(tmp_path: Path,
                                                      index: ReferenceIndex) -> None:
    index.close()
    model = tiny_model(TABLE)
    with ReferenceIndex.open(tmp_path / "ix", model, search_ef=200) as idx:
        assert idx.store.search_ef == 200
        assert idx.match("q_a", k=1).matches[0].id == "A"
    with pytest.raises(InputError, match="search_ef must be a positive integer"):
        ReferenceIndex.open(tmp_path / "ix", model, search_ef=0)
    with ReferenceIndex.open(tmp_path / "ix", model) as idx:  # the failed open let go of it
        assert idx.count() == 4


def test_open_missing_index(tmp_path: Path, model: SimilarityModel) -> None:
    with pytest.raises(SurematchError, match="no index"):
        ReferenceIndex.open(tmp_path / "nothing", model)


@pytest.mark.parametrize(("ids", "texts", "payloads", "message"), [
    (["A", "A"], ["a", "a"], [{}, {}], "more than once"),
    ([""], ["a"], [{}], "empty"),
    ([3], ["a"], [{}], "must be a string"),
    (["A"], [""], [{}], "no text"),
    (["A"], ["a"], [{"x": float("nan")}], "NaN"),
    (["A"], ["a"], [{"x": object()}], "not JSON"),
    (["A"], ["a"], [{"x": "y" * 70_000}], "bytes as JSON"),
    (["A"], ["a"], [{"_surematch_text": "y"}], "reserved"),
])
def test_bad_references_store_nothing(index: ReferenceIndex, ids, texts, payloads, message,
                                      ) -> None:
    with pytest.raises(InputError, match=message):
        index.add(References(ids, texts, payloads), progress=False)
    assert index.count() == 4


def test_bad_queries(index: ReferenceIndex) -> None:
    with pytest.raises(InputError, match="k must"):
        index.match("q_a", k=0)
    with pytest.raises(InputError, match="empty"):
        index.match("  ")
    with pytest.raises(InputError, match="must be a list"):
        index.match_batch("q_a")


class FakeBands:
    def band(self, p: np.ndarray) -> np.ndarray:
        """The bands of probabilities [N], like TriageBands.band."""
        return np.where(p >= 0.9, "accept", np.where(p >= 0.5, "review", "reject"))


class FakeCalibration:
    """probability = similarity (clipped), scaled by the query's embedding confidence."""

    bands = FakeBands()
    evidence = ("overlap",)  # the evidence it reads: the matcher computes it for it

    def probabilities(self, similarities: np.ndarray, confidence: np.ndarray,
                      evidence: dict[str, np.ndarray] | None = None) -> np.ndarray:
        assert similarities.ndim == 2 and confidence.shape == (len(similarities),)
        assert evidence is not None and evidence["overlap"].shape == similarities.shape
        return np.clip(similarities, 0, 1) * confidence[:, None]

    def bands_of(self, probs: np.ndarray, similarities: np.ndarray,
                 evidence: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The bands [Q, k] of probabilities [Q, k], like MatchCalibration.bands_of."""
        return self.bands.band(probs.reshape(-1)).reshape(probs.shape)


def test_calibrated_matches_and_open_set(index: ReferenceIndex) -> None:
    from surematch.index.applied_calibration import Calibration

    index.calibration = Calibration(FakeCalibration())
    top = index.match("q_a", k=2).matches[0]
    assert top.probability == pytest.approx(top.similarity)
    assert top.percent == pytest.approx(100 * top.similarity) and top.band == "accept"
    far = index.match("q_far", k=2)  # orthogonal to every reference: similarity 0
    assert far.matches and far.matches[0].band == "reject" and far.no_match
    assert far.best is None and far.to_dict()["no_match"] is True


def test_uncalibrated_model_without_folder(model: SimilarityModel) -> None:
    from surematch.index.applied_calibration import Calibration

    assert not Calibration.of(model).calibrated


def test_saved_calibration_is_used(tmp_path: Path, index: ReferenceIndex,
                                   model: SimilarityModel) -> None:
    """A real MatchCalibration saved beside the model gives probabilities and bands."""
    from surematch.confidence.file.store import save_calibration
    from surematch.confidence.match_calibration import fit_match_calibration
    from surematch.index.applied_calibration import Calibration

    rng = np.random.default_rng(0)
    top1 = rng.uniform(0.2, 1.0, 400)
    sims = np.stack([top1, top1 - rng.uniform(0, 0.2, 400)], axis=1)
    correct = rng.uniform(size=400) < top1  # likelier right the more similar
    (tmp_path / "m").mkdir()
    save_calibration(tmp_path / "m", fit_match_calibration(sims, correct, groups=list(range(400))),
                     model.identity())
    model.folder = tmp_path / "m"
    index.calibration = Calibration.of(model)
    assert index.calibration.calibrated
    for m in index.match("q_a", k=3).matches:
        assert 0 <= m.probability <= 1 and m.band in {"accept", "review", "reject"}
        assert m.percent == pytest.approx(100 * m.probability)


def test_the_no_match_rule_decides_on_every_match(index: ReferenceIndex) -> None:
    """A calibration whose reject band is the no-match rule: the matcher computes the
    evidence the rule reads and rejects the query far from every reference."""
    from dataclasses import replace

    from surematch.confidence.certification.no_match import FEATURES, NoMatchRule
    from surematch.confidence.match_calibration import fit_match_calibration
    from surematch.index.applied_calibration import Calibration

    rng = np.random.default_rng(0)
    top1 = rng.uniform(0.2, 1.0, 400)
    sims = np.stack([top1, top1 - rng.uniform(0, 0.2, 400)], axis=1)
    cal = fit_match_calibration(sims, rng.uniform(size=400) < top1, groups=list(range(400)))
    rule = NoMatchRule(FEATURES, (1.0, 0.0, 0.0, 0.0), 0.5, 0.01, 0.025, 0.01, 300, 0.0, "")
    cal = replace(cal, bands=replace(cal.bands, reject_below=None), no_match=rule)
    index.calibration = Calibration(cal)
    assert set(index.calibration.evidence) >= {"overlap", "agreement", "head"}
    far, near = index.match("q_far", k=3), index.match("q_a", k=1)
    assert far.no_match and all(m.band == "reject" for m in far.matches)
    assert not near.no_match and near.matches[0].band != "reject"
    assert index.match_batch(["q_far"], 3)[0].no_match
    # on the head word alone: "q_a" ends on no word a stored text ends on, "a" does
    heads = replace(rule, weights=(0.0, 0.0, 0.0, 1.0))
    index.calibration = Calibration(replace(cal, no_match=heads))
    assert index.match("q_a", k=1).no_match and not index.match("a", k=1).no_match
    # a rule saved before head words existed reads the other three
    old = NoMatchRule(FEATURES[:3], (1.0, 0.0, 0.0), 0.5, 0.01, 0.025, 0.01, 300, 0.0, "")
    index.calibration = Calibration(replace(cal, no_match=old))
    assert "head" not in index.calibration.evidence and index.match("q_far", k=3).no_match
