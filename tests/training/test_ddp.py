"""`train.strategy: ddp` across 2 CPU processes (gloo): training completes, rank 0 alone saves
and reports, and the saved model embeds.

Lightning's DDP starts the other rank by running the same command again, so this runs
`surematch train` from a script file in a subprocess (inside pytest, rank 1 would run pytest).
The encoder is a precomputed vectors table: nothing to download, seconds to train.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from surematch.model import SimilarityModel

pytestmark = pytest.mark.slow

GROUPS, PER_GROUP, DIM = 24, 5, 16


def write_data(root: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(GROUPS, 4))
    labels = np.repeat(np.arange(GROUPS), PER_GROUP)
    x = rng.normal(scale=3.0, size=(len(labels), DIM))
    x[:, :4] = centres[labels] + rng.normal(scale=0.15, size=(len(x), 4))
    (root / "vectors.jsonl").write_text("".join(
        json.dumps({"id": f"item{i}", "vector": v.tolist()}) + "\n" for i, v in enumerate(x)),
        encoding="utf-8")
    (root / "groups.csv").write_text("text,group\n" + "".join(
        f"item{i},g{g}\n" for i, g in enumerate(labels)), encoding="utf-8")
    (root / "ddp.yaml").write_text(
        "encoder: {kind: vectors, vectors: vectors.jsonl}\n"
        "head: [{kind: linear}]\n"
        "data: {held_out_fraction: 0.25}\n"
        "train: {epochs: 4, groups_per_batch: 4, patience: 4, lr: 0.01,\n"
        "        strategy: ddp, devices: 2, accelerator: cpu}\n", encoding="utf-8")
    (root / "surematch_cli.py").write_text("from surematch.cli import main\nmain()\n",
                                           encoding="utf-8")
    return x.astype(np.float32)


def test_ddp_on_two_cpu_processes_trains_and_saves_once(tmp_path: Path) -> None:
    vectors = write_data(tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    env.pop("LOCAL_RANK", None)
    ran = subprocess.run([sys.executable, str(tmp_path / "surematch_cli.py"), "train",
                          "groups.csv", "--config", "ddp.yaml", "--out", "model"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count("saved") == 1, ran.stdout  # rank 1 neither saves nor reports
    assert "Traceback" not in ran.stderr

    model = SimilarityModel.load(tmp_path / "model")
    info = model.info
    assert info["config"]["train"]["strategy"] == "ddp" and info["epochs_run"] >= 1
    assert info["best_val_p_at_1"] is not None and len(info["history"]) >= 1
    z = model.embed(vectors[:10])
    assert z.shape == (10, DIM) and np.isfinite(z).all()
