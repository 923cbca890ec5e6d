"""`surematch feedback review|undo`: a review teaches the index for the next match (Python and
CLI alike), undo by id removes the text, and a learned text survives kill -9 once acknowledged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.data import References
from surematch.feedback import FeedbackStore
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel

pytestmark = pytest.mark.slow
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
       "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src") + os.pathsep
       + os.environ.get("PYTHONPATH", "")}
IDS = ["bike", "car", "cook"]
TITLES = ["bicycle mechanic", "motor vehicle technician", "chef"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("feedback_cli")
    save_tiny_text_model(tmp)
    return tmp


@pytest.fixture()
def index(workdir: Path, tmp_path: Path) -> Path:
    with ReferenceIndex.create(tmp_path / "ix", SimilarityModel.load(workdir / "model")) as ix:
        ix.add(References(IDS, TITLES, [{}] * 3), progress=False)
    return tmp_path / "ix"


def surematch(*args: object) -> dict:
    done = subprocess.run([sys.executable, "-c", "from surematch.cli import main; main()",
                           *map(str, args), "--json"], env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_review_teaches_the_index_and_undo_removes_it(workdir: Path, index: Path) -> None:
    model = workdir / "model"
    out = surematch("feedback", "review", "auto mechanic", "--decision", "correct", "--shown",
                    "bike", "--corrected", "car", "--model", model, "--index", index,
                    "--reviewer", "ann")
    assert out["learned"]["outcome"] == "added" and out["stored"]["reviewer"] == "ann"
    with ReferenceIndex.open(index, SimilarityModel.load(model)) as ix:  # the next match
        best = ix.match("Auto Mechanic", k=2).matches[0]
        assert (best.id, best.text, best.kind) == ("car", "auto mechanic", "reviewed")
    matched = surematch("match", model, "auto mechanic", "--index", index, "-k", "1")
    assert "car" in json.dumps(matched)
    undone = surematch("feedback", "undo", out["stored"]["id"], "--index", index)
    assert undone["learned"]["removed"] == [{"id": "car", "text": "auto mechanic"}]
    with ReferenceIndex.open(index, SimilarityModel.load(model)) as ix:
        [car] = ix.get(["car"])
        assert car is not None and car.texts == [("motor vehicle technician", "title")]
    with FeedbackStore(index) as store:
        assert store.reviews() == [] and len(store) == 1  # kept, as undone


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from surematch.feedback import FeedbackStore, learn
    from surematch.index.reference_index import ReferenceIndex
    from surematch.model import SimilarityModel
    model, folder = SimilarityModel.load(Path(sys.argv[1])), Path(sys.argv[2])
    with ReferenceIndex.open(folder, model) as index, FeedbackStore(folder) as store:
        for i in range(100000):
            review = store.add(f"learned query {i}", "accept", shown_id="cook")
            if learn(index, store, review).outcome == "added":
                print(review.id, i, flush=True)  # acknowledged: stored and learned
""")


def test_a_learned_text_survives_kill_9_once_acknowledged(workdir: Path, index: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(workdir / "model"), str(index)],
                            stdout=subprocess.PIPE, text=True, env=ENV)
    acked: list[int] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked.append(int(line.split()[1]))
            if len(acked) >= 5:
                proc.send_signal(signal.SIGKILL)  # it keeps learning until killed
                break
        acked += [int(x.split()[1]) for x in proc.stdout.read().splitlines()]
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    with ReferenceIndex.open(index, SimilarityModel.load(workdir / "model")) as ix:
        [cook] = ix.get(["cook"])
        assert cook is not None
        held = {t for t, k in cook.texts if k == "reviewed"}
        assert {f"learned query {i}" for i in acked} <= held
        assert all(cook.provenance[t]["review"] >= 1 for t in held)
