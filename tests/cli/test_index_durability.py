"""Issue #4 through `surematch index`: kill -9 mid-import loses nothing stored; one writer.

The CLI runs in a real subprocess with a tiny text model (a 1-layer, 32-wide random BERT with
MiniLM's tokenizer, built offline) so that thousands of references embed in about a second.
Its stderr (`-v`: a "stored N of M references" line per batch) is a pipe shrunk to one page
that the test stops reading once KILL_AFTER references are reported: the rest of the CLI's log
is several times larger than the pipe, so it blocks mid-import and the kill always lands there,
however slow the machine.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.tiny_text_model import save_tiny_text_model

from surematch.data import References
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipes whose size can be set")]

N_REFS, BATCH = 4000, 8  # 500 batches: about 40 kB of log lines, 10 times the pipe
KILL_AFTER = 25 * BATCH  # then at most one pipe of lines (about 50 batches) can follow
WORDS = ["nurse", "baker", "driver", "welder", "pilot", "chef", "tailor", "miner", "judge",
         "clerk", "farmer", "potter"]
IDS = [f"r{i:05d}" for i in range(N_REFS)]
TEXTS = [f"{WORDS[i % 12]} {WORDS[i // 12 % 12]} {WORDS[i // 144 % 12]} {i}"
         for i in range(N_REFS)]
STORED = re.compile(rb"stored (\d+) of (\d+) references")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}  # one thread: 2 shared cores


def payload(i: int) -> dict[str, object]:
    return {"group": f"g{i % 7}", "n": i}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """model/ (tiny text encoder + skip head, dim 32) and refs.jsonl (N_REFS typed rows)."""
    tmp = tmp_path_factory.mktemp("durability")
    save_tiny_text_model(tmp)
    (tmp / "refs.jsonl").write_text("".join(
        json.dumps({"id": i, "text": t, **payload(n)}) + "\n"
        for n, (i, t) in enumerate(zip(IDS, TEXTS, strict=True))), encoding="utf-8")
    return tmp


def surematch_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from surematch.cli import main; main()", *args]


IMPORT = ("index", "model", "refs.jsonl", "--index", "ix", "--batch-size", str(BATCH), "-v")


def read_until_stored(fd: int, at_least: int) -> bytes:
    """stderr, read in small chunks until a "stored N" line with N >= at_least shows (fails
    after 5 idle minutes)."""
    seen = b""
    while not any(int(m[1]) >= at_least for m in STORED.finditer(seen)):
        assert select.select([fd], [], [], 300)[0], f"no progress: {seen.decode()}"
        chunk = os.read(fd, 256)
        assert chunk, f"surematch index ended before storing anything: {seen.decode()}"
        seen += chunk
    return seen


def check_stored(idx: ReferenceIndex, upto: int) -> None:
    """The first `upto` references are stored with their text and payload intact."""
    got = idx.get(IDS[:upto])
    assert all(r is not None for r in got), f"lost {sum(r is None for r in got)} references"
    assert [(r.id, r.text, r.payload) for r in got if r is not None] == [
        (IDS[n], TEXTS[n], payload(n)) for n in range(upto)]


def test_kill_9_mid_import_then_rerun_completes(workdir: Path) -> None:
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    assert fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ) == 4096
    cli = subprocess.Popen(surematch_cmd(*IMPORT), cwd=workdir, env=ENV,
                           stdout=subprocess.DEVNULL, stderr=write_end)
    os.close(write_end)
    try:
        log = read_until_stored(read_end, KILL_AFTER)
        cli.kill()  # SIGKILL, while the CLI is blocked on its full stderr or still importing
        assert cli.wait(timeout=60) == -signal.SIGKILL
        while chunk := os.read(read_end, 65536):  # the lines written before the kill
            log += chunk
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        os.close(read_end)
    counts = [int(m[1]) for m in STORED.finditer(log)]
    assert {int(m[2]) for m in STORED.finditer(log)} == {N_REFS}
    assert counts == list(range(BATCH, BATCH * len(counts) + 1, BATCH))  # in order, no gap
    reported = counts[-1]
    assert KILL_AFTER <= reported < N_REFS // 2, "the kill must land mid-import"

    model = SimilarityModel.load(workdir / "model")
    with ReferenceIndex.open(workdir / "ix", model) as idx:  # the lock died with the process
        assert reported <= idx.count() <= reported + BATCH  # at most one batch was in flight
        check_stored(idx, reported)

    rerun = subprocess.run(surematch_cmd(*IMPORT), cwd=workdir, env=ENV, capture_output=True,
                           text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"ix holds {N_REFS:,}" in rerun.stdout
    said = " ".join(rerun.stdout.split())  # rich wraps long lines
    skipped = re.search(r"\(([\d,]+) were stored already with the same texts\)", said)
    assert skipped and int(skipped[1].replace(",", "")) >= reported  # not embedded again
    with ReferenceIndex.open(workdir / "ix", model) as idx:
        assert idx.count() == N_REFS
        check_stored(idx, N_REFS)
        for n in (0, reported - 1, reported + BATCH, N_REFS - 1):
            best = idx.match(TEXTS[n], k=3).matches
            assert best[0].id == IDS[n] and best[0].payload == payload(n)
            assert best[0].similarity > 0.9999 > best[1].similarity


def test_second_process_gets_a_clear_error_and_harms_nothing(workdir: Path,
                                                              tmp_path: Path) -> None:
    model = SimilarityModel.load(workdir / "model")
    with ReferenceIndex.create(tmp_path / "ix", model) as idx:
        idx.add(References(IDS[:50], TEXTS[:50], [payload(n) for n in range(50)]),
                progress=False)
        second = subprocess.run(surematch_cmd("index", "delete", "--index", str(tmp_path / "ix"),
                                              IDS[0]),
                                cwd=tmp_path, env=ENV, capture_output=True, text=True,
                                timeout=300)
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip() == (
            f"error: index {tmp_path / 'ix' / 'references'} is open in another process "
            f"(pid {os.getpid()}); close it there first")
        assert "Traceback" not in second.stderr
        assert idx.count() == 50
        check_stored(idx, 50)
    with ReferenceIndex.open(tmp_path / "ix", model) as idx:
        check_stored(idx, 50)
        assert idx.match(TEXTS[7], k=1).matches[0].id == IDS[7]
