"""Small MiniLM models saved and exported once per session: a plain skip head, and feature
groups in a stack nested inside a stack."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from surematch.encoders.text import TextEncoder
from surematch.heads import build_head
from surematch.model import SimilarityModel
from surematch.runtime.export import export_model

NESTED = [{"kind": "skip"}, {"kind": "stack", "heads": [
    {"kind": "linear", "out_dim": 64},
    {"kind": "feature_groups", "groups": 4, "size": 8, "skip_dim": 32}]}]


@pytest.fixture(scope="session")
def encoder() -> TextEncoder:
    return TextEncoder()


@pytest.fixture(scope="session")
def plain(encoder: TextEncoder, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[SimilarityModel, Path]:
    """(torch model, exported folder): frozen MiniLM and a skip head (a small correction)."""
    torch.manual_seed(0)
    head = build_head([{"kind": "skip"}], 384)
    with torch.no_grad():
        head.fc.weight.normal_(std=0.05)
    model = SimilarityModel(encoder, head).eval()
    folder = tmp_path_factory.mktemp("runtime") / "plain"
    model.save(folder)
    export_model(model, folder)
    return model, folder


@pytest.fixture(scope="session")
def nested(encoder: TextEncoder, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[SimilarityModel, Path]:
    """(torch model, exported folder) with feature groups at the end of a nested stack."""
    torch.manual_seed(1)
    model = SimilarityModel(encoder, build_head(NESTED, 384)).eval()
    folder = tmp_path_factory.mktemp("runtime") / "nested"
    export_model(model, folder)  # an empty folder: saved first
    return model, folder
