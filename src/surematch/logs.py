"""The one logging setup: rich output on stderr, quiet third-party libraries."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

_NOISY = ("lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric",
          "sentence_transformers", "transformers", "httpx", "urllib3", "qdrant_client")
_verbose = 0


def setup_logging(verbose: int = 0) -> None:
    """INFO for surematch (DEBUG with -v); third-party libraries at WARNING (INFO with -vv)."""
    global _verbose
    _verbose = verbose
    level = logging.DEBUG if verbose >= 1 else logging.INFO
    logging.basicConfig(
        level=level, format="%(message)s", datefmt="[%X]", force=True,
        handlers=[RichHandler(console=Console(stderr=True), show_path=False,
                              rich_tracebacks=False)])
    quiet_third_party()


def quiet_third_party() -> None:
    """Put third-party loggers back under our setup. Call it again after importing a library
    that configures its own logging on import (Lightning sets INFO and a handler of its own,
    which printed each of its lines twice and its advertisements): its lines go through our
    one handler, at WARNING unless -vv asked for more."""
    for name in _NOISY:
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO if _verbose >= 2 else logging.WARNING)
        logger.handlers.clear()
        logger.propagate = True
