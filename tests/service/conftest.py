"""A small MiniLM model and an index of 30 ESCO occupations, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from surematch.data.esco import esco_references, read_esco
from surematch.encoders.text import TextEncoder
from surematch.heads import build_head
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """(model folder, index folder, reference ids): plain frozen MiniLM, 30 references."""
    root = tmp_path_factory.mktemp("service")
    head = build_head([{"kind": "skip"}], 384)
    with torch.no_grad():
        head.fc.weight.zero_()
    model = SimilarityModel(TextEncoder(), head)
    model.save(root / "model")
    refs = esco_references(read_esco())
    refs = type(refs)(refs.ids[:30], refs.texts[:30], refs.payloads[:30])
    with ReferenceIndex.create(root / "index", SimilarityModel.load(root / "model")) as index:
        index.add(refs, progress=False)
    return root / "model", root / "index", list(refs.ids)
