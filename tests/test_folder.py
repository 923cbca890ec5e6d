"""The model folder's runtime choice: unknown runtimes and ones a folder lacks are refused
with the fix; auto is the default."""

from __future__ import annotations

import numpy as np
import pytest

from surematch.encoders.vectors import PrecomputedVectors
from surematch.errors import InputError
from surematch.folder import available_runtimes, resolve_runtime
from surematch.heads import build_head
from surematch.loader import load_model
from surematch.model import SimilarityModel


@pytest.fixture
def saved(tmp_path):
    encoder = PrecomputedVectors(dim=4, ids=["a", "b"], vectors=np.eye(2, 4))
    SimilarityModel(encoder, build_head([{"kind": "skip"}], 4)).save(tmp_path / "m")
    return tmp_path / "m"


def test_unknown_runtime_is_refused_naming_the_choices(saved):
    with pytest.raises(InputError, match=r'field "runtime".*tensorrt.*torch, onnx, onnx-int8'):
        load_model(saved, "tensorrt")


def test_runtime_the_folder_lacks_is_refused_with_the_fix(saved):
    with pytest.raises(InputError, match=r"no model.int8.onnx.*surematch export"):
        load_model(saved, "onnx-int8")


def test_auto_falls_back_to_torch_without_graphs(saved):
    assert available_runtimes(saved) == ["torch"]
    assert resolve_runtime(saved, "auto") == "torch"
    assert isinstance(load_model(saved), SimilarityModel)
