"""Binding an index to the model that embeds it: recorded on creation, checked on every open."""

from __future__ import annotations

import surematch
from surematch.embedder import Embedder
from surematch.errors import SurematchError
from surematch.index.stores.base import BaseStore


def bind_model(store: BaseStore, model: Embedder, target: str) -> None:
    """Record the model's identity (and surematch's version) in a new, empty store; in one that
    has a model, refuse any other with an error naming both ids."""
    meta, ident = store.read_meta(), model.identity()
    if meta.get("model") is None:
        if store.count():
            raise SurematchError(f"index {target} holds references but records no model; it "
                                 "was not built by surematch")
        store.write_meta({"model": ident, "surematch_version": surematch.__version__,
                          "dim": model.dim, "payload_indexes": {}})
    elif meta["model"] != ident:
        raise SurematchError(
            f"index {target} was built with model {meta['model']}, but this model is {ident}: "
            "query and add through the model that built it, or build a new index")
    elif store.dim != model.dim:
        raise SurematchError(f"index {target} holds {store.dim}-dim vectors, the model makes "
                             f"{model.dim}-dim ones")
