"""`surematch train` end to end, and bad input ending in one clear line (exit 2)."""

import subprocess
import sys
from pathlib import Path

import pytest

from surematch.model import SimilarityModel

pytestmark = pytest.mark.slow

ROWS = [("senior nurse", "nurse"), ("registered nurse", "nurse"), ("nurse", "nurse"),
        ("truck driver", "driver"), ("lorry driver", "driver"), ("hgv driver", "driver"),
        ("python developer", "dev"), ("software engineer", "dev"), ("programmer", "dev"),
        ("chef", "cook"), ("head cook", "cook"), ("kitchen chef", "cook")]


def surematch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from surematch.cli import main; main()",
                           *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_train_writes_a_model_that_loads(tmp_path):
    data = tmp_path / "jobs.csv"
    data.write_text("title,category\n" + "".join(f"{t},{g}\n" for t, g in ROWS))
    (tmp_path / "recipe.yaml").write_text(
        "data: {held_out_fraction: 0.0}\nhead: [{kind: skip}]\ntrain: {epochs: 2}\n")
    result = surematch("train", str(data), "--out", str(tmp_path / "m"), "--config",
                       str(tmp_path / "recipe.yaml"), "--column", "text=title",
                       "--column", "group=category", "--epochs", "1", "--no-export",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = SimilarityModel.load(tmp_path / "m")
    assert model.info["epochs_run"] == 1  # the flag overrode the YAML's 2
    assert model.info["config"]["head"] == [{"kind": "skip"}]
    assert model.embed(["nurse"]).shape == (1, 384)
    assert "runtimes torch" in result.stdout and not (tmp_path / "m" / "runtime.json").exists()


@pytest.mark.parametrize(("content", "message"), [
    ("text,group\nnurse,a\n,a\n", 'line 3, field "text"'),
    ("words,group\nnurse,a\n", "remap it: --column text=<column in your file>"),
])
def test_bad_input_is_one_line_naming_the_place(tmp_path, content, message):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    result = surematch("train", str(data), "--out", str(tmp_path / "m"), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.csv" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_a_bad_config_field_is_named(tmp_path):
    (tmp_path / "recipe.yaml").write_text("train: {epochs: zero}\n")
    (tmp_path / "d.csv").write_text("text,group\na,1\nb,1\n")
    result = surematch("train", str(tmp_path / "d.csv"), "--out", str(tmp_path / "m"),
                       "--config", str(tmp_path / "recipe.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "recipe.yaml" in result.stderr and "train.epochs" in result.stderr


HEAVY = "import sys; from surematch.cli import main\ntry:\n    main()\nfinally:\n" \
        "    print('heavy:', sorted(m for m in ('lightning', 'sentence_transformers') " \
        "if m in sys.modules))"


@pytest.mark.parametrize(("args", "content", "message"), [
    (["--loss", "nosuch"], "text,group\nnurse,a\nrn,a\n",
     'field "--loss": unknown loss \'nosuch\'; known losses: all_pairs, contrastive'),
    ([], "text,group\nnurse,a\n,a\n", 'bad.csv, line 3, field "text": empty text'),
])
def test_bad_options_and_files_fail_before_heavy_imports(tmp_path, args, content, message):
    """One line naming the flag or the line, exit 2, and neither the encoder's library nor
    Lightning was imported (both take seconds): the check comes first."""
    data = tmp_path / "bad.csv"
    data.write_text(content)
    result = subprocess.run([sys.executable, "-c", HEAVY, "train", str(data), "--out",
                             str(tmp_path / "m"), *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr.replace("\n", " ")
    assert "Traceback" not in result.stderr
    assert "heavy: []" in result.stdout


def test_an_unknown_preset_lists_the_presets_before_heavy_imports(tmp_path):
    (tmp_path / "d.csv").write_text("text,group\nnurse,a\nrn,a\n")
    result = subprocess.run([sys.executable, "-c", HEAVY, "train", str(tmp_path / "d.csv"),
                             "--out", str(tmp_path / "m"), "--preset", "?"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    message = result.stderr.replace("\n", " ")
    assert "unknown preset '?'" in message and "fine-tune: Fine-tunes" in message
    assert "default: Frozen" in message and "heavy: []" in result.stdout
