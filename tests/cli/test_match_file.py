"""`surematch match MODEL --index DIR --queries FILE --out FILE`: kill -9 mid-file, then a
rerun loses and repeats no row; the options' rules; --qdrant-url is passed through.

The CLI runs in a real subprocess with a tiny text model (a 1-layer, 32-wide random BERT with
MiniLM's tokenizer, built offline). To kill it mid-file without racing the clock, the
subprocess patches `ReferenceIndex.match_embedded` (one call per batch) to SIGKILL its own
process on its KILL_AT-th call: earlier batches are written and fsynced, that one never is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.tiny_text_model import save_tiny_text_model
from typer.testing import CliRunner

from surematch.cli import load_commands
from surematch.data import References
from surematch.index.reference_index import ReferenceIndex
from surematch.model import SimilarityModel

app = load_commands()
pytestmark = pytest.mark.slow

N_QUERIES, BATCH, KILL_AT = 400, 16, 7
WORDS = ["nurse", "baker", "driver", "welder", "pilot", "chef", "tailor", "miner", "judge"]
QUERIES = [f"{WORDS[i % 9]} {WORDS[i // 9 % 9]} {i}" for i in range(N_QUERIES)]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
KILLER = """
import os, signal, sys
from surematch.index.reference_index import ReferenceIndex
real, calls = ReferenceIndex.match_embedded, []
def match_embedded(self, *args, **kw):
    calls.append(1)
    if len(calls) == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kw)
ReferenceIndex.match_embedded = match_embedded
from surematch.cli import main
sys.argv[0] = "surematch"
main()
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("match_file_cli")
    save_tiny_text_model(tmp)
    with ReferenceIndex.create(tmp / "ix", SimilarityModel.load(tmp / "model")) as index:
        index.add(References([f"r{i}" for i in range(40)],
                             [f"{WORDS[i % 9]} {WORDS[i // 9 % 9]}" for i in range(40)],
                             [{} for _ in range(40)]), progress=False)
    (tmp / "q.jsonl").write_text("".join(json.dumps({"title": q}) + "\n" for q in QUERIES),
                                 encoding="utf-8")
    return tmp


def cli(*args: str, cwd: Path, kill_at: int | None = None) -> subprocess.CompletedProcess[str]:
    code = KILLER if kill_at else "from surematch.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**ENV, "KILL_AT": str(kill_at or 0)})


MATCH = ("match", "model", "--index", "ix", "--queries", "q.jsonl", "--column", "query=title",
         "-k", "3", "--batch-size", str(BATCH))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_kill_9_mid_file_then_rerun_loses_and_repeats_no_row(workdir: Path, fmt: str) -> None:
    clean = cli(*MATCH, "--out", f"clean.{fmt}", cwd=workdir)
    assert clean.returncode == 0, clean.stderr
    assert f"matched {N_QUERIES:,} queries into clean.{fmt}" in clean.stdout

    killed = cli(*MATCH, "--out", f"out.{fmt}", cwd=workdir, kill_at=KILL_AT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    done = (KILL_AT - 1) * BATCH
    if fmt == "csv":
        assert len((workdir / "out.csv").read_bytes().splitlines()) == 1 + done
    else:
        assert not (workdir / "out.parquet").exists()

    rerun = cli(*MATCH, "--out", f"out.{fmt}", cwd=workdir)
    assert rerun.returncode == 0, rerun.stderr
    assert (f"matched {N_QUERIES - done:,} queries into out.{fmt} (resumed after {done:,} "
            "rows)") in rerun.stdout
    if fmt == "csv":
        assert (workdir / "out.csv").read_bytes() == (workdir / "clean.csv").read_bytes()
    else:
        import pyarrow.parquet as pq

        got, want = pq.read_table(workdir / "out.parquet"), pq.read_table(workdir /
                                                                          "clean.parquet")
        assert got.equals(want) and got.num_rows == N_QUERIES
        assert not (workdir / "out.parquet.parts").exists()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_queries_and_query_arguments_are_exclusive(workdir: Path) -> None:
    model, ix = str(workdir / "model"), str(workdir / "ix")
    result = invoke("match", model, "--index", ix, "nurse", "--queries", "q.csv", "--out",
                    "o.csv")
    assert "either QUERY arguments or --queries FILE" in str(result.exception)
    result = invoke("match", model, "--index", ix, "--queries", "q.csv")
    assert "--queries FILE needs --out FILE" in str(result.exception)
    result = invoke("match", model, "--index", ix, "nurse", "--out", "o.csv")
    assert "go with --queries FILE" in str(result.exception)
    result = invoke("match", model, "--index", ix)
    assert "give QUERY arguments or --queries FILE" in str(result.exception)


def test_bad_row_through_the_cli(workdir: Path) -> None:
    (workdir / "bad.csv").write_text("query\nnurse\n\"\"\nchef\n", encoding="utf-8")
    result = cli("match", "model", "--index", "ix", "--queries", "bad.csv", "--out", "bad.out.csv",
                 cwd=workdir)
    assert result.returncode == 2
    assert "bad.csv, line 3, field \"query\": empty query" in " ".join(result.stderr.split())
    assert (workdir / "bad.out.csv").read_text(encoding="utf-8").splitlines()[1].startswith(
        "nurse,")


def test_a_qdrant_server_is_passed_through(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                           ) -> None:
    from surematch.workflows import match_file as module

    seen: dict[str, Any] = {}

    def fake(model_dir: Path, location: Any, queries: Path, out: Path, k: int,
             **kw: Any) -> module.MatchFileResult:
        seen.update(location=location, k=k, **kw)
        return module.MatchFileResult(0, 0, 0.0)

    monkeypatch.setattr(module, "match_file", fake)
    result = invoke("match", str(workdir / "model"), "--qdrant-url", "http://127.0.0.1:6333",
                    "--queries", "q.jsonl", "--out", "o.csv", "-k", "5", "--column",
                    "query=title", "--restart")
    assert result.exit_code == 0, result.output
    assert seen["location"].target == "http://127.0.0.1:6333" and seen["location"].is_server
    assert seen["k"] == 5 and seen["column"] == "title" and seen["restart"] is True


def test_engine_dask_on_a_local_cluster_writes_what_one_process_writes(workdir: Path) -> None:
    pytest.importorskip("dask.distributed")
    one = cli(*MATCH, "--out", "one.csv", cwd=workdir)
    assert one.returncode == 0, one.stderr
    dist = cli(*MATCH, "--out", "dist.csv", "--engine", "dask", "--workers", "2", cwd=workdir)
    assert dist.returncode == 0, dist.stderr
    assert "matched 400 queries into dist.csv in 1 partitions" in dist.stdout
    one_rows = (workdir / "one.csv").read_text(encoding="utf-8").splitlines()
    dist_rows = (workdir / "dist.csv").read_text(encoding="utf-8").splitlines()
    assert len(dist_rows) == N_QUERIES + 1 and dist_rows[0] == one_rows[0]
    assert [r.split(",")[:2] for r in dist_rows] == [r.split(",")[:2] for r in one_rows]
    bad = cli(*MATCH, "--out", "x.csv", "--engine", "spark", cwd=workdir)
    assert bad.returncode == 2 and "the engine is dask" in bad.stderr
