"""The one logging setup: rich output on stderr, quiet third-party libraries."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

_NOISY = ("lightning", "lightning.pytorch", "lightning_fabric", "sentence_transformers",
          "transformers", "httpx", "urllib3", "qdrant_client")


def setup_logging(verbose: int = 0) -> None:
    """INFO for surematch (DEBUG with -v); third-party libraries at WARNING (INFO with -vv)."""
    level = logging.DEBUG if verbose >= 1 else logging.INFO
    logging.basicConfig(
        level=level, format="%(message)s", datefmt="[%X]", force=True,
        handlers=[RichHandler(console=Console(stderr=True), show_path=False,
                              rich_tracebacks=False)])
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
