"""`surematch index / rules / match` end to end on a tiny CSV with the real MiniLM.

In-process (Typer's runner) so MiniLM loads from the OS cache each time, not a cold Python;
main()'s one-line error output is covered by tests/cli/test_train_cli.py.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from surematch.cli import load_commands
from surematch.errors import SurematchError

app = load_commands()

pytestmark = pytest.mark.slow

REFS = [("d1", "software developer", "en"), ("d2", "nurse", "en"), ("d3", "truck driver", "de"),
        ("d4", "baker", "de"), ("d5", "data scientist", "en")]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def surematch(*args: str, cwd: Path) -> Ran:
    """Run the command in cwd; returncode 2 and stderr = the message on a SurematchError
    (click's own usage errors also exit 2, their message on stderr)."""
    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(here)
    if isinstance(result.exception, SurematchError):
        return Ran(2, result.stdout, str(result.exception))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MiniLM model (frozen, fresh skip head) and an index of REFS built by the CLI."""
    from surematch.encoders.text import TextEncoder
    from surematch.heads import build_head
    from surematch.model import SimilarityModel

    tmp = tmp_path_factory.mktemp("cli")
    SimilarityModel(TextEncoder(), build_head([{"kind": "skip"}], 384)).save(tmp / "model")
    (tmp / "refs.csv").write_text("id,text,lang\n" + "".join(f"{i},{t},{g}\n" for i, t, g in REFS))
    result = surematch("index", "model", "refs.csv", "--index", "ix", cwd=tmp)
    assert result.returncode == 0, result.stderr
    assert "holds 5" in result.stdout
    return tmp


def match_json(tmp: Path, *args: str) -> dict:
    result = surematch("match", "model", "--index", "ix", *args, "--json", cwd=tmp)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_match_filter_rules_and_delete(workdir: Path) -> None:
    assert match_json(workdir, "lorry driver", "-k", "2")["matches"][0]["id"] == "d3"
    assert match_json(workdir, "lorry driver", "-k", "2", "--search-ef", "200")["matches"][0][
        "id"] == "d3"
    only_en = match_json(workdir, "lorry driver", "-k", "5", "--filter", "lang=en")
    assert {m["id"] for m in only_en["matches"]} == {"d1", "d2", "d5"}
    added = surematch("rules", "add", "--model", "model", "--index", "ix", "--id", "r1",
                      "python programmer", "software developer", cwd=workdir)
    assert added.returncode == 0, added.stderr
    listed = surematch("rules", "list", "--index", "ix", "--json", cwd=workdir)
    assert [r["id"] for r in json.loads(listed.stdout)] == ["r1"]
    after = match_json(workdir, "python programmer", "-k", "2")
    assert after["rules_fired"] == ["r1"] and "d1" not in {m["id"] for m in after["matches"]}
    assert surematch("rules", "delete", "--index", "ix", "r1", cwd=workdir).returncode == 0
    assert match_json(workdir, "python programmer", "-k", "1")["matches"][0]["id"] == "d1"
    deleted = surematch("index", "delete", "--index", "ix", "d4", cwd=workdir)
    assert deleted.returncode == 0 and "deleted 1 of 1" in deleted.stdout
    assert "d4" not in {m["id"] for m in match_json(workdir, "baker", "-k", "5")["matches"]}


def test_several_texts_add_texts_and_delete_text(workdir: Path) -> None:
    """Issue #13: repeated ids in the file, add-texts, delete-text, then the whole reference."""
    (workdir / "multi.csv").write_text(
        "id,text,kind,lang\nm1,ship captain,,en\nm1,master mariner,,\n"
        "m1,commands a vessel,description,\n")
    built = surematch("index", "model", "multi.csv", "--index", "mx", cwd=workdir)
    assert built.returncode == 0 and "indexed 1 references" in built.stdout, built.stderr

    def top(query: str) -> dict:
        result = surematch("match", "model", "--index", "mx", query, "--json", cwd=workdir)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["matches"][0]

    assert (top("master mariner")["text"], top("master mariner")["kind"]) == (
        "master mariner", "synonym")
    added = surematch("index", "add-texts", "--model", "model", "--index", "mx", "m1",
                      "skipper", "sea captain", cwd=workdir)
    assert added.returncode == 0 and "added 2 of 2" in added.stdout and "holds 5" in added.stdout
    assert top("skipper")["text"] == "skipper"
    gone = surematch("index", "delete-text", "--index", "mx", "m1", "skipper", cwd=workdir)
    assert gone.returncode == 0 and "holds 4" in gone.stdout, gone.stderr
    again = surematch("index", "delete-text", "--index", "mx", "m1", "skipper", cwd=workdir)
    assert again.returncode == 2 and "has no text 'skipper'" in again.stderr
    bad = surematch("index", "add-texts", "--model", "model", "--index", "mx", "m1", "x",
                    "--kind", "nickname", cwd=workdir)
    assert bad.returncode == 2 and "unknown kind" in bad.stderr
    assert surematch("index", "delete", "--index", "mx", "m1", cwd=workdir).returncode == 0


@pytest.mark.parametrize(("args", "message"), [
    (("match", "model", "--index", "nowhere", "q"), "no index"),
    (("match", "model", "--index", "ix", "q", "--filter", "lang"), "key=value"),
    (("index", "model", "missing.csv", "--index", "ix"), "missing.csv"),
    (("rules", "add", "--model", "model", "--index", "ix"), "TRIGGER EXCLUDE"),
    (("index", "delete", "--index", "nowhere", "d1"), "no index"),
    (("rules", "list", "--index", "nowhere"), "no index"),
    (("match", "model", "q"), "exactly one of --index"),
    (("match", "model", "--index", "ix", "q", "--search-ef", "0"), "--search-ef"),
    (("index", "model", "refs.csv", "--index", "ix", "--engine", "spark"), "the engine is dask"),
    (("index", "model", "refs.csv", "--index", "ix", "--address", "tcp://h:8786"),
     "--address goes with --engine dask"),
])
def test_bad_input_is_one_clear_line(workdir: Path, args: tuple[str, ...], message: str) -> None:
    result = surematch(*args, cwd=workdir)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_index_engine_options_reach_the_distributed_import(workdir: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    pytest.importorskip("dask.distributed")
    import surematch.workflows.distributed_index as distributed_index

    seen: dict = {}

    def index_dataset(model: Path, refs: Path, target: object, **kw: object) -> object:
        seen.update(kw, target=target)
        return distributed_index.DatasetIndexResult(5, 0, 5, partitions=0)

    monkeypatch.setattr(distributed_index, "index_dataset", index_dataset)
    result = surematch("index", "model", "refs.csv", "--index", "ix", "--engine", "dask",
                       "--workers", "3", "--batch-size", "64", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert (seen["workers"], seen["address"], seen["batch_size"]) == (3, None, 64)
    assert "indexed 0 references" in result.stdout and "holds 5" in result.stdout
