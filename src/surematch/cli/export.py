"""`surematch export MODEL`: write the model as one ONNX graph (fp32 and int8) into its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import VerboseOpt
from surematch.logs import setup_logging

out = Console()


@app.command(name="export")
def export_cmd(
    model: Annotated[Path, typer.Argument(help="model folder (a text model)")],
    verbose: VerboseOpt = 0,
) -> None:
    """Export MODEL (tokenizer settings, encoder, pooling, head, normalisation) as one ONNX
    graph, fp32 and int8, beside it; `--runtime onnx-int8` (or auto) then uses it."""
    from surematch.workflows.export import export

    setup_logging(verbose)
    manifest = export(model)
    graphs = ", ".join(f"{name} ({g['file']})" for name, g in manifest["graphs"].items())
    out.print(f"exported model {manifest['model_id']} to {model}: {graphs}; calibrate with "
              "--runtime onnx-int8 to serve it calibrated")
