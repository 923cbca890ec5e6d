"""export_model: one ONNX graph per precision, runtime.json, the tokenizer, nothing pickled."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from surematch.data.esco import esco_queries, esco_references, read_esco
from surematch.encoders.vectors import PrecomputedVectors
from surematch.errors import InputError, SurematchError
from surematch.folder import sha256_file
from surematch.heads import build_head
from surematch.model import SimilarityModel
from surematch.runtime.export import check_graph, export_model
from surematch.runtime.onnx_model import OnnxModel

TEXTS = ["python developer", "Koch/Köchin", "x", "", "  nurse  ",
         "chief executive officer of a large multinational company " * 8]  # the last truncated


@pytest.mark.slow
def test_folder_holds_both_graphs_the_tokenizer_and_their_checksums(plain):
    model, folder = plain
    manifest = json.loads((folder / "runtime.json").read_text())
    assert manifest["model_id"] == model.identity()
    assert manifest["tokenizer"]["max_seq_length"] == 64
    for runtime, name in (("onnx", "model.onnx"), ("onnx-int8", "model.int8.onnx")):
        entry = manifest["graphs"][runtime]
        assert entry["file"] == name and entry["model_id"] == model.identity()
        assert entry["sha256"] == sha256_file(folder / name)
    assert (folder / "tokenizer.json").is_file()
    # int8 weights, but the feed-forward down-projections stay fp32 (after_gelu)
    assert (folder / "model.int8.onnx").stat().st_size < (folder / "model.onnx").stat().st_size / 2


@pytest.mark.slow
def test_folder_has_no_pickle(plain):
    _, folder = plain
    for path in folder.rglob("*"):
        assert path.suffix not in {".pkl", ".pickle", ".pt", ".pth", ".bin", ".joblib"}, path
        if path.is_file():
            assert path.read_bytes()[:1] != b"\x80", f"{path} starts like a pickle"


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["plain", "nested"])
def test_fp32_graph_gives_the_torch_embeddings_and_confidence(fixture, request):
    model, folder = request.getfixturevalue(fixture)
    emb, conf = model.embed_with_confidence(TEXTS)
    onnx = OnnxModel(folder, "onnx")
    got, got_conf = onnx.embed_with_confidence(TEXTS, batch_size=4)  # two batches, padded
    assert got.shape == emb.shape and got.dtype == np.float32
    assert np.abs(got - emb).max() < 1e-4
    assert (got * emb).sum(1).min() > 0.999
    np.testing.assert_allclose(got_conf, conf, atol=1e-4)
    assert onnx.identity() == model.identity() and onnx.dim == model.dim


@pytest.mark.slow
def test_nested_stack_reports_feature_group_confidence(nested):
    model, folder = nested
    onnx = OnnxModel(folder, "onnx-int8")
    assert onnx.has_confidence and model.has_confidence
    conf = onnx.embedding_confidence(TEXTS)
    assert conf.shape == (len(TEXTS),) and ((conf > 0) & (conf < 1)).all()
    np.testing.assert_allclose(conf, model.embedding_confidence(TEXTS), atol=0.15)


@pytest.mark.slow
def test_plain_head_has_confidence_one(plain):
    onnx = OnnxModel(plain[1], "onnx")
    assert not onnx.has_confidence
    np.testing.assert_array_equal(onnx.embedding_confidence(TEXTS[:3]), [1.0, 1.0, 1.0])


@pytest.mark.slow
def test_int8_ranks_the_same_top_match_on_esco(plain):
    occupations = read_esco()
    refs = esco_references(occupations[:100])
    queries = esco_queries(occupations[:100], taxonomy=occupations).texts[::7][:30]
    assert len(queries) == 30
    fp32, int8 = OnnxModel(plain[1], "onnx"), OnnxModel(plain[1], "onnx-int8")
    sims = fp32.embed(queries) @ fp32.embed(refs.texts).T
    top_fp32 = sims.argmax(1)
    top_int8 = (int8.embed(queries) @ int8.embed(refs.texts).T).argmax(1)
    best2 = np.sort(sims, axis=1)[:, -2:]
    # int8 moves a similarity by up to ~0.02: near ties may swap
    clear = best2[:, 1] - best2[:, 0] > 0.05
    assert clear.sum() >= 20
    np.testing.assert_array_equal(top_int8[clear], top_fp32[clear])
    assert (top_int8 == top_fp32).mean() >= 0.9
    cosine = (int8.embed(queries) * fp32.embed(queries)).sum(1)
    assert cosine.mean() > 0.98


@pytest.mark.slow
def test_export_refuses_a_folder_holding_another_model(plain, nested, tmp_path):
    shutil.copytree(plain[1], tmp_path / "m")
    with pytest.raises(InputError, match="save the model there first"):
        export_model(nested[0], tmp_path / "m")


def test_export_supports_text_models_only(tmp_path):
    encoder = PrecomputedVectors(dim=4, ids=["a", "b"], vectors=np.eye(2, 4))
    model = SimilarityModel(encoder, build_head([{"kind": "skip"}], 4))
    with pytest.raises(InputError, match="export supports text models"):
        export_model(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_a_graph_that_disagrees_with_the_torch_model_is_caught(plain):
    model, folder = plain
    assert check_graph(model, folder / "model.onnx") < 1e-4
    other = SimilarityModel(model.encoder, build_head([{"kind": "skip"}], 384))  # fc not zeroed
    with pytest.raises(SurematchError, match="differs from the torch model"):
        check_graph(other, folder / "model.onnx")
