"""A real full disk (a small tmpfs, where root may mount one): writes are refused with
DiskFullError instead of the process dying of SIGBUS, reads keep working, opening on a full
disk fails with one line, and every acknowledged write is there once space is freed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHILD = r"""
import os, sys, numpy as np
from surematch.errors import SurematchError
from surematch.index.stores.edge import EdgeStore
from surematch.limits import LIMITS
step, folder, filler = sys.argv[1], sys.argv[2], sys.argv[3]
LIMITS.free_disk_bytes = int(sys.argv[4])
rows = lambda n, seed: np.random.default_rng(seed).normal(size=(n, 16)) + 3.0
try:
    if step == "fill":  # a running store: writes, the disk fills, more writes, reads
        store = EdgeStore(folder, 16)
        store.upsert([f"a{i}" for i in range(200)], rows(200, 0), [{"n": i} for i in range(200)])
        print("acknowledged", store.count(), flush=True)
        free = os.statvfs(filler.rsplit("/", 1)[0])
        with open(filler, "wb") as f:  # leave nothing free
            f.write(b"\0" * (free.f_bavail * free.f_frsize))
        try:
            store.upsert(["b0"], rows(1, 1), [{"n": -1}])
            print("wrote on a full disk", flush=True)
        except SurematchError as exc:
            print("refused:", exc, flush=True)
        print("read", store.count(), store.get(["a7"])[0].payload, flush=True)
        store.close()
    else:
        store = EdgeStore(folder)
        print("opened", store.count(), sorted(store.ids()) == sorted(f"a{i}" for i in range(200)))
        store.close()
except SurematchError as exc:
    print(f"error: {exc}")
    sys.exit(2)
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def child(step: str, disk: Path, margin: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-c", CHILD, step, str(disk / "index"),
                           str(disk / "filler"), str(margin)], capture_output=True, text=True,
                          timeout=120, env=env)


def test_a_real_full_disk(small_disk: Path) -> None:
    margin = 8 * 2**20
    run = child("fill", small_disk, margin)
    assert run.returncode == 0, (run.returncode, run.stdout, run.stderr)  # -7 was SIGBUS
    assert "acknowledged 200" in run.stdout
    assert "refused:" in run.stdout and "MiB free" in run.stdout
    assert "read 200 {'n': 7}" in run.stdout
    start = child("open", small_disk, margin)  # start-up on the full disk
    assert start.returncode == 2 and start.stdout.count("\n") == 1, start
    assert "MiB free" in start.stdout
    (small_disk / "filler").unlink()
    again = child("open", small_disk, margin)
    assert again.returncode == 0 and "opened 200 True" in again.stdout, again
