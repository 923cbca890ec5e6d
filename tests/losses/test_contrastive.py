"""ContrastiveLoss: hand-computed values on 2-D vectors, distances, label checks."""

from __future__ import annotations

import math

import pytest
import torch

from surematch.losses import ContrastiveLoss


def _unit(deg: float) -> list[float]:
    return [math.cos(math.radians(deg)), math.sin(math.radians(deg))]


def test_hand_computed_cosine() -> None:
    a = torch.tensor([_unit(0), _unit(0), _unit(0), _unit(0)])
    b = torch.tensor([_unit(90), _unit(0), _unit(60), _unit(90)])
    labels = torch.tensor([1.0, 0.0, 0.0, 0.5])
    # cosine distances: 90° -> 1, 0° -> 0, 60° -> 0.5; margin 0.5
    # pair 0 (similar, d=1):      1·1² = 1
    # pair 1 (dissimilar, d=0):   relu(0.5 - 0)² = 0.25
    # pair 2 (dissimilar, d=0.5): relu(0.5 - 0.5)² = 0
    # pair 3 (score 0.5, d=1):    0.5·1² + 0.5·relu(0.5 - 1)² = 0.5
    # mean = (1 + 0.25 + 0 + 0.5) / 4 = 0.4375
    assert ContrastiveLoss()(a, b, labels).item() == pytest.approx(0.4375, abs=1e-6)


def test_hand_computed_euclidean() -> None:
    a = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    b = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    # euclidean distances 5 and 1, margin 2: similar 5² = 25; dissimilar relu(2 - 1)² = 1
    loss = ContrastiveLoss(margin=2.0, distance="euclidean")
    assert loss(a, b, torch.tensor([1.0, 0.0])).item() == pytest.approx(13.0)


def test_unnormalised_rows_give_the_cosine_value() -> None:
    a = torch.tensor([[2.0, 0.0]])
    b = torch.tensor([[0.0, 7.0]])
    assert ContrastiveLoss()(a, b, torch.tensor([1.0])).item() == pytest.approx(1.0)


def test_dissimilar_pair_far_enough_has_no_gradient() -> None:
    a = torch.tensor([[1.0, 0.0]], requires_grad=True)
    b = torch.tensor([[-1.0, 0.0]])  # d = 2 > margin
    loss = ContrastiveLoss()(a, b, torch.tensor([0.0]))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(a.grad, torch.zeros_like(a))


def test_rejects_labels_outside_unit_interval_and_bad_shapes() -> None:
    loss = ContrastiveLoss()
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"labels must be 1 .* \[0, 1\]"):
        loss(x, x, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="one shape"):
        loss(x, torch.randn(2, 4), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="one per pair"):
        loss(x, x, torch.tensor([1.0]))


def test_dot_is_refused() -> None:
    with pytest.raises(ValueError, match="not the similarity 'dot'"):
        ContrastiveLoss(distance="dot")
