"""`calibrate --feedback INDEX` reads the references' rows from the index instead of embedding
them again: the same calibration without running the encoder on a reference text; rows
another runtime embedded are refused with the fix, and an index that does not record its
rows' runtime has them embedded again.

A tiny text model (torch) and an index of 24 references with a synonym each.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.confidence.store import calibration_document
from surematch.data import References
from surematch.errors import InputError
from surematch.feedback import FeedbackStore
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel
from surematch.workflows.calibrate import calibrate_model
from surematch.workflows.feedback import stored_rows

WORDS = ["nurse", "baker", "driver", "welder", "pilot", "chef", "tailor", "miner"]
IDS = [f"r{i}" for i in range(24)]
TITLES = [f"{WORDS[i % 8]} {WORDS[i // 8 % 8]}" for i in range(24)]
REFS = References(IDS, TITLES, [{"n": i} for i in range(24)],
                  [[(f"{t} assistant", "synonym")] for t in TITLES])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("calibrate_index")
    model_dir = save_tiny_text_model(root)
    with ReferenceIndex.create(root / "ix", SimilarityModel.load(model_dir)) as index:
        index.add(REFS, progress=False)
    with FeedbackStore(root / "ix") as store:
        for n in range(120):  # reviews naming the right reference: half of them easy
            right, shown = IDS[n % 24], IDS[(n * 5) % 24]
            store.add(f"{TITLES[n % 24]} {n}" if n % 2 else f"{WORDS[n * 3 % 8]} {n}",
                      "accept" if shown == right else "correct", shown_id=shown,
                      corrected_id=None if shown == right else right)
    return model_dir, root / "ix"


@pytest.fixture()
def copies(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(built[0], tmp_path / "model")
    shutil.copytree(built[1], tmp_path / "ix")
    return tmp_path / "model", tmp_path / "ix"


@pytest.fixture()
def embedded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The texts the torch model embeds while the test runs."""
    seen: list[str] = []
    real = SimilarityModel.embed_with_confidence

    def spy(self: SimilarityModel, items: Any, *args: Any, **kw: Any) -> Any:
        seen.extend(items)
        return real(self, items, *args, **kw)

    monkeypatch.setattr(SimilarityModel, "embed_with_confidence", spy)
    real_embed = SimilarityModel.embed

    def spy_embed(self: SimilarityModel, items: Any, *args: Any, **kw: Any) -> Any:
        seen.extend(items)
        return real_embed(self, items, *args, **kw)

    monkeypatch.setattr(SimilarityModel, "embed", spy_embed)
    yield seen


def test_the_stored_rows_are_the_references_embedded(built: tuple[Path, Path]) -> None:
    model = SimilarityModel.load(built[0])
    with ReferenceIndex.open(built[1], model) as index:
        assert index.runtimes == ["torch"]
        refs, rows = stored_rows(index)
    assert sorted(refs.ids) == sorted(IDS)
    _, flat, kinds = refs.flat()
    assert rows is not None and rows.shape == (48, model.dim)
    assert kinds.count("synonym") == 24
    np.testing.assert_allclose(rows, model.embed(flat), atol=1e-6)


def test_calibrate_against_an_index_embeds_no_reference(copies: tuple[Path, Path],
                                                        tmp_path: Path,
                                                        embedded: list[str]) -> None:
    model_dir, ix = copies
    calibrate_model(model_dir, feedback=ix, runtime="torch")
    from_index = calibration_document(model_dir)["retrieval"]
    texts = set(TITLES) | {f"{t} assistant" for t in TITLES}
    assert embedded and not texts & set(embedded)  # the reviews' queries only
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": i, "text": t, "n": n, "texts": [
        {"text": f"{t} assistant", "kind": "synonym"}]}) + "\n"
        for n, (i, t) in enumerate(zip(IDS, TITLES, strict=True))), encoding="utf-8")
    calibrate_model(model_dir, feedback=ix, references=refs, runtime="torch")
    assert texts <= set(embedded)  # from a file: embedded
    from_file = calibration_document(model_dir)["retrieval"]
    assert _close(from_index, from_file)  # the same calibration


def test_rows_of_another_runtime_are_refused_with_the_fix(copies: tuple[Path, Path]) -> None:
    model_dir, ix = copies
    with ReferenceIndex.open(ix, SimilarityModel.load(model_dir)) as index:
        index.store.write_meta({**index.store.read_meta(), "runtimes": ["onnx-int8"]})
    with pytest.raises(InputError, match="runtime onnx-int8, not torch: calibrate with "
                                         "--runtime onnx-int8, or give --references"):
        calibrate_model(model_dir, feedback=ix, runtime="torch")


def test_an_index_without_recorded_runtimes_has_its_references_embedded(
        copies: tuple[Path, Path], embedded: list[str]) -> None:
    model_dir, ix = copies
    with ReferenceIndex.open(ix, SimilarityModel.load(model_dir)) as index:
        meta = index.store.read_meta()
        del meta["runtimes"]  # written before runtimes were recorded
        index.store.write_meta(meta)
        assert index.runtimes == ["unknown"]
    calibrate_model(model_dir, feedback=ix, runtime="torch")
    assert set(TITLES) <= set(embedded)
    with ReferenceIndex.open(ix, SimilarityModel.load(model_dir)) as index:
        index.add_texts("r0", ["nurse nurse aide"])
        assert index.runtimes == ["unknown", "torch"]  # a later write adds its runtime


def _close(a: Any, b: Any) -> bool:
    """Equal documents, numbers to 1e-4 relative (rows read back and rows embedded again
    differ by float rounding, which the logistic fit amplifies to ~1e-5)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return bool(np.isclose(a, b, rtol=1e-4, atol=1e-6))
    return bool(a == b)
