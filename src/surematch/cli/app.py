"""The Typer application every command module registers itself on."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode="markdown",  # docstrings reflow to the terminal width
                  help="Similarity learning with confidence you can act on.")
