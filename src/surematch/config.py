"""The one configuration model: every training option, read from YAML and overridden by flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from surematch.errors import InputError

_STRICT = ConfigDict(extra="forbid")


class DataConfig(BaseModel):
    """What to train on: a groups or pairs file, or ESCO's own CSV (`format: esco`)."""

    model_config = _STRICT
    format: Literal["groups", "pairs", "esco"] = "groups"
    columns: dict[str, str] = Field(default_factory=dict, description="our column -> file column")
    esco_description_pairs: bool = Field(
        False, description="ESCO: add self-supervised title <-> description pairs")
    held_out_fraction: float = Field(
        0.15, ge=0.0, lt=1.0, description="share of groups kept out of training for validation")


class EncoderConfig(BaseModel):
    """The pre-trained encoder under the head, frozen (with a cache) or fine-tuned."""

    model_config = _STRICT
    kind: Literal["text", "image_cnn", "vectors"] = "text"
    model: str = Field("all-MiniLM-L6-v2", description="bundled name or a local folder (text)")
    vectors: Path | None = Field(None, description="vectors file (kind: vectors)")
    params: dict[str, Any] = Field(default_factory=dict, description="image_cnn constructor args")
    fine_tune: bool = False
    lr: float = Field(2e-5, gt=0, description="learning rate of the encoder when fine-tuned")
    max_seq_length: int = Field(64, ge=4, description="text: tokens kept per text (a job "
                                "title has under 16)")
    frozen_layers: int = Field(0, ge=0, description="text, fine-tuned: the token embeddings "
                               "and the lowest N transformer layers stay as they are")
    batch_size: int = Field(256, ge=1, description="items per encoding batch")


class LossConfig(BaseModel):
    """Which loss, with its parameters (see `surematch.losses`)."""

    model_config = _STRICT
    name: str = "multiple_negatives"
    params: dict[str, float | str] = Field(default_factory=dict)


class TrainConfig(BaseModel):
    """The optimisation loop."""

    model_config = _STRICT
    epochs: int = Field(15, ge=1)
    groups_per_batch: int = Field(256, ge=2, description="P: groups drawn into one batch")
    per_group: int = Field(4, ge=2, description="K: members drawn from each group")
    lr: float = Field(1e-3, gt=0, description="learning rate of the head")
    weight_decay: float = Field(0.0, ge=0)
    schedule: Literal["constant", "linear"] = Field(
        "constant", description="learning rates over the run: constant, or linear (up over "
        "the warmup steps, then down to 0 at the last step)")
    warmup: float = Field(0.0, ge=0.0, lt=1.0, description="schedule linear: share of the "
                          "run's steps spent raising the learning rates from 0")
    group_loss_weight: float = Field(
        1.0, ge=0, description="feature-group head with a skip branch: weight of the same loss "
        "on the groups alone, so that their peakedness carries confidence")
    hard_batches: float = Field(
        0.0, ge=0.0, le=1.0, description="share of each epoch's groups batched with their "
        "nearest groups (by the frozen encoder): harder in-batch negatives")
    seed: int = 0
    patience: int = Field(3, ge=1, description="epochs without a better validation P@1")
    accelerator: str = Field("cpu", description="Lightning accelerator: cpu, gpu, auto")
    devices: int | str = "auto"
    strategy: str = Field("auto", description="Lightning strategy, e.g. ddp")
    cache_dir: Path | None = Field(None, description="embedding cache; default ~/.cache/surematch")


class Config(BaseModel):
    """Everything `surematch train` needs; `surematch train --config FILE` reads it from YAML."""

    model_config = _STRICT
    data: DataConfig = Field(default_factory=DataConfig)
    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    head: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"kind": "feature_groups", "groups": 16, "size": 16,
                                  "skip_dim": 384, "temperature": 1.0}],
        description="head specs, stacked in order (see surematch.heads)")
    loss: LossConfig = Field(default_factory=LossConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    @classmethod
    def from_yaml(cls, path: str | Path, preset: str | None = None) -> Config:
        """The YAML file's config, laid over the bundled `preset`'s (see surematch.presets)."""
        from surematch.presets import merged, preset_settings

        raw = read_yaml(path)
        if preset is not None:
            raw = merged(preset_settings(preset), raw)
        return cls.validated(raw, source=path)

    @classmethod
    def from_preset(cls, name: str) -> Config:
        """The bundled preset `name` (InputError listing the presets if there is none)."""
        from surematch.presets import preset_settings

        return cls.validated(preset_settings(name), source=f"preset {name}")

    @classmethod
    def validated(cls, raw: Any, source: str | Path = "config",
                  flags: dict[str, str] | None = None) -> Config:
        """Build from plain data and check the parts it names (loss, head), turning errors
        into one InputError naming the field, or the command-line flag in `flags` (dotted
        field -> flag) that set it. Nothing heavy is loaded: no encoder, no data."""
        names = flags or {}
        try:
            config = cls.model_validate(raw)
            config.check_parts()
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputError(first["msg"], file=source, field=names.get(field, field)) from None
        except InputError as exc:
            raise InputError(exc.message, file=source,
                             field=names.get(exc.field or "", exc.field)) from None
        return config

    def check_parts(self) -> None:
        """InputError unless the loss (name, parameters) and the head spec are known."""
        from surematch.heads import check_head_spec
        from surematch.losses import build_loss

        build_loss(self.loss.name, self.loss.params)
        try:
            check_head_spec(self.head)
        except InputError as exc:
            raise InputError(exc.message, field="head") from None

    def override(self, updates: dict[str, Any], flags: dict[str, str] | None = None) -> Config:
        """A copy with dotted keys replaced, e.g. {"train.epochs": 3}; None values are skipped.
        `flags` names the command-line flag behind each dotted key, for error messages."""
        raw = self.model_dump(mode="json")
        for dotted, value in updates.items():
            if value is None:
                continue
            *parents, leaf = dotted.split(".")
            node = raw
            for p in parents:
                node = node[p]
            node[leaf] = value
        return Config.validated(raw, source="command-line option", flags=flags)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A config file as plain data; InputError naming the file (and line) if it is not one."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError("config file not found", file=path) from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(f"not valid YAML: {exc}", file=path,
                         line=None if line is None else line + 1) from None
    if not isinstance(raw, dict):
        raise InputError("a config must be a mapping of sections (data, encoder, head, loss, "
                         "train)", file=path)
    return raw
