"""The `surematch` command line (Typer): one sub-module per command group."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from surematch.cli.app import app
from surematch.errors import InputError, SurematchError

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
        message = exc.cli_message() if isinstance(exc, InputError) else str(exc)
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
