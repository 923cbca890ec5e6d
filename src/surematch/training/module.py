"""The Lightning module: one optimisation step of head (and encoder, when tuned) on a loss."""

from __future__ import annotations

import copy
import logging
from typing import Any

import lightning as L
import torch
from torch import nn

from surematch.heads import find_feature_groups
from surematch.model import SimilarityModel
from surematch.training.features import FeatureSource
from surematch.training.validation import leave_one_out_p_at_1

log = logging.getLogger(__name__)


class SimilarityTask(L.LightningModule):
    """Trains `model` with `loss` on batches of row indices.

    Group losses: a batch is rows [B] of `source`, labelled by `labels` [N].
    Pair losses: a batch is pair indices [B] into `pairs` = (rows_a [P], rows_b [P], y [P]).
    Validation (`val_source`, `val_labels`): leave-one-out P@1 over held-out groups, logged
    as `val_p_at_1` at the end of every training epoch; the best weights are kept in memory
    and restored when training ends (no pickled checkpoint is ever written).
    """

    def __init__(self, model: SimilarityModel, loss: nn.Module, source: FeatureSource, *,
                 labels: torch.Tensor | None = None,
                 pairs: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
                 val_source: FeatureSource | None = None, val_labels: torch.Tensor | None = None,
                 lr: float = 1e-3, encoder_lr: float = 2e-5, weight_decay: float = 0.0,
                 group_loss_weight: float = 0.0, schedule: str = "constant",
                 warmup: float = 0.0) -> None:
        super().__init__()
        self.model, self.loss, self.source = model, loss, source
        self.log_epochs = True  # an INFO line per epoch; DEBUG while a progress bar shows it
        self.labels, self.pairs = labels, pairs
        self.val_source, self.val_labels = val_source, val_labels
        self.lr, self.encoder_lr, self.weight_decay = lr, encoder_lr, weight_decay
        self.group_loss_weight = group_loss_weight
        self.schedule, self.warmup = schedule, warmup
        self.best_score: float | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.history: list[dict[str, float]] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        rows = batch.long().cpu()
        if self.pairs is None:
            assert self.labels is not None  # group losses always have labels
            features = self.source(rows).to(self.device)
            labels = self.labels[rows].to(self.device)
            value = self.loss(self.model.forward_features(features), labels)
            groups = find_feature_groups(self.model.head)
            if self.group_loss_weight and groups is not None and groups.skip is not None:
                # The groups alone must tell matches apart too, so that how peaked they are
                # says how sure the model is (beside the skip branch they would idle).
                block = groups.probabilities_from_output(self.model.head(features)).flatten(1)
                value = value + self.group_loss_weight * self.loss(block, labels)
        else:
            a, b, y = (t[rows] for t in self.pairs)
            za = self.model.forward_features(self.source(a).to(self.device))
            zb = self.model.forward_features(self.source(b).to(self.device))
            value = self.loss(za, zb, y.to(self.device))
        self.log("train_loss", value, prog_bar=True, batch_size=len(rows))
        return value

    def on_train_epoch_end(self) -> None:
        loader = self.trainer.train_dataloader
        assert loader is not None
        batches = loader.dataset
        batches.new_epoch()
        record = {"epoch": float(self.current_epoch)}
        loss = self.trainer.callback_metrics.get("train_loss")
        if loss is not None:
            record["train_loss"] = float(loss)
        if self.val_source is not None and self.val_labels is not None:
            with torch.no_grad():
                self.model.eval()
                feats = self.val_source.all_features().to(self.device)
                z = self.model.forward_features(feats).cpu()
                self.model.train()
            score = leave_one_out_p_at_1(z, self.val_labels)
            record["val_p_at_1"] = score
            # every rank scores the same weights on the whole validation set: the mean
            # over ranks (sync_dist) is that score, and early stopping agrees everywhere
            self.log("val_p_at_1", score, prog_bar=True, sync_dist=True)
            if self.best_score is None or score > self.best_score:
                self.best_score = score
                self.best_state = copy.deepcopy({k: v.detach().cpu()
                                                 for k, v in self.model.state_dict().items()})
        self.history.append(record)
        if self.trainer.is_global_zero:  # one line per epoch, not one per DDP process
            log.log(logging.INFO if self.log_epochs else logging.DEBUG, "epoch %d: %s",
                    self.current_epoch,
                    ", ".join(f"{k}={v:.4f}" for k, v in record.items() if k != "epoch"))

    def on_train_end(self) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def configure_optimizers(self) -> Any:
        groups = [{"params": list(self.model.head.parameters()), "lr": self.lr}]
        if not self.source.frozen:
            groups.append({"params": list(self.model.encoder.parameters()),
                           "lr": self.encoder_lr})
        optimizer = torch.optim.AdamW(groups, weight_decay=self.weight_decay)
        if self.schedule == "constant":
            return optimizer
        steps = max(1, int(self.trainer.estimated_stepping_batches))
        warm = round(self.warmup * steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: linear_schedule(step, steps, warm))
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def linear_schedule(step: int, steps: int, warmup: int) -> float:
    """The factor on every learning rate at `step` (0-based) of `steps`: rising linearly over
    the first `warmup` steps, then falling linearly to 0 after the last step."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.0, (steps - step) / max(1, steps - warmup))
