"""The contract every loss keeps: scalar, gradients, zero on degenerate batches, invariances."""

from __future__ import annotations

import pytest
import torch

from surematch.losses import LOSSES, build_loss

GROUP_LOSSES = [name for name, cls in LOSSES.items() if cls.input_kind == "groups"]
PAIR_LOSSES = [name for name, cls in LOSSES.items() if cls.input_kind == "pairs"]


def _batch(seed: int = 0, b: int = 12, d: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(b, d, generator=g, dtype=torch.float64)
    groups = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 3, 4, 4, 5])[:b]
    return emb, groups


def test_every_loss_states_its_input_kind() -> None:
    assert set(GROUP_LOSSES) == {"triplet", "multiple_negatives", "supcon", "all_pairs"}
    assert PAIR_LOSSES == ["contrastive"]


@pytest.mark.parametrize("name", GROUP_LOSSES)
@pytest.mark.parametrize("params", [{}, {"distance": "euclidean"}, {"distance": "dot"}])
def test_group_loss_gradients_flow(name: str, params: dict[str, str]) -> None:
    if name == "supcon" and params:
        pytest.skip("SupConLoss is cosine only")
    if name == "triplet":
        params = {**params, "margin": 10.0}  # every triplet active, whatever the scale
    if name == "all_pairs":
        params = {**params, "margin": 10.0}
    emb, groups = _batch()
    emb.requires_grad_(True)
    loss = build_loss(name, params)(emb, groups)
    assert loss.shape == ()
    loss.backward()
    assert torch.isfinite(emb.grad).all()
    assert emb.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["triplet", "multiple_negatives", "supcon", "all_pairs"])
@pytest.mark.parametrize("groups", [[0, 1, 2, 3, 4], [7, 7, 7, 7, 7], [3]])
def test_group_loss_degenerate_batches_give_connected_zero(name: str, groups: list[int]) -> None:
    emb = torch.randn(len(groups), 4, requires_grad=True)
    loss = build_loss(name)(emb, torch.tensor(groups))
    assert loss.item() == 0.0
    assert loss.grad_fn is not None
    loss.backward()
    assert torch.equal(emb.grad, torch.zeros_like(emb))


@pytest.mark.parametrize("name", GROUP_LOSSES)
def test_group_loss_is_invariant_to_row_order_and_group_ids(name: str) -> None:
    emb, groups = _batch(seed=3)
    loss = build_loss(name)
    base = loss(emb, groups)
    perm = torch.randperm(len(groups), generator=torch.Generator().manual_seed(1))
    assert torch.allclose(loss(emb[perm], groups[perm]), base, atol=1e-12)
    assert torch.allclose(loss(emb, groups * 10 + 3), base, atol=1e-12)


@pytest.mark.parametrize("name", GROUP_LOSSES)
def test_group_loss_rejects_bad_shapes(name: str) -> None:
    loss = build_loss(name)
    with pytest.raises(ValueError, match=r"groups must be \[B\]"):
        loss(torch.randn(4, 3), torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match="integer ids"):
        loss(torch.randn(3, 3), torch.tensor([0.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[B, D\]"):
        loss(torch.randn(3), torch.tensor([0, 0, 1]))


@pytest.mark.parametrize("name", PAIR_LOSSES)
def test_pair_loss_gradients_flow_and_order_invariance(name: str) -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, 4, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(8, 4, generator=g, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0], dtype=torch.float64)
    loss = build_loss(name, {"margin": 1.5})  # every dissimilar pair inside the margin
    value = loss(a, b, labels)
    value.backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
    assert torch.isfinite(b.grad).all() and b.grad.abs().sum() > 0
    perm = torch.randperm(8, generator=g)
    assert torch.allclose(loss(a[perm], b[perm], labels[perm]), value)
    assert torch.allclose(loss(b, a, labels), value)  # symmetric in its two sides


@pytest.mark.parametrize("name", PAIR_LOSSES)
def test_pair_loss_empty_or_identical_batch_is_finite_zero(name: str) -> None:
    a = torch.randn(3, 4, requires_grad=True)
    empty = build_loss(name)(a[:0], a[:0], torch.zeros(0))
    assert empty.item() == 0.0 and empty.grad_fn is not None
    same = build_loss(name)(a, a.detach().clone(), torch.ones(3))
    assert same.item() == pytest.approx(0.0, abs=1e-6)
    same.backward()
    assert torch.isfinite(a.grad).all()
