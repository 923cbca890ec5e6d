"""The Typer application every command module registers itself on."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Similarity learning with confidence you can act on.")
