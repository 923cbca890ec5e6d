"""`train --preset`: bundled recipes listed with a line each, layered preset < config < flags,
and the fine-tune preset training a tiny text model end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tests.tiny_text_model import save_tiny_text_model

from surematch.config import Config
from surematch.errors import InputError
from surematch.model import SimilarityModel
from surematch.presets import merged, preset_settings, presets
from surematch.workflows.train import build_config, train_model


def test_every_preset_is_listed_with_a_line_and_is_a_valid_config() -> None:
    listed = presets()
    assert {"default", "fine-tune"} <= set(listed)
    for name, description in listed.items():
        assert description and "\n" not in description
        Config.from_preset(name)  # raises on a bad bundled file
    assert Config.from_preset("fine-tune").encoder.fine_tune is True
    assert Config.from_preset("default") == Config()


def test_an_unknown_preset_lists_them_all() -> None:
    with pytest.raises(InputError) as err:
        preset_settings("list")
    text = str(err.value)
    assert "--preset" in text and "unknown preset 'list'" in text
    for name, description in presets().items():
        assert f"{name}: {description}" in text


def test_merge_goes_section_by_section() -> None:
    base = {"encoder": {"fine_tune": True, "lr": 1e-4}, "head": [{"kind": "skip"}]}
    over = {"encoder": {"lr": 5e-5}, "head": [{"kind": "linear"}]}
    assert merged(base, over) == {"encoder": {"fine_tune": True, "lr": 5e-5},
                                  "head": [{"kind": "linear"}]}


def test_layers_preset_then_config_then_flags(tmp_path: Path) -> None:
    preset = Config.from_preset("fine-tune")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("train: {epochs: 7, per_group: 3}\n")
    config = build_config(recipe, {"train.epochs": 2}, preset="fine-tune")
    assert config.train.epochs == 2  # the flag beats the config
    assert config.train.per_group == 3  # the config beats the preset / defaults
    assert config.encoder.fine_tune is True and config.encoder.lr == preset.encoder.lr
    assert config.train.groups_per_batch == preset.train.groups_per_batch  # the preset's
    flagged = build_config(None, {"encoder.fine_tune": False}, preset="fine-tune")
    assert flagged.encoder.fine_tune is False
    assert flagged.encoder.max_seq_length == preset.encoder.max_seq_length


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("preset")
    save_tiny_text_model(root)
    rows = [f"{t},{g}" for g in range(8) for t in (f"job {g} a", f"job {g} b", f"work {g}")]
    (root / "groups.csv").write_text("text,group\n" + "\n".join(rows) + "\n")
    (root / "recipe.yaml").write_text(
        f"encoder: {{model: {root / 'st'}}}\ndata: {{held_out_fraction: 0.0}}\n"
        "train: {groups_per_batch: 4, per_group: 2}\n")
    return root


def test_the_fine_tune_preset_trains_the_encoder(tiny: Path) -> None:
    config = build_config(tiny / "recipe.yaml", {"train.epochs": 1, "train.hard_batches": 1.0},
                          preset="fine-tune")
    before = SimilarityModel.load(tiny / "model").encoder.state_dict()
    result = train_model([tiny / "groups.csv"], tiny / "tuned", config, progress=False,
                         export=False)
    model = SimilarityModel.load(tiny / "tuned")
    assert result.epochs_run == 1 and model.info["config"]["encoder"]["fine_tune"] is True
    after = model.encoder.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed  # the encoder trained, not only the head
    preset = Config.from_preset("fine-tune")
    assert (config.train.schedule, config.train.warmup) == (preset.train.schedule,
                                                            preset.train.warmup) != ("constant", 0)
    assert config.train.groups_per_batch == 4  # the recipe beats the preset
    assert model.encoder.max_seq_length == config.encoder.max_seq_length


def test_frozen_layers_stay_and_too_many_is_an_error(tiny: Path) -> None:
    config = build_config(tiny / "recipe.yaml", {"train.epochs": 1, "encoder.frozen_layers": 1},
                          preset="fine-tune")
    before = SimilarityModel.load(tiny / "model").encoder.state_dict()
    train_model([tiny / "groups.csv"], tiny / "frozen", config, progress=False, export=False)
    after = SimilarityModel.load(tiny / "frozen").encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # its one layer + embeddings
    too_many = config.override({"encoder.frozen_layers": 2})
    with pytest.raises(Exception, match="has 1 layers"):
        train_model([tiny / "groups.csv"], tiny / "bad", too_many, progress=False, export=False)


def test_training_continues_from_a_start_model(tiny: Path) -> None:
    """With --start, the encoder and head begin at the saved model's weights (at a learning
    rate too small to move them, the result is that model), not at the config's encoder."""
    config = build_config(tiny / "recipe.yaml", {"train.epochs": 1}, preset="fine-tune")
    train_model([tiny / "groups.csv"], tiny / "first", config, progress=False, export=False)
    still = config.override({"encoder.lr": 1e-12, "train.lr": 1e-12})
    train_model([tiny / "groups.csv"], tiny / "again", still, progress=False, export=False,
                start=tiny / "first")
    first, again = (SimilarityModel.load(tiny / n).state_dict() for n in ("first", "again"))
    original = SimilarityModel.load(tiny / "model").encoder.state_dict()
    assert all(torch.allclose(first[k], again[k], atol=1e-6) for k in first)
    assert any(not torch.equal(original[k], first[f"encoder.{k}"]) for k in original)
