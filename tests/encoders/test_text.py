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


def test_a_batch_gives_each_text_the_vector_it_has_alone(encoder):
    # more texts than one forward run, of many lengths, so that they are run in length order
    texts = [("senior " * (i % 9) + f"nurse {i}").strip() for i in range(150)]
    encoder.eval()
    with torch.no_grad():
        together = encoder(texts)
        alone = torch.cat([encoder([t]) for t in texts[:: 7]])
    assert together.shape == (150, 384)
    assert torch.allclose(together[:: 7], alone, atol=1e-5)
