"""Embed the next batch while this one is used: the one pipeline of imports and files of queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def embed_ahead(batches: Iterable[T], embed: Callable[[T], R]) -> Iterator[tuple[T, R]]:
    """(batch, embed(batch)) in order, embed running one batch ahead in a worker thread
    (onnxruntime and torch release the GIL), so a batch is searched or written while the next
    is embedded. The next batch is taken from `batches` while this one is embedded; an error
    raised by `batches` or `embed` reaches the caller once the batches before it are yielded."""
    with ThreadPoolExecutor(1, thread_name_prefix="embed") as pool:
        source = iter(batches)
        batch = next(source, _END)
        future = pool.submit(embed, batch) if batch is not _END else None
        while future is not None:
            error: Exception | None = None
            try:
                following = next(source, _END)
            except Exception as e:  # raised once this batch is done with
                following, error = _END, e
            result = future.result()
            future = pool.submit(embed, following) if following is not _END else None
            yield batch, result
            if error is not None:
                raise error
            batch = following


_END: Any = object()
