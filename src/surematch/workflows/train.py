"""Train a model: config checked, data read, then (only then) the encoder and Lightning."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.config import Config
from surematch.data.samples import GroupedTexts, TextPairs
from surematch.workflows.data import load_training_data

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    folder: Path
    model_id: str
    epochs_run: int
    train_seconds: float
    best_val_p_at_1: float | None
    runtimes: tuple[str, ...] = ("torch",)  # what the folder can run (exported graphs first)


def build_config(config_file: Path | None, overrides: dict[str, Any],
                 flags: dict[str, str] | None = None, preset: str | None = None) -> Config:
    """The config in layers, each over the one before: the bundled `preset` (or the
    defaults), the YAML `config_file`, then dotted `overrides` (flags); every part checked.
    `flags` names the command-line flag behind each override for errors."""
    if config_file is not None:
        config = Config.from_yaml(config_file, preset=preset)
    else:
        config = Config.from_preset(preset) if preset is not None else Config()
    return config.override(overrides, flags)


def train_model(data: list[Path], out_dir: Path, config: Config,
                progress: bool = True, feedback: Path | None = None,
                references: Path | None = None, export: bool = True,
                start: Path | None = None) -> TrainResult:
    """Read `data`, train on it as `config` says, save the model folder in `out_dir`.

    `feedback`: a folder holding the service's feedback.sqlite3; its accepted and corrected
    reviews join the groups as positives of their reference (one group per reference id,
    with the reference's texts from `references` or the index in that folder). A rejected
    top match of a query that has a right answer (a correction) becomes a hard negative: its
    reference's group is batched with the right reference's every epoch (`train(...,
    negatives=)`); a rejection with no right answer has no group to pair with and is left
    out (counted in the log). Bad input files fail here in a second or two: they are read
    before the encoder and Lightning are imported.

    `start`: a model folder whose encoder and head training continues from (retraining a
    fine-tuned model on its data plus reviews takes a few epochs, not a whole run).

    `export`: a text model is also written as one ONNX graph, fp32 and int8, so that the
    fastest runtime is what every later command uses by default (`runtime auto`)."""
    samples = load_training_data(data, config)
    negatives: list[tuple[str, str]] = []
    if feedback is not None:
        samples, negatives = _with_feedback(samples, feedback, references)
    from surematch.model import SimilarityModel
    from surematch.training import train

    model = train(config, samples, progress=progress, negatives=negatives,
                  start=SimilarityModel.load(start) if start is not None else None)
    model.save(out_dir)
    if export and model.encoder.kind == "text":
        from surematch.runtime.export import export_model

        log.info("exporting the model as one ONNX graph, fp32 and int8 (--no-export to skip)")
        export_model(model, out_dir)
    info = model.info
    from surematch.folder import available_runtimes

    return TrainResult(out_dir, model.identity(), int(info["epochs_run"]),
                       float(info["train_seconds"]), info["best_val_p_at_1"],
                       tuple(available_runtimes(out_dir)))


def _with_feedback(samples: GroupedTexts | TextPairs, feedback: Path, references: Path | None,
                   ) -> tuple[GroupedTexts, list[tuple[str, str]]]:
    """The training groups joined by the reviews' groups (`join_feedback`), and the hard
    negatives (pairs of those group ids, `join_negatives`)."""
    from surematch.data import read_references
    from surematch.errors import InputError
    from surematch.workflows.feedback import feedback_groups, reviews_in, stored_references

    if not isinstance(samples, GroupedTexts):
        raise InputError("--feedback adds groups (a group per reference); train on groups "
                         "or ESCO data", field="--feedback")
    reviews = reviews_in(feedback)
    refs = read_references(references) if references is not None else \
        stored_references(feedback)
    found = feedback_groups(reviews, refs)
    groups = found.groups
    log.info("feedback: %d texts in %d reference groups from %d reviews; %d rejected top "
             "matches batched with the right reference as hard negatives, %d left out (their "
             "query has no right answer)", len(groups), len(set(groups.groups)), len(reviews),
             len(found.negatives), found.unpaired)
    if not len(groups):
        log.warning("feedback: no accepted or corrected reviews to train on")
        return samples, []
    return (join_feedback(samples, groups, only=found.queries),
            join_negatives(samples, found.negatives))


def join_feedback(samples: GroupedTexts, feedback: GroupedTexts,
                  only: Collection[str] | None = None) -> GroupedTexts:
    """The training groups plus the feedback groups (one per reference id). A feedback group
    whose reference id names a training group ("dataset/<id>", as ESCO's are named by uri)
    joins it, texts it holds already left out: two groups of one reference would be in-batch
    negatives of each other. The others are added as groups of their own.

    `only` (e.g. `FeedbackGroups.queries`): the texts that may join a training group; the
    reference's own texts stay out of it, since the training data already says what the
    reference is (measured: 250 reviews brought 230 long descriptions into the known
    protocol's title groups, training took 4.5 times as long and test P@1 fell 0.4 points).
    A group of its own keeps all its texts: they are its only positives."""
    from surematch.data import combine_groups

    named = _named(samples)
    have = set(zip(samples.texts, samples.groups, strict=True))
    joined: list[tuple[str, str]] = []
    apart: list[int] = []
    for i, (text, group) in enumerate(zip(feedback.texts, feedback.groups, strict=True)):
        target = named.get(group.split("/", 1)[1])
        if target is None:
            apart.append(i)
        elif (text, target) not in have and (only is None or text in only):
            have.add((text, target))
            joined.append((text, target))
    log.info("feedback: %d new texts joined their reference's training group, %d texts in "
             "groups of their own", len(joined), len(apart))
    merged = GroupedTexts([*samples.texts, *(t for t, _ in joined)],
                          [*samples.groups, *(g for _, g in joined)])
    return combine_groups([merged, feedback.subset(apart)]) if apart else merged


def join_negatives(samples: GroupedTexts, negatives: list[tuple[str, str]]
                   ) -> list[tuple[str, str]]:
    """The feedback groups' hard-negative pairs (`FeedbackGroups.negatives`) as the group
    ids `join_feedback(samples, ...)` gives them: a feedback group that joined a training
    group goes by that group's id."""
    named = _named(samples)

    def joined(group: str) -> str:
        return named.get(group.split("/", 1)[1], group)

    return [(joined(a), joined(b)) for a, b in negatives]


def _named(samples: GroupedTexts) -> dict[str, str]:
    """{reference id: the training group named "dataset/<id>"} (of two data sets naming one
    id, the first in sorted order)."""
    named: dict[str, str] = {}
    for g in sorted(set(samples.groups)):
        named.setdefault(g.split("/", 1)[1], g)
    return named
