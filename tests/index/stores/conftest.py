"""Fixtures for the index tests: the same store behaviour on both backends, reopenable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from surematch.index.stores.base import BaseStore
from surematch.index.stores.edge import EdgeStore
from surematch.index.stores.server import ServerStore

DIM = 16
Opener = Callable[..., BaseStore]


@pytest.fixture(params=["edge", "local"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the store of this test: embedded edge, or qdrant-client's local mode in a folder."""
    opened: list[BaseStore] = []

    def open_store(dim: int | None = DIM, *, on_disk: bool = True) -> BaseStore:
        if request.param == "edge":
            store: BaseStore = EdgeStore(tmp_path / "edge", dim)
        else:  # local mode on disk commits each point to SQLite: slow, so only where needed
            store = ServerStore(path=str(tmp_path / "local") if on_disk else ":memory:", dim=dim)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> BaseStore:
    return opener(on_disk=False)


def random_vectors(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    """[n, dim] float64 rows, not normalised."""
    return np.random.default_rng(seed).normal(size=(n, dim)) * 3.0
