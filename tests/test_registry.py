"""The one registry style: lookups, and errors naming the option and the choices."""

import pytest

from surematch.confidence.calibrators.registry import CALIBRATORS, make_calibrator
from surematch.encoders import ENCODERS, encoder_from_config
from surematch.errors import InputError
from surematch.heads import HEADS
from surematch.losses import LOSSES
from surematch.registry import Registry


def test_a_registry_is_a_read_only_mapping_with_clear_errors() -> None:
    reg: Registry[int] = Registry("colour", "colours", option="--colour")
    reg.add("red", 1)
    reg.add("blue", 2)
    assert dict(reg) == {"red": 1, "blue": 2} and "red" in reg and "green" not in reg
    assert reg.get("green") is None and reg.check("blue") == "blue"
    with pytest.raises(InputError) as err:
        reg["green"]
    assert err.value.field == "--colour"
    assert str(err.value) == 'field "--colour": unknown colour \'green\'; known colours: blue, red'
    with pytest.raises(InputError, match='field "-c"'):
        reg.check("green", option="-c")
    with pytest.raises(ValueError, match="twice"):
        reg.add("red", 3)


@pytest.mark.parametrize(("registry", "option"), [
    (LOSSES, "loss.name"), (HEADS, "head.kind"), (ENCODERS, "encoder.kind"),
    (CALIBRATORS, "calibrator")])
def test_every_part_registry_names_its_option_and_choices(registry: Registry, option: str,
                                                          ) -> None:
    with pytest.raises(InputError) as err:
        registry["nosuch"]
    assert err.value.field == option
    assert all(name in str(err.value) for name in registry)


def test_lookups_through_the_builders_use_the_registries() -> None:
    with pytest.raises(InputError, match="unknown encoder kind 'lstm'; known kinds: image_cnn"):
        encoder_from_config("lstm", {})
    with pytest.raises(InputError, match="unknown calibrator 'svm'; known calibrators: beta"):
        make_calibrator("svm")
