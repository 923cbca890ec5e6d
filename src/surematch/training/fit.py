"""Train a SimilarityModel from a Config and training data, with Lightning underneath."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any, TypedDict

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping
from torch.utils.data import DataLoader

from surematch.config import Config
from surematch.data.samples import GroupedTexts, TextPairs
from surematch.encoders import Encoder
from surematch.errors import SurematchError
from surematch.heads import build_head
from surematch.logs import interactive, quiet_third_party
from surematch.losses import build_loss
from surematch.model import SimilarityModel
from surematch.training.batches import GroupBatches, RowBatches
from surematch.training.features import FeatureSource, encode_cached
from surematch.training.module import SimilarityTask
from surematch.training.samples import (
    LabelledRows,
    group_labels,
    groups_from_pairs,
    rows_from_groups,
)

log = logging.getLogger(__name__)


class Rates(TypedDict):
    lr: float
    encoder_lr: float
    weight_decay: float
    group_loss_weight: float
    schedule: str
    warmup: float


def build_encoder(config: Config) -> Encoder:
    """The encoder the config names (text by default)."""
    enc = config.encoder
    if enc.kind == "text":
        from surematch.encoders.text import TextEncoder

        return TextEncoder(enc.model, max_seq_length=enc.max_seq_length)
    if enc.kind == "image_cnn":
        from surematch.encoders.image import ImageEncoder

        return ImageEncoder(**enc.params)
    from surematch.encoders.vectors import PrecomputedVectors

    if enc.vectors is None:
        raise SurematchError("encoder.kind 'vectors' needs encoder.vectors: the vectors file")
    return PrecomputedVectors.from_file(enc.vectors)


def train(config: Config, data: GroupedTexts | TextPairs, *, encoder: Encoder | None = None,
          items: list[Any] | None = None, progress: bool = True,
          start: SimilarityModel | None = None,
          negatives: Sequence[tuple[str, str]] = ()) -> SimilarityModel:
    """Fit a head (and the encoder, when `encoder.fine_tune`) on groups or pairs.

    `items` replaces `data.texts` for non-text encoders (images, ids), row for row.
    `start`: continue training this model (its encoder and head, weights and all) instead
    of a new head on the config's encoder; `config.head` and `encoder.model` are not used.
    `negatives`: pairs of group ids of `data` (groups) batched together each epoch, so that
    each group is in-batch negatives of the other (hard negatives, e.g. a reviewed query's
    right reference and the wrong one shown: `GroupBatches` companions); group losses only,
    and a pair naming a group the data does not hold is an error.
    Returns the model with the best validation weights; `model.info` holds the history.
    Under DDP (`train.strategy: ddp`, `train.devices: N`) every process trains on its share
    of the batches; only rank 0 returns, the other ranks end (SystemExit(0)) after training.
    """
    quiet_third_party()  # Lightning set up logging of its own when it was imported
    L.seed_everything(config.train.seed, workers=True, verbose=False)
    if start is not None:
        encoder = start.encoder
    encoder = encoder or build_encoder(config)
    pristine = not encoder.fine_tuned  # its weights are the reference ones (the cache key)
    trainable = encoder.has_weights and (config.encoder.fine_tune or encoder.kind != "text")
    if not trainable:
        encoder.requires_grad_(False)
    else:
        encoder.fine_tuned = True  # its weights will differ from the reference: save them
        if config.encoder.frozen_layers:
            freeze = getattr(encoder, "freeze_lowest", None)
            if freeze is None:
                raise SurematchError(f"encoder.frozen_layers: a {encoder.kind} encoder has no "
                                     "transformer layers to freeze")
            freeze(config.encoder.frozen_layers)
    loss = build_loss(config.loss.name, config.loss.params)
    pair_loss = getattr(loss, "input_kind", "groups") == "pairs"
    head = start.head if start is not None else build_head(config.head, encoder.dim)
    model = SimilarityModel(encoder, head)
    t0 = time.perf_counter()

    if negatives and (pair_loss or not isinstance(data, GroupedTexts)):
        raise SurematchError("negatives are batched with groups: give groups and a group loss "
                             "(a pair loss takes its negatives as pairs labelled 0)")
    if pair_loss:
        if not isinstance(data, TextPairs):
            raise SurematchError(f"loss {config.loss.name!r} learns from pairs; the data holds "
                                 "groups: choose a group loss (multiple_negatives, supcon, ...)")
        texts = sorted(set(data.text_a) | set(data.text_b))
        pos = {t: i for i, t in enumerate(texts)}
        pairs = (torch.tensor([pos[t] for t in data.text_a]),
                 torch.tensor([pos[t] for t in data.text_b]),
                 torch.tensor(data.labels, dtype=torch.float32))
        source = _source(encoder, texts, trainable, config)
        batches: Any = RowBatches(len(data), config.train.groups_per_batch * 2, config.train.seed)
        task = SimilarityTask(model, loss, source, pairs=pairs, **_rates(config))
        n_train, n_val = len(data), 0
    else:
        groups = groups_from_pairs(data) if isinstance(data, TextPairs) else data
        rows = rows_from_groups(groups)
        if items is not None:
            rows = LabelledRows(list(items), rows.labels)
        train_rows, val_rows = (rows.split_groups(config.data.held_out_fraction, config.train.seed)
                                if config.data.held_out_fraction > 0 else (rows, None))
        source = _source(encoder, train_rows.items, trainable, config)
        val_source = _source(encoder, val_rows.items, trainable, config) if val_rows else None
        batches = GroupBatches(train_rows.labels, config.train.groups_per_batch,
                               config.train.per_group, config.train.seed,
                               centroids=_frozen_vectors(encoder, train_rows.items, source,
                                                         config, pristine),
                               hard_share=config.train.hard_batches,
                               companions=_companions(groups, negatives))
        if negatives:
            log.info("hard negatives: %d of %d pairs of groups batched together (the others "
                     "name a group held out for validation or with one text)",
                     batches.companion_pairs,
                     len({tuple(sorted(p)) for p in negatives if p[0] != p[1]}))
        if len(batches) == 0:
            raise SurematchError("training data has fewer than two groups with two or more "
                                 "members: nothing to learn similarity from")
        task = SimilarityTask(model, loss, source, labels=torch.from_numpy(train_rows.labels),
                              val_source=val_source,
                              val_labels=None if val_rows is None else
                              torch.from_numpy(val_rows.labels), **_rates(config))
        n_train, n_val = len(train_rows.items), 0 if val_rows is None else len(val_rows.items)
    encode_s = time.perf_counter() - t0

    callbacks: list[Callback] = []
    if task.val_source is not None:
        callbacks.append(EarlyStopping("val_p_at_1", mode="max", patience=config.train.patience,
                                       check_on_train_epoch_end=True))
    bar = progress and interactive()  # the bar on a terminal, else one log line per epoch
    task.log_epochs = not bar
    trainer = L.Trainer(
        max_epochs=config.train.epochs, accelerator=config.train.accelerator,
        devices=config.train.devices, strategy=config.train.strategy, logger=False,
        enable_checkpointing=False, enable_progress_bar=bar, enable_model_summary=False,
        callbacks=callbacks, num_sanity_val_steps=0, deterministic="warn",
        reload_dataloaders_every_n_epochs=0, use_distributed_sampler=True)
    loader = DataLoader(batches, batch_size=None, shuffle=False, collate_fn=_as_tensor)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*deterministic.*")
        warnings.filterwarnings("ignore", ".*in eval mode.*")  # a frozen encoder stays in eval
        warnings.filterwarnings("ignore", ".*LeafSpec.*")
        trainer.fit(task, train_dataloaders=loader)
    train_s = time.perf_counter() - t1
    if trainer.world_size > 1 and not trainer.is_global_zero:
        # A DDP worker (Lightning started it by running the same command again, or torchrun
        # did): its weights are rank 0's, and rank 0 alone returns, saves and reports.
        raise SystemExit(0)
    model.cpu().eval()
    model.info = {
        "config": config.model_dump(mode="json"),
        "train_rows": n_train, "validation_rows": n_val,
        "epochs_run": trainer.current_epoch, "encode_seconds": round(encode_s, 2),
        "train_seconds": round(train_s, 2), "best_val_p_at_1": task.best_score,
        "history": task.history,
    }
    return model


def _companions(groups: GroupedTexts, negatives: Sequence[tuple[str, str]]
                ) -> list[tuple[int, int]]:
    """The `negatives` (pairs of group ids) as pairs of `rows_from_groups` labels;
    SurematchError naming the group ids `groups` does not hold."""
    label = group_labels(groups)
    unknown = sorted({g for pair in negatives for g in pair if g not in label})
    if unknown:
        raise SurematchError(f"negatives name {len(unknown)} groups the training data does not "
                             f"hold: {', '.join(unknown[:5])}")
    return [(label[a], label[b]) for a, b in negatives]


def _source(encoder: Encoder, items: list[Any], trainable: bool, config: Config) -> FeatureSource:
    return FeatureSource(encoder, items, frozen=not trainable, cache_dir=config.train.cache_dir,
                         batch_size=config.encoder.batch_size,
                         use_cache=encoder.kind == "text")


def _frozen_vectors(encoder: Encoder, items: list[Any], source: FeatureSource,
                    config: Config, pristine: bool) -> np.ndarray | None:
    """The items' vectors before training, for neighbour batches (None when not asked for):
    the frozen table, or (fine-tuning) the encoder's start, through the embedding cache.
    `pristine`: the encoder's weights are still the reference ones, so their cache key is
    the frozen encoder's (whose vectors are likely cached already)."""
    if not config.train.hard_batches:
        return None
    if source.table is not None:
        return source.table.numpy()
    tuned, encoder.fine_tuned = encoder.fine_tuned, not pristine
    try:
        return encode_cached(encoder, items, config.train.cache_dir, config.encoder.batch_size,
                             use_cache=encoder.kind == "text")
    finally:
        encoder.fine_tuned = tuned


def _rates(config: Config) -> Rates:
    return {"lr": config.train.lr, "encoder_lr": config.encoder.lr,
            "weight_decay": config.train.weight_decay,
            "group_loss_weight": config.train.group_loss_weight,
            "schedule": config.train.schedule, "warmup": config.train.warmup}


def _as_tensor(batch: Any) -> torch.Tensor:
    """A batch of row indices [B] as a long tensor."""
    return torch.as_tensor(batch, dtype=torch.long)
