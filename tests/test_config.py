"""The one config model: YAML, overrides, and errors naming the field."""

import pytest

from surematch.config import Config
from surematch.errors import InputError


def test_yaml_values_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train: {epochs: 3, lr: 0.01}\nloss: {name: supcon}\n")
    config = Config.from_yaml(path)
    assert (config.train.epochs, config.train.lr, config.loss.name) == (3, 0.01, "supcon")
    changed = config.override({"train.epochs": 7, "loss.name": None})
    assert changed.train.epochs == 7 and changed.loss.name == "supcon"


@pytest.mark.parametrize(("text", "field"), [
    ("train: {epochs: 0}\n", "train.epochs"),
    ("trian: {epochs: 2}\n", "trian"),
    ("data: {format: xml}\n", "data.format"),
])
def test_bad_values_name_the_field(tmp_path, text, field):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        Config.from_yaml(path)
    assert f'field "{field}"' in str(err.value) and "c.yaml" in str(err.value)


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: [1\n")
    with pytest.raises(InputError, match=r"c\.yaml, line"):
        Config.from_yaml(path)
