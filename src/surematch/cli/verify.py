"""`surematch verify`: are two texts the same thing? Distance, calibrated probability, band."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from surematch.cli.app import app
from surematch.cli.options import RuntimeOpt, VerboseOpt
from surematch.folder import DEFAULT_RUNTIME
from surematch.logs import setup_logging

out = Console()


@app.command()
def verify(
    model: Annotated[Path, typer.Argument(help="model folder")],
    text_a: Annotated[str, typer.Argument(help="first text")],
    text_b: Annotated[str, typer.Argument(help="second text")],
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    runtime: RuntimeOpt = DEFAULT_RUNTIME,
    verbose: VerboseOpt = 0,
) -> None:
    """Decide whether TEXT_A and TEXT_B match, with a calibrated probability."""
    from surematch.workflows.verify import verify_texts

    setup_logging(verbose)
    result = verify_texts(model, text_a, text_b, runtime)
    if json_out:
        print(json.dumps(result))
        return
    if result["probability"] is None:
        out.print(f"distance {result['distance']:.4f} (similarity {result['similarity']:.4f})\n"
                  f"{result['note']}", highlight=False)
        return
    verdict = "verified" if result["verified"] else "not verified"
    out.print(f"{verdict}: distance {result['distance']:.4f} (threshold "
              f"{result['threshold']:.4f}), probability {result['probability']:.4f} "
              f"({result['percent']:.1f} %), band {result['band']}", highlight=False)
