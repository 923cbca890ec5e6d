"""The loss functions by name, and `build_loss` to make one from a name and parameters."""

from __future__ import annotations

import inspect

from torch import nn

from surematch.errors import InputError
from surematch.losses.all_pairs import AllPairsLoss
from surematch.losses.contrastive import ContrastiveLoss
from surematch.losses.multiple_negatives import MultipleNegativesRankingLoss
from surematch.losses.supcon import SupConLoss
from surematch.losses.triplet import TripletLoss
from surematch.registry import Registry

__all__ = [
    "LOSSES",
    "AllPairsLoss",
    "ContrastiveLoss",
    "MultipleNegativesRankingLoss",
    "SupConLoss",
    "TripletLoss",
    "build_loss",
]

LOSSES: Registry[type[nn.Module]] = Registry("loss", "losses", option="loss.name")
LOSSES.add("contrastive", ContrastiveLoss)
LOSSES.add("triplet", TripletLoss)
LOSSES.add("multiple_negatives", MultipleNegativesRankingLoss)
LOSSES.add("supcon", SupConLoss)
LOSSES.add("all_pairs", AllPairsLoss)


def loss_parameters(name: str) -> dict[str, object]:
    """The constructor parameters of loss `name` with their defaults."""
    cls = LOSSES[name]
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.name != "self"}


def build_loss(name: str, params: dict[str, float | str] | None = None) -> nn.Module:
    """Make the loss called `name` (a key of `LOSSES`) with keyword `params`.

    Raises InputError (a ValueError) naming the known losses for an unknown name, and naming
    the parameter and the accepted ones for a parameter the loss does not take.
    """
    known = loss_parameters(name)
    params = dict(params or {})
    for key in params:
        if key not in known:
            raise InputError(f"loss {name!r} has no parameter {key!r}; it accepts "
                             f"{sorted(known) or 'none'}", field="loss.params")
    try:
        return LOSSES[name](**params)
    except TypeError as error:  # e.g. a string where a number belongs
        raise InputError(f"loss {name!r}: bad parameter value in {params}: {error}",
                         field="loss.params") from None

