"""IndexLocation: the one place that decides whether an index is a folder or a server."""

from pathlib import Path

import pytest

from surematch.errors import InputError, SurematchError
from surematch.index.stores import IndexLocation


def test_a_folder_or_a_url_exactly_one(tmp_path: Path) -> None:
    folder = IndexLocation.of(tmp_path / "ix")
    assert not folder.is_server and folder.folder == tmp_path / "ix"
    server = IndexLocation.of(url="https://q.example:6333", api_key="k")
    assert server.is_server and server.folder is None and server.api_key == "k"
    assert IndexLocation.of("http://q.example:6333").is_server  # typed where a folder goes
    with pytest.raises(InputError, match="exactly one of --index DIR and --qdrant-url"):
        IndexLocation.of()
    with pytest.raises(InputError, match="exactly one"):
        IndexLocation.of(tmp_path, "https://q.example")
    with pytest.raises(InputError, match="starts with http"):
        IndexLocation.of(url="q.example:6333")


def test_require_names_the_missing_index(tmp_path: Path) -> None:
    loc = IndexLocation.of(tmp_path / "none")
    assert not loc.exists()
    with pytest.raises(SurematchError, match=r"no index in .*none; build one"):
        loc.require()
    assert IndexLocation.of(url="https://q.example").exists()  # a server is asked on open
