"""Train a model: config checked, data read, then (only then) the encoder and Lightning."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from surematch.config import Config
from surematch.workflows.data import load_training_data


@dataclass(frozen=True)
class TrainResult:
    folder: Path
    model_id: str
    epochs_run: int
    train_seconds: float
    best_val_p_at_1: float | None


def build_config(config_file: Path | None, overrides: dict[str, Any],
                 flags: dict[str, str] | None = None) -> Config:
    """The YAML config (or the defaults) with dotted `overrides` applied and every part
    checked; `flags` names the command-line flag behind each override for errors."""
    config = Config.from_yaml(config_file) if config_file else Config()
    return config.override(overrides, flags)


def train_model(data: list[Path], out_dir: Path, config: Config,
                progress: bool = True) -> TrainResult:
    """Read `data`, train on it as `config` says, save the model folder in `out_dir`.

    Bad input files fail here in a second or two: they are read before the encoder and
    Lightning are imported."""
    samples = load_training_data(data, config)
    from surematch.training import train

    model = train(config, samples, progress=progress)
    model.save(out_dir)
    info = model.info
    return TrainResult(out_dir, model.identity(), int(info["epochs_run"]),
                       float(info["train_seconds"]), info["best_val_p_at_1"])
