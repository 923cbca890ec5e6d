"""Files beside an index: the single-writer lock, store.json (dim), atomic JSON, valid names."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from surematch.errors import DiskFullError, InputError, ModelFormatError, SurematchError
from surematch.index.stores.points import check_positive_int
from surematch.limits import LIMITS


def free_bytes(folder: Path) -> int:
    """Free bytes on the file system holding folder (what a non-root writer may use)."""
    return shutil.disk_usage(folder).free


def check_free_space(folder: Path, what: str) -> None:
    """DiskFullError unless the disk holding folder has LIMITS.free_disk_bytes free: the engine
    maps its files into memory, and a write into a full disk would kill the process (SIGBUS)."""
    try:
        free = free_bytes(folder)
    except OSError:
        return  # cannot tell: let the write try
    if free < LIMITS.free_disk_bytes:
        raise DiskFullError(f"{what}: the disk holding the index has {free // 2**20} MiB free, "
                            f"less than the {LIMITS.free_disk_bytes // 2**20} MiB margin writes "
                            "need; free some space (reads keep working)")


class DirLock:
    """An exclusive flock on `folder/name`, held until release(); the file holds our pid.

    A second holder, in another process or this one, gets a SurematchError naming the pid.
    The OS drops the lock when the process dies, so a crash never leaves a stale lock.
    """

    def __init__(self, folder: Path, name: str = "store.lock") -> None:
        self.path = folder / name
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            where = "this process" if holder == str(os.getpid()) else "another process"
            raise SurematchError(f"index {folder} is open in {where} (pid {holder}); "
                                 "close it there first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor drops the flock


def meta_json(data: Any) -> str:
    """Metadata as JSON text; InputError unless it is a plain JSON object."""
    if not isinstance(data, dict):
        raise InputError(f"metadata must be a JSON object (dict), got {type(data).__name__}",
                         field="meta")
    try:
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"metadata is not plain JSON: {exc}", field="meta") from None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write data as JSON to a temp file beside path, fsync it, then os.replace it into place."""
    text = meta_json(data)
    check_free_space(path.parent, f"writing {path.name}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise DiskFullError(f"writing {path.name}: the disk is full") from None
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in path, None when the file does not exist."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"{path} is damaged: {exc}") from None
    if not isinstance(data, dict):
        raise ModelFormatError(f"{path} is damaged: expected a JSON object")
    return data


def store_dim(folder: Path, dim: int | None, backend: str, multivector: bool = False) -> int:
    """The dimension recorded in folder/store.json, checked against dim; recorded if new
    (with `multivector`: whether each point holds several rows; see store_multivector)."""
    info = read_json(folder / "store.json")
    if info is not None:
        if info.get("backend") != backend or not isinstance(info.get("dim"), int):
            raise ModelFormatError(f"{folder}/store.json is not a surematch {backend} index")
        if dim is not None and dim != info["dim"]:
            raise ModelFormatError(f"index {folder} holds {info['dim']}-dim vectors, "
                                   f"not {dim}-dim ones")
        return info["dim"]
    if dim is None:
        raise SurematchError(f"no index in {folder}; give its dimension to create one")
    check_positive_int(dim, "dim")
    new: dict[str, Any] = {"format": 1, "backend": backend, "dim": dim, "distance": "cosine"}
    if multivector:
        new["multivector"] = "max_sim"
    write_json_atomic(folder / "store.json", new)
    return dim


def store_multivector(folder: Path) -> bool:
    """Whether the store in folder holds several rows per point (MaxSim); stores made before
    multivectors record nothing and hold one vector per point."""
    info = read_json(folder / "store.json") or {}
    return info.get("multivector") == "max_sim"


def check_collection(name: Any) -> str:
    """A collection name: letters, digits, '_' and '-', used as a Qdrant name or a folder."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise InputError(f"collection name must be 1-64 letters, digits, '_' or '-', got "
                         f"{name!r}", field="collection")
    return name
