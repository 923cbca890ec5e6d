"""Training: data to labelled rows, batch samplers, the Lightning module and `train`."""

from surematch.training.fit import build_encoder, train

__all__ = ["build_encoder", "train"]
