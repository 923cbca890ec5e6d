"""SimilarityModel: embeddings, confidence, and the saved folder."""

import json

import numpy as np
import pytest
import torch

from surematch.encoders.image import ImageEncoder
from surematch.encoders.vectors import PrecomputedVectors
from surematch.errors import ModelFormatError
from surematch.heads import build_head
from surematch.model import SimilarityModel


def vectors_model(head_spec) -> SimilarityModel:
    rng = np.random.default_rng(0)
    enc = PrecomputedVectors(dim=8, ids=[f"id{i}" for i in range(5)],
                             vectors=rng.normal(size=(5, 8)))
    return SimilarityModel(enc, build_head(head_spec, 8))


@pytest.mark.parametrize("spec", [
    [{"kind": "skip"}],
    [{"kind": "linear", "out_dim": 6}, {"kind": "feature_groups", "groups": 2, "size": 3,
                                        "skip_dim": 6}],
])
def test_save_then_load_gives_identical_embeddings(tmp_path, spec):
    model = vectors_model(spec)
    torch.nn.init.normal_(next(model.head.parameters()))  # not the initial weights
    x = np.random.default_rng(1).normal(size=(4, 8)).astype(np.float32)
    model.save(tmp_path / "m")
    loaded = SimilarityModel.load(tmp_path / "m")
    np.testing.assert_array_equal(model.embed(x), loaded.embed(x))
    np.testing.assert_array_equal(model.embedding_confidence(x), loaded.embedding_confidence(x))
    assert loaded.identity() == model.identity()


def test_embeddings_are_unit_rows_and_confidence_in_unit_interval():
    model = vectors_model([{"kind": "feature_groups", "groups": 4, "size": 5, "skip_dim": 8}])
    emb, conf = model.embed_with_confidence(["id0", "id1", "id2"])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert model.has_confidence and ((conf >= 0) & (conf <= 1)).all()


def test_a_stack_nested_in_a_stack_reports_its_last_heads_confidence(tmp_path):
    from surematch.heads.base import group_margin_confidence

    spec = [{"kind": "skip"}, {"kind": "stack", "heads": [
        {"kind": "linear", "out_dim": 6},
        {"kind": "feature_groups", "groups": 3, "size": 4, "skip_dim": 6}]}]
    model = vectors_model(spec)
    model.save(tmp_path / "m")
    loaded = SimilarityModel.load(tmp_path / "m")
    rows = np.random.default_rng(2).normal(size=(3, 8)).astype(np.float32)
    emb, conf = loaded.embed_with_confidence(rows)  # a loaded vectors model embeds vectors
    assert loaded.has_confidence and emb.shape == (3, 18) and conf.shape == (3,)
    inner = loaded.head.heads[1]
    with torch.no_grad():
        x = inner.heads[0](loaded.head.heads[0](torch.from_numpy(rows)))
        probs = inner.heads[1].group_probabilities(x)
    np.testing.assert_allclose(conf, group_margin_confidence(probs).numpy(), atol=1e-6)
    # groups followed by another head are no longer in the output: no confidence to read
    later = vectors_model([{"kind": "stack", "heads": [{"kind": "feature_groups", "size": 4}]},
                           {"kind": "skip"}])
    assert not later.has_confidence
    np.testing.assert_array_equal(later.embedding_confidence(["id0"]), [1.0])


def test_heads_without_groups_fall_back_to_confidence_one():
    model = vectors_model([{"kind": "skip"}])
    assert not model.has_confidence
    np.testing.assert_array_equal(model.embedding_confidence(["id0", "id1"]), [1.0, 1.0])


def test_trained_encoder_weights_travel_with_the_model(tmp_path):
    model = SimilarityModel(ImageEncoder(dim=8, width=4, scale=16.0),
                            build_head([{"kind": "skip"}], 8))
    images = np.random.default_rng(0).integers(0, 16, size=(3, 8, 8)).astype(np.float32)
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "encoder.safetensors").is_file()
    np.testing.assert_allclose(model.embed(images),
                               SimilarityModel.load(tmp_path / "m").embed(images), atol=1e-6)


def test_saving_again_keeps_files_written_beside_the_model(tmp_path):
    model = vectors_model([{"kind": "skip"}])
    model.save(tmp_path / "m")
    (tmp_path / "m" / "calibration.json").write_text("{}")
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "calibration.json").read_text() == "{}"


def test_other_format_version_is_refused_clearly(tmp_path):
    vectors_model([{"kind": "skip"}]).save(tmp_path / "m")
    meta_path = tmp_path / "m" / "surematch.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="format version 99"):
        SimilarityModel.load(tmp_path / "m")


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelFormatError, match="not a surematch model folder"):
        SimilarityModel.load(tmp_path)


def test_missing_weights_file_is_reported_as_damaged(tmp_path):
    vectors_model([{"kind": "skip"}]).save(tmp_path / "m")
    (tmp_path / "m" / "head.safetensors").unlink()
    with pytest.raises(ModelFormatError, match="damaged"):
        SimilarityModel.load(tmp_path / "m")


def test_confidence_of_a_stack_nested_in_a_stack_reads_the_groups_own_input():
    model = vectors_model([{"kind": "skip"}, {"kind": "stack", "heads": [
        {"kind": "linear", "out_dim": 8}, {"kind": "feature_groups", "groups": 2, "size": 3}]}])
    torch.nn.init.normal_(model.head.heads[1].heads[0].linear.weight)  # not the identity
    groups = model.head.heads[1].heads[1]
    with torch.no_grad():
        x = model.head.heads[1].heads[0](model.head.heads[0](model.encoder.encode(["id0"])))
        expected = groups.group_probabilities(x)
    top2 = expected.topk(2, dim=-1).values
    np.testing.assert_allclose(model.embedding_confidence(["id0"]),
                               (top2[..., 0] - top2[..., 1]).mean(-1).numpy(), rtol=1e-5)
