"""ImageEncoder on scikit-learn's 8x8 digits: shapes, gradients, identity, input errors."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from surematch.encoders.image import ImageEncoder
from surematch.errors import InputError


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _encoder(**kwargs) -> ImageEncoder:
    torch.manual_seed(0)
    return ImageEncoder(scale=16.0, **kwargs)


def test_shapes_for_every_item_form(digits) -> None:
    encoder = _encoder(dim=24, width=8)
    images = digits.images[:6]
    assert encoder(images).shape == (6, 24)  # one stacked array [N, 8, 8]
    assert encoder(list(images)).shape == (6, 24)  # a list of [8, 8]
    assert encoder([torch.tensor(i)[None] for i in images]).shape == (6, 24)  # [1, 8, 8]
    assert encoder.encode(digits.images, batch_size=512).shape == (1797, 24)
    assert encoder([]).shape == (0, 24)
    assert encoder.has_weights and encoder.kind == "image_cnn"


def test_item_forms_agree_and_scale_divides(digits) -> None:
    encoder = _encoder(width=8).eval()
    images = digits.images[:4]
    same = ImageEncoder(width=8, scale=1.0).eval()
    same.load_state_dict(encoder.state_dict())
    assert torch.allclose(encoder(images), encoder(list(images)))
    assert torch.allclose(encoder(images), same(images / 16.0), atol=1e-6)


def test_rgb_images() -> None:
    encoder = _encoder(channels=3, dim=8, width=4)
    assert encoder(np.random.default_rng(0).random((2, 3, 12, 10))).shape == (2, 8)


def test_gradients_reach_every_parameter(digits) -> None:
    encoder = _encoder(dim=8, width=4)
    (encoder(digits.images[:8]) * torch.randn(8, 8)).sum().backward()
    for name, param in encoder.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_identity_follows_config_and_weights(digits) -> None:
    encoder = _encoder(width=4)
    before = encoder.identity()
    assert before.startswith("image_cnn:") and before == _encoder(width=4).identity()
    assert before != _encoder(width=4, dim=32).identity()
    with torch.no_grad():
        encoder.out.weight[0, 0] += 1e-3  # any weight change changes the identity
    assert encoder.identity() != before
    rebuilt = ImageEncoder(**encoder.config())
    rebuilt.load_state_dict(encoder.state_dict())
    assert rebuilt.identity() == encoder.identity()
    assert encoder.config() == {"channels": 1, "dim": 64, "width": 4, "scale": 16.0}


@pytest.mark.slow
def test_can_fit_a_hundred_digits(digits) -> None:
    torch.manual_seed(0)
    encoder = ImageEncoder(dim=10, width=8, scale=16.0)  # the 10 outputs read as class logits
    images, labels = digits.images[:100], torch.as_tensor(digits.target[:100])
    optimiser = torch.optim.Adam(encoder.parameters(), lr=0.05)
    for _ in range(20):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(encoder(images), labels).backward()
        optimiser.step()
    with torch.no_grad():  # training mode: 20 steps are too few for BN's running statistics
        assert (encoder(images).argmax(1) == labels).float().mean() > 0.9


@pytest.mark.parametrize(("items", "message"), [
    ([np.zeros((8, 8)), np.zeros((7, 8))], "image 1 has shape [7, 8] but image 0 has [8, 8]"),
    ([np.zeros((3, 8, 8))], "expected [H, W] or [1, H, W]"),
    ([np.zeros(8)], "image 0 has shape [8]"),
    ([np.zeros((8, 8)), np.full((8, 8), np.nan)], "image 1 holds NaN"),
    ([np.array([["a", "b"]])], "image 0 must hold numbers"),
    ([np.zeros((1, 1))], "batch of at least 2 images"),
])
def test_bad_images_are_named(items, message) -> None:
    with pytest.raises(InputError) as caught:
        _encoder(width=4)(items)
    assert message in str(caught.value)


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="scale"):
        ImageEncoder(scale=0.0)
