"""The reference embedding cache: a text is embedded once per model id and runtime, by
whichever of calibrate, evaluate and index asks first; the others read the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.index.test_reference_index import TABLE, tiny_model

from surematch.cached_embedder import CachedEmbedder
from surematch.data import References
from surematch.index.reference_index import ReferenceIndex


def counting(model: Any) -> list[str]:
    seen: list[str] = []
    real = model.embed_with_confidence

    def spy(items: Any, batch_size: int = 256) -> Any:
        seen.extend(items)
        return real(items, batch_size)

    model.embed_with_confidence = spy
    return seen


def test_texts_are_embedded_once_across_processes_and_keyed_by_runtime(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model(TABLE)
    seen = counting(model)
    first = CachedEmbedder(model, tmp_path)
    vectors, confidence = first.embed_with_confidence(["a", "b", "a"])
    assert seen == ["a", "b"]
    np.testing.assert_array_equal(vectors, model.embed(["a", "b", "a"]))
    assert confidence.tolist() == [1.0, 1.0, 1.0]
    again = CachedEmbedder(model, tmp_path)  # another run: read from disk
    np.testing.assert_array_equal(again.embed(["b", "a", "c"]), model.embed(["b", "a", "c"]))
    assert seen == ["a", "b", "c"]
    monkeypatch.setattr(type(model), "runtime", property(lambda self: "onnx-int8"),
                        raising=False)
    CachedEmbedder(model, tmp_path).embed(["a"])  # another runtime: another cache
    assert seen == ["a", "b", "c", "a"]


def test_an_index_built_through_the_cache_embeds_nothing_evaluated_before(
        tmp_path: Path) -> None:
    from surematch.evaluation.ranked_queries import rank_queries

    model = tiny_model(TABLE)
    seen = counting(model)
    refs = References(["A", "B", "C"], ["a", "b", "c"], [{}, {}, {}])
    from surematch.data.samples import LabelledQueries

    ranked = rank_queries(CachedEmbedder(model, tmp_path), refs,
                          LabelledQueries(["q_a"], ["A"]), k=2)
    assert ranked.ids[0][0] == "A" and sorted(seen) == ["a", "b", "c", "q_a"]
    with ReferenceIndex.create(tmp_path / "ix", CachedEmbedder(model, tmp_path)) as index:
        index.add(refs, progress=False)
        assert index.match("q_a", k=1).matches[0].id == "A"
    assert sorted(seen) == ["a", "b", "c", "q_a"]  # references (and the query) from the cache
