"""Choosing a runtime: unknown ones and ones a folder lacks are refused with the fix."""

from __future__ import annotations

import numpy as np
import pytest

from surematch.encoders.vectors import PrecomputedVectors
from surematch.errors import InputError
from surematch.heads import build_head
from surematch.model import SimilarityModel
from surematch.runtime import available_runtimes, resolve_runtime


@pytest.fixture
def saved(tmp_path):
    encoder = PrecomputedVectors(dim=4, ids=["a", "b"], vectors=np.eye(2, 4))
    SimilarityModel(encoder, build_head([{"kind": "skip"}], 4)).save(tmp_path / "m")
    return tmp_path / "m"


def test_unknown_runtime_is_refused_naming_the_choices(saved):
    with pytest.raises(InputError, match=r'field "runtime".*tensorrt.*torch, onnx, onnx-int8'):
        SimilarityModel.load(saved, runtime="tensorrt")


def test_runtime_the_folder_lacks_is_refused_with_the_fix(saved):
    with pytest.raises(InputError, match=r"no model.int8.onnx.*surematch export"):
        SimilarityModel.load(saved, runtime="onnx-int8")


def test_auto_falls_back_to_torch_without_graphs(saved):
    assert available_runtimes(saved) == ["torch"]
    assert resolve_runtime(saved, "auto") == "torch"
    assert isinstance(SimilarityModel.load(saved, runtime="auto"), SimilarityModel)
