"""An exclusion rule fixing a real ESCO confusion of frozen MiniLM (slow: loads the encoder).

Frozen MiniLM matches the ESCO alternative title "AV technician" (audio-visual) to the
occupation "avionics technician" (aircraft electronics) at cosine 0.93; the right occupation,
"video technician", comes second (0.74). One rule removes the confusion for that query and
its paraphrases, and leaves queries about avionics alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from surematch.data.esco import esco_references, read_esco
from surematch.encoders.text import TextEncoder
from surematch.heads import build_head
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory):
    """Every ESCO occupation whose preferred title holds "technician" (about 200)."""
    head = build_head([{"kind": "skip"}], 384)
    with torch.no_grad():
        head.fc.weight.zero_()  # the head adds nothing: plain frozen MiniLM
    model = SimilarityModel(TextEncoder(), head)
    refs = esco_references(read_esco())
    keep = [n for n, t in enumerate(refs.texts) if "technician" in t]
    refs = type(refs)([refs.ids[n] for n in keep], [refs.texts[n] for n in keep],
                      [refs.payloads[n] for n in keep])
    idx = ReferenceIndex.create(Path(tmp_path_factory.mktemp("esco")) / "ix", model)
    idx.add(refs, progress=False)
    yield idx
    idx.close()


def top(index: ReferenceIndex, query: str, k: int = 3) -> list[str]:
    return [m.text for m in index.match(query, k=k).matches]


def test_rule_fixes_av_technician(index: ReferenceIndex) -> None:
    before = index.match("AV technician", k=3)
    assert before.matches[0].text == "avionics technician" and before.matches[0].similarity > 0.9
    assert top(index, "AV technician")[1] == "video technician"

    rule = index.add_rule("AV technician", "avionics technician", id="av-is-not-avionics",
                          trigger_similarity=0.85, exclude_similarity=0.9,
                          note="AV = audio-visual, not aircraft electronics")
    after = index.match("AV technician", k=3)
    assert after.rules_fired == [rule] and after.matches[0].text == "video technician"
    assert "avionics technician" not in top(index, "AV technician", k=10)
    for paraphrase in ("AV technicians", "AV tech"):  # cosine 0.97 and 0.89 to the trigger
        assert "avionics technician" not in top(index, paraphrase, k=10)
    avionics = index.match("aircraft avionics technician", k=3)  # 0.82 to the trigger
    assert avionics.rules_fired == [] and avionics.matches[0].text == "avionics technician"
