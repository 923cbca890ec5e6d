"""OnnxModel: the checks before a graph is used, tokenising like the torch model, batching."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from surematch.errors import ModelFormatError
from surematch.loader import load_model
from surematch.model import SimilarityModel
from surematch.runtime.onnx_model import OnnxModel
from surematch.runtime.tokens import TextTokenizer


@pytest.fixture
def copy(plain, tmp_path):
    shutil.copytree(plain[1], tmp_path / "m")
    return tmp_path / "m"


@pytest.mark.slow
def test_tampered_graph_is_refused(copy):
    with (copy / "model.int8.onnx").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelFormatError, match=r"sha256 differs.*export the model again"):
        OnnxModel(copy, "onnx-int8")
    OnnxModel(copy, "onnx")  # the other graph is intact


@pytest.mark.slow
def test_graph_of_an_earlier_model_is_refused(plain, copy):
    model = SimilarityModel.load(copy)
    with torch.no_grad():
        model.head.fc.weight.add_(0.01)
    model.save(copy)  # the graphs stay beside it, exported from the old weights
    with pytest.raises(ModelFormatError, match=r"exported from model .* export the model again"):
        load_model(copy, "onnx")


@pytest.mark.slow
def test_damaged_runtime_json_is_refused(copy):
    manifest = json.loads((copy / "runtime.json").read_text())
    del manifest["tokenizer"]
    (copy / "runtime.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match=r"runtime.json is damaged"):
        OnnxModel(copy, "onnx")


@pytest.mark.slow
def test_tokenizer_gives_the_sentence_transformers_ids(plain, encoder):
    texts = ["python developer", "Koch/Köchin", "", "a b c " * 40]
    manifest = json.loads((plain[1] / "runtime.json").read_text())["tokenizer"]
    ids, mask = TextTokenizer(plain[1] / "tokenizer.json", manifest["max_seq_length"],
                              manifest["pad_id"], manifest["pad_token"])(texts)
    expected = encoder.st.preprocess(texts)
    np.testing.assert_array_equal(ids, expected["input_ids"].numpy())
    np.testing.assert_array_equal(mask, expected["attention_mask"].numpy())
    assert ids.dtype == np.int64 and ids.shape[1] == 64


@pytest.mark.slow
def test_small_and_large_batches_agree(plain):
    model = OnnxModel(plain[1], "onnx")
    texts = [f"occupation number {i}" for i in range(40)]
    one_thread = model.embed(texts, batch_size=8)  # batches up to 16 run on one thread
    all_cores = model.embed(texts, batch_size=40)
    np.testing.assert_allclose(one_thread, all_cores, atol=1e-5)
    assert model.embed([]).shape == (0, model.dim)
    assert model.embed_with_confidence([])[1].shape == (0,)


@pytest.mark.slow
def test_load_returns_the_onnx_model_with_the_torch_identity(plain):
    model, folder = plain
    for runtime, expected in (("onnx", "onnx"), ("onnx-int8", "onnx-int8"),
                              ("auto", "onnx-int8")):
        loaded = load_model(folder, runtime)
        assert isinstance(loaded, OnnxModel) and loaded.runtime == expected
        assert loaded.identity() == model.identity() and loaded.folder == folder
    assert isinstance(load_model(folder, "torch"), SimilarityModel)
    assert isinstance(SimilarityModel.load(folder), SimilarityModel)


@pytest.mark.slow
def test_matching_with_a_graph_never_imports_torch(plain, tmp_path):
    """A process that loads the int8 graph, indexes and matches stays free of torch (about
    200 MB), and embeds in the order given although runs go shortest first."""
    import subprocess
    import sys

    code = f"""
import sys
import numpy as np
from surematch.data import References
from surematch.loader import load_model
from surematch.index.reference_index import ReferenceIndex
model = load_model({str(plain[1])!r}, "onnx-int8")
texts = ["a much longer text about welding pipes", "nurse", "baker of bread"] * 30
rows = model.embed(texts, batch_size=64)
alone = np.stack([model.embed([t])[0] for t in texts[:3]])
assert np.abs(rows[:3] - alone).max() < 1e-5  # fixed int8 scales: the same vector
with ReferenceIndex.create({str(tmp_path / "ix")!r}, model) as index:
    index.add(References(["w", "n"], ["welder", "nurse"], [{{}}, {{}}]), progress=False)
    assert index.match("nurse", k=1).matches[0].id == "n"
print("torch" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                                            "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
