"""The bundled MiniLM text encoder, loaded offline."""

import pytest
import torch

from surematch.encoders.text import TextEncoder, resolve_model_path
from surematch.errors import SurematchError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


def test_bundled_model_embeds_and_ranks_sensibly(encoder):
    out = encoder.encode(["nurse", "registered nurse", "truck driver"])
    assert out.shape == (3, 384)
    cos = torch.nn.functional.cosine_similarity
    assert cos(out[0], out[1], dim=0) > cos(out[0], out[2], dim=0)


def test_identity_is_stable_and_names_the_model(encoder):
    assert encoder.identity() == encoder.identity()
    assert "model" in encoder.identity()
    assert encoder.config() == {"model": "all-MiniLM-L6-v2", "max_seq_length": 64}


def test_forward_has_gradients_for_fine_tuning(encoder):
    out = encoder(["a title"])
    out.sum().backward()
    assert any(p.grad is not None for p in encoder.parameters())
    encoder.zero_grad()


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SurematchError, match="never downloads"):
        resolve_model_path(str(tmp_path / "nope"))
