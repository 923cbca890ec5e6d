"""An acknowledged review survives kill -9 of the process that stored it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from surematch.feedback import FeedbackStore

WRITER = textwrap.dedent("""
    import sys
    from surematch.feedback import FeedbackStore
    store = FeedbackStore(sys.argv[1])
    for i in range(100000):
        r = store.add(f"query {i}", "accept", shown_id=f"ref-{i}", reviewer="burst")
        print(r.id, i, flush=True)
""")


def test_acknowledged_reviews_survive_kill_9(tmp_path):
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True, env=env)
    acked: list[tuple[int, int]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
            if len(acked) >= 40:
                proc.send_signal(signal.SIGKILL)  # mid-burst: it keeps adding until killed
                break
        acked += [tuple(map(int, x.split())) for x in proc.stdout.read().splitlines()]  # type: ignore[misc]
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with FeedbackStore(tmp_path) as store:
        stored = {r.id: r for r in store.reviews()}
    assert len(acked) >= 40
    for rid, i in acked:
        assert stored[rid].query == f"query {i}" and stored[rid].shown_id == f"ref-{i}"
