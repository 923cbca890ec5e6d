"""Same query, same answer: a text's vector does not depend on the batch it is embedded in,
its position, its padding or the thread count, on every runtime; a file of repeated titles
gets one answer per distinct title."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from surematch.data.esco import esco_references, read_esco
from surematch.folder import sha256_file
from surematch.index.reference_index import ReferenceIndex
from surematch.index.stores import IndexLocation
from surematch.loader import load_model
from surematch.runtime.export import quantize_graph
from surematch.runtime.onnx_model import OnnxModel
from surematch.runtime.threads import SMALL_BATCH
from surematch.workflows.match_file import match_file

pytestmark = pytest.mark.slow
TEXTS = ["nurse", "python developer", "Koch/Köchin", "aircraft instrument mecanic",
         "chief executive officer of a large company with offices in many countries", "x",
         "truck driver (long haul)", "software developer", "bicycle mechanic", "auto mechanic"]
BATCHES = [TEXTS, TEXTS[::-1], TEXTS[3:] + TEXTS[:3],
           [t for _ in range(5) for t in TEXTS[::2]],  # more than SMALL_BATCH: every core
           TEXTS * 7]


def references() -> list[str]:
    refs = esco_references(read_esco()[:80])
    return refs.texts


def assert_batch_invariant(model: object) -> None:
    """Each text alone, and inside each of BATCHES, gives the same vector and top match."""
    embed = model.embed  # type: ignore[attr-defined]
    refs = embed(references())
    alone = np.stack([embed([t])[0] for t in TEXTS])
    best = (alone @ refs.T).argmax(1)
    assert max(len(b) for b in BATCHES) > SMALL_BATCH
    for batch in BATCHES:
        got = embed(batch)
        want = np.stack([alone[TEXTS.index(t)] for t in batch])
        np.testing.assert_allclose(got, want, atol=2e-6)
        np.testing.assert_array_equal((got @ refs.T).argmax(1),
                                      [best[TEXTS.index(t)] for t in batch])


@pytest.mark.parametrize("runtime", ["torch", "onnx", "onnx-int8"])
def test_a_text_embedded_alone_and_in_batches_of_other_lengths_gives_the_same_vector(
        plain, runtime: str) -> None:
    assert_batch_invariant(load_model(plain[1], runtime))


def test_an_int8_graph_with_dynamic_scales_runs_one_text_at_a_time(plain, tmp_path) -> None:
    """Graphs exported before the scales were fixed: batched, a text's vector moved with its
    batch; run one text at a time it is its own."""
    folder = tmp_path / "m"
    shutil.copytree(plain[1], folder)
    quantize_graph(folder / "model.onnx", folder / "model.int8.onnx")
    manifest = json.loads((folder / "runtime.json").read_text())
    manifest["graphs"]["onnx-int8"]["sha256"] = sha256_file(folder / "model.int8.onnx")
    del manifest["int8_activations"]
    (folder / "runtime.json").write_text(json.dumps(manifest))
    old = OnnxModel(folder, "onnx-int8")
    assert old.run_batch == 1
    assert_batch_invariant(old)
    old.run_batch = 64  # as before: the batch's activation range scales every text in it
    moved = np.abs(old.embed(TEXTS) - np.stack([old.embed([t])[0] for t in TEXTS])).max()
    assert moved > 1e-3


def test_a_file_of_repeated_titles_gets_one_answer_per_distinct_title(plain, tmp_path) -> None:
    folder = plain[1]
    refs = esco_references(read_esco()[:80])
    with ReferenceIndex.create(tmp_path / "index", load_model(folder, "onnx-int8")) as index:
        index.add(refs, progress=False)
    rng = np.random.default_rng(0)
    rows = [TEXTS[i] for i in rng.integers(0, len(TEXTS), 300)]
    queries = tmp_path / "q.csv"
    with queries.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["query"], *([r] for r in rows)])
    out = tmp_path / "out.csv"
    match_file(folder, IndexLocation(str(tmp_path / "index")), queries, out, k=3,
               batch_size=16, runtime="onnx-int8")
    answers: dict[str, set[tuple[str, ...]]] = {}
    with out.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            answers.setdefault(row["query"], set()).add(tuple(
                f"{row[f'id_{i}']}:{float(row[f'similarity_{i}']):.5f}" for i in (1, 2, 3)))
    assert set(answers) == set(TEXTS)
    assert all(len(a) == 1 for a in answers.values()), answers
