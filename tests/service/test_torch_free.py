"""Serving an exported model never loads torch: the service imports, starts and matches with
torch made unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.model import SimilarityModel
from surematch.runtime.export import export_model

SERVE_WITHOUT_TORCH = """
import sys


class NoTorch:  # any `import torch` raises ImportError, as where torch is not installed
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"{name} is unimportable in this test")


sys.meta_path.insert(0, NoTorch())
from fastapi.testclient import TestClient
import surematch
from surematch.data import References
from surematch.index.reference_index import ReferenceIndex
from surematch.service import create_app
model = surematch.load_model(sys.argv[1])
assert model.runtime == "onnx-int8", model.runtime
refs = References(["nurse", "baker"], ["nurse", "baker of bread"], [{}, {}])
with ReferenceIndex.create(sys.argv[2], model) as index:
    index.add(refs, progress=False)
with TestClient(create_app(sys.argv[1], sys.argv[2])) as client:
    answer = client.post("/v1/match", json={"query": "nurse", "k": 2})
    assert answer.status_code == 200, answer.text
    assert answer.json()["matches"][0]["id"] == "nurse"
    verify = client.post("/v1/verify", json={"a": "nurse", "b": "baker"})
    assert verify.status_code == 200, verify.text
assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules)
print("served without torch")
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = save_tiny_text_model(tmp_path_factory.mktemp("torch_free"))
    export_model(SimilarityModel.load(folder), folder)
    return folder


def test_serving_an_exported_model_never_imports_torch(exported: Path, tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_TORCH, str(exported),
                          str(tmp_path / "index")], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "served without torch" in ran.stdout


def test_import_surematch_loads_no_torch_until_a_name_is_used() -> None:
    code = ("import sys, surematch\n"
            "assert 'torch' not in sys.modules and 'qdrant_edge' not in sys.modules\n"
            "assert callable(surematch.load_model) and 'torch' not in sys.modules\n"
            "assert surematch.SimilarityModel.__name__ == 'SimilarityModel'\n"
            "assert 'torch' in sys.modules\n"
            "assert set(surematch.__all__) <= set(dir(surematch))\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
