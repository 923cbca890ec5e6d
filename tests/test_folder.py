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


def test_one_runtime_default_everywhere() -> None:
    """No signature or option names a runtime default of its own: each says DEFAULT_RUNTIME
    (a second default once served int8 against a calibration fitted on torch)."""
    import re
    from pathlib import Path

    import surematch

    pattern = re.compile(r"""runtime: \w+ = ["'](torch|onnx|onnx-int8|auto)["']""")
    found = [f"{path.name}:{n}" for path in Path(surematch.__file__).parent.rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert found == []
