"""The `surematch` command line (Typer): one sub-module per command group."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from surematch.errors import SurematchError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Similarity learning with confidence you can act on.")
err = Console(stderr=True)


def load_commands() -> typer.Typer:
    """Import every command module (each registers itself on `app`) and return `app`."""
    from surematch.cli import (  # noqa: F401
        calibrate,
        demo,
        evaluate,
        export,
        feedback,
        index,
        match,
        rules,
        serve,
        train,
        verify,
    )

    return app


def main() -> None:
    """Console entry point: bad input ends in one clear line and exit code 2, no traceback."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # surematch never downloads models
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # our own bars say enough
    load_commands()
    try:
        app()
    except SurematchError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
