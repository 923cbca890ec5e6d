"""The server store's own checks, run through qdrant-client's local mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from surematch.errors import InputError, ModelFormatError, SurematchError
from surematch.index.stores.server import META_KEY, ServerStore

from .conftest import DIM, random_vectors


def test_open_checks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="exactly one of url"):
        ServerStore(dim=DIM)
    with pytest.raises(InputError, match="exactly one of url"):
        ServerStore(url="http://x", path=str(tmp_path), dim=DIM)
    with pytest.raises(InputError, match="collection name"):
        ServerStore(path=":memory:", collection="a b", dim=DIM)
    with pytest.raises(SurematchError, match="no collection 'references'"):
        ServerStore(path=":memory:")
    with pytest.raises(InputError, match="dim must be a positive integer"):
        ServerStore(path=":memory:", dim=-3)


def test_reopen_dimension_lock_and_metadata(tmp_path: Path) -> None:
    folder = str(tmp_path / "local")
    store = ServerStore(path=folder, dim=DIM)
    store.upsert(["a"], random_vectors(1))
    store.write_meta({"model": "m"})
    assert store._client.get_collection("references").config.metadata == {
        META_KEY: '{\n  "model": "m"\n}'}
    with pytest.raises(SurematchError, match="is open in another process"):
        ServerStore(path=folder, dim=DIM)
    store.close()
    with pytest.raises(ModelFormatError, match="holds 16-dim vectors, not 8-dim ones"):
        ServerStore(path=folder, dim=8)
    with ServerStore(path=folder) as again:
        assert again.dim == DIM and again.count() == 1 and again.read_meta() == {"model": "m"}


def test_unreachable_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # the client's version check runs in a thread and would warn later, in another test
    monkeypatch.setattr("qdrant_client.qdrant_remote.QdrantRemote._check_compatibility",
                        staticmethod(lambda *args: None))
    with pytest.raises(SurematchError, match=r"Qdrant at http://127.0.0.1:9, collection "
                                             r"'references': open failed"):
        ServerStore(url="http://127.0.0.1:9", dim=DIM, timeout=2)


def test_points_written_by_someone_else_are_reported() -> None:
    from qdrant_client import models

    with ServerStore(path=":memory:", dim=DIM) as store:
        store._client.upsert("references", [models.PointStruct(
            id=1, vector=random_vectors(1)[0].tolist(), payload={"x": 1})])
        with pytest.raises(ModelFormatError, match="surematch did not write"):
            list(store.scan())
