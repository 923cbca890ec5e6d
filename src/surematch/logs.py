"""The one logging setup and terminal output: rich on a terminal, one plain line per message
without one (CI, a pipe, a file); progress bars only on a terminal; quiet third-party libraries."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

_NOISY = ("lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric",
          "sentence_transformers", "transformers", "httpx", "urllib3", "qdrant_client",
          "matplotlib")
_verbose = 0


def interactive() -> bool:
    """True when stderr is a terminal: progress bars and rich layout; else one line each."""
    return sys.stderr.isatty()


def setup_logging(verbose: int = 0) -> None:
    """INFO for surematch (DEBUG with -v); third-party libraries at WARNING (INFO with -vv).
    On a terminal, rich's layout; otherwise `HH:MM:SS LEVEL message`, one line per message
    (never wrapped, so a log file greps)."""
    global _verbose
    _verbose = verbose
    level = logging.DEBUG if verbose >= 1 else logging.INFO
    handler: logging.Handler
    if interactive():
        handler = RichHandler(console=Console(stderr=True), show_path=False,
                              rich_tracebacks=False)
        fmt = "%(message)s"
    else:
        handler = logging.StreamHandler(sys.stderr)
        fmt = "%(asctime)s %(levelname)s %(message)s"
    logging.basicConfig(level=level, format=fmt, datefmt="%H:%M:%S", force=True,
                        handlers=[handler])
    quiet_third_party()


@contextlib.contextmanager
def progress_bar(show: bool, total: int | None, what: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, drawn only when `show` and stderr is a terminal (redrawn bars
    fill a log with lines); yields advance(n)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True,
                  disable=not (show and interactive())) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


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
