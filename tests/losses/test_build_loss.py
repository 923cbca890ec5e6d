"""build_loss and the LOSSES registry: names, parameters and their errors."""

from __future__ import annotations

import pytest

from surematch.losses import (
    LOSSES,
    AllPairsLoss,
    ContrastiveLoss,
    MultipleNegativesRankingLoss,
    SupConLoss,
    TripletLoss,
    build_loss,
)


def test_every_registered_loss_builds_with_its_defaults() -> None:
    assert {ContrastiveLoss, TripletLoss, MultipleNegativesRankingLoss, SupConLoss,
            AllPairsLoss} <= set(LOSSES.values())
    for name, cls in LOSSES.items():
        assert type(build_loss(name)) is cls


def test_build_with_defaults_and_params() -> None:
    assert isinstance(build_loss("supcon"), SupConLoss)
    loss = build_loss("triplet", {"mining": "batch_hard", "margin": 0.3, "distance": "euclidean"})
    assert isinstance(loss, TripletLoss)
    assert (loss.mining, loss.margin, loss.distance.name) == ("batch_hard", 0.3, "euclidean")
    assert build_loss("multiple_negatives", {"scale": 5.0}).scale == 5.0
    assert build_loss("triplet", {"max_chunk_elements": 1e3}).max_chunk_elements == 1000


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown loss 'arcface'") as err:
        build_loss("arcface")
    for name in LOSSES:
        assert name in str(err.value)


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(ValueError, match="loss 'supcon' has no parameter 'margin'") as err:
        build_loss("supcon", {"margin": 0.2})
    assert "temperature" in str(err.value)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("triplet", {"mining": "semi_hard"}, "mining must be"),
        ("triplet", {"distance": "manhattan"}, "unknown distance 'manhattan'"),
        ("contrastive", {"distance": "dot"}, "needs a distance"),
        ("contrastive", {"margin": -1.0}, "margin must be >= 0"),
        ("multiple_negatives", {"scale": 0.0}, "scale must be > 0"),
        ("supcon", {"temperature": -0.1}, "temperature must be > 0"),
        ("all_pairs", {"margin": "wide"}, "loss 'all_pairs': bad parameter value"),
    ],
)
def test_bad_parameter_values(name: str, params: dict[str, float | str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_loss(name, params)
