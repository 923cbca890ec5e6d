"""`surematch train`: fit a model on groups, pairs or ESCO files and save its folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli import app
from surematch.config import Config
from surematch.data import combine_groups, read_groups, read_pairs
from surematch.data.samples import GroupedTexts, TextPairs
from surematch.errors import InputError
from surematch.logs import setup_logging

out = Console()


def load_training_data(paths: list[Path], config: Config) -> GroupedTexts | TextPairs:
    """Read every file in the configured format; several group files are combined."""
    fmt, cols = config.data.format, config.data.columns or None
    if fmt == "pairs":
        if len(paths) > 1:
            raise InputError("pairs: give one file (several are supported for groups)")
        return read_pairs(paths[0], columns=cols)
    if fmt == "esco":
        from surematch.data.esco import esco_groups, esco_title_description_pairs, read_esco
        from surematch.training.samples import groups_from_pairs

        parts = []
        for p in paths:
            occupations = read_esco(p)
            parts.append(esco_groups(occupations, dataset=p.stem.replace("/", "_")))
            if config.data.esco_description_pairs:
                parts.append(groups_from_pairs(esco_title_description_pairs(occupations),
                                               dataset=f"{p.stem}-descriptions"))
        return combine_groups(parts) if len(parts) > 1 else parts[0]
    parts = [read_groups(p, columns=cols) for p in paths]
    return combine_groups(parts) if len(parts) > 1 else parts[0]


def parse_columns(pairs: list[str]) -> dict[str, str]:
    columns = {}
    for item in pairs:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            raise InputError(f"--column {item!r}: expected OURS=THEIRS, e.g. text=title")
        columns[ours] = theirs
    return columns


@app.command()
def train(
    data: Annotated[list[Path], typer.Argument(help="groups / pairs / ESCO files")],
    out_dir: Annotated[Path, typer.Option("--out", help="model folder to write")],
    config_file: Annotated[Path | None, typer.Option("--config", help="YAML config")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="groups, pairs or esco")] = None,
    column: Annotated[list[str], typer.Option(help="remap a column: OURS=THEIRS")] = [],  # noqa: B006
    encoder: Annotated[str | None, typer.Option(help="text model name or folder")] = None,
    head: Annotated[str | None, typer.Option(help="head kind (skip, linear, gated, "
                                             "feature_groups) or a JSON list of specs")] = None,
    loss: Annotated[str | None, typer.Option(help="loss name")] = None,
    epochs: Annotated[int | None, typer.Option(help="maximum epochs")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    fine_tune: Annotated[bool | None, typer.Option("--fine-tune/--frozen",
                                                   help="train the encoder too")] = None,
    verbose: Annotated[int, typer.Option("-v", count=True, help="more log output")] = 0,
) -> None:
    """Train a similarity model. The YAML config covers every option; flags override it."""
    setup_logging(verbose)
    from surematch.training import train as fit

    config = Config.from_yaml(config_file) if config_file else Config()
    head_spec = None
    if head is not None:
        head_spec = json.loads(head) if head.strip().startswith(("[", "{")) else [{"kind": head}]
    config = config.override({
        "data.format": fmt, "data.columns": parse_columns(column) or None,
        "encoder.model": encoder, "head": head_spec, "loss.name": loss,
        "train.epochs": epochs, "train.seed": seed, "encoder.fine_tune": fine_tune})
    model = fit(config, load_training_data(data, config))
    model.save(out_dir)
    info = model.info
    out.print(f"saved [bold]{out_dir}[/] (model {model.identity()}): {info['epochs_run']} epochs "
              f"in {info['train_seconds']:.1f} s, best validation P@1 "
              f"{info['best_val_p_at_1'] or float('nan'):.3f}")
