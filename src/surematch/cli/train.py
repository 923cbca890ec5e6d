"""`surematch train`: fit a model on groups, pairs or ESCO files and save its folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import ColumnOpt, VerboseOpt, parse_columns
from surematch.logs import setup_logging

out = Console()
# dotted config field -> the flag that sets it, so that errors name the flag
FLAGS = {"data.format": "--format", "data.columns": "--column", "encoder.model": "--encoder",
         "head": "--head", "loss.name": "--loss", "loss.params": "--loss",
         "train.epochs": "--epochs", "train.seed": "--seed", "encoder.fine_tune": "--fine-tune"}


@app.command()
def train(
    data: Annotated[list[Path], typer.Argument(help="groups / pairs / ESCO files")],
    out_dir: Annotated[Path, typer.Option("--out", help="model folder to write")],
    preset: Annotated[str | None, typer.Option(
        help="bundled recipe under --config and the flags: fine-tune (the encoder end to "
             "end, minutes on a CPU) or default (frozen encoder, head only); an unknown name "
             "lists them")] = None,
    config_file: Annotated[Path | None, typer.Option(
        "--config", help="YAML config, over the preset")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="groups, pairs or esco")] = None,
    column: ColumnOpt = [],  # noqa: B006
    encoder: Annotated[str | None, typer.Option(help="text model name or folder")] = None,
    head: Annotated[str | None, typer.Option(help="head kind (skip, linear, gated, "
                                             "feature_groups) or a JSON list of specs")] = None,
    loss: Annotated[str | None, typer.Option(help="loss name")] = None,
    epochs: Annotated[int | None, typer.Option(help="maximum epochs")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    fine_tune: Annotated[bool | None, typer.Option("--fine-tune/--frozen",
                                                   help="train the encoder too")] = None,
    feedback: Annotated[Path | None, typer.Option(
        help="folder with the service's feedback.sqlite3: accepted and corrected review "
             "queries join their reference's group; a rejected top match of a corrected "
             "query is batched with the right reference as a hard negative")] = None,
    references: Annotated[Path | None, typer.Option(
        help="with --feedback: the references (id, text) the reviews name (default: the "
             "index in the --feedback folder)")] = None,
    start: Annotated[Path | None, typer.Option(
        help="model folder to continue training (its encoder and head) instead of a new "
             "head on --encoder; e.g. with --feedback, a few epochs on data plus reviews")
    ] = None,
    export: Annotated[bool, typer.Option(
        "--export/--no-export", help="also write the text model as one ONNX graph (fp32 and "
        "int8), the fast runtime every later command picks by default")] = True,
    verbose: VerboseOpt = 0,
) -> None:
    """Train a similarity model. The YAML config covers every option; it goes over the
    preset, and flags override both."""
    from surematch.workflows.train import build_config, train_model

    setup_logging(verbose)
    head_spec = None
    if head is not None:
        head_spec = json.loads(head) if head.strip().startswith(("[", "{")) else [{"kind": head}]
    config = build_config(config_file, {
        "data.format": fmt, "data.columns": parse_columns(column) or None,
        "encoder.model": encoder, "head": head_spec, "loss.name": loss,
        "train.epochs": epochs, "train.seed": seed, "encoder.fine_tune": fine_tune}, FLAGS,
        preset=preset)
    result = train_model(data, out_dir, config, feedback=feedback, references=references,
                         export=export, start=start)
    best = result.best_val_p_at_1
    out.print(f"saved [bold]{out_dir}[/] (model {result.model_id}): {result.epochs_run} epochs "
              f"in {result.train_seconds:.1f} s, best validation P@1 "
              f"{best if best is not None else float('nan'):.3f}; runtimes "
              f"{', '.join(result.runtimes)}")
