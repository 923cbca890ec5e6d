"""The raw CSV reader refuses a quote never closed, naming the file and the line it opens on,
for every reader built on it (issue #22: such a file was indexed as one reference)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from surematch.data.formats import read_csv
from surematch.data.readers import (
    read_groups,
    read_pairs,
    read_queries,
    read_references,
    read_rules,
)
from surematch.errors import InputError

FILES: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "references": ('id,text\nr1,"unclosed title\nr2,two\nr3,three\n', read_references),
    "queries": ('text,expected_id\nnurse,r1\n"baker,r2\ncook,r3\n', read_queries),
    "groups": ('text,group\na,g1\nb,g1\n"c,g2\nd,g2\n', read_groups),
    "pairs": ('text_a,text_b,label\na,b,1\n"a,c,0\n', read_pairs),
    "rules": ('trigger,exclude\na,"b\n', read_rules),
}
LINES = {"references": 2, "queries": 3, "groups": 4, "pairs": 3, "rules": 2}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_an_unclosed_quote_is_refused_with_file_and_line(kind: str, tmp_path: Path) -> None:
    text, reader = FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        reader(path)
    assert err.value.file == path and err.value.line == LINES[kind]
    assert "never closed" in err.value.message


def test_the_match_file_reader_refuses_it_too(tmp_path: Path) -> None:
    from surematch.data.row_files import read_column

    path = tmp_path / "queries.csv"
    path.write_text('query\nnurse\n"baker\ncook\n')
    with pytest.raises(InputError) as err:
        list(read_column(path, "query"))
    assert err.value.line == 3 and "never closed" in err.value.message


def test_quoted_newlines_and_inner_quotes_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('id,text\nr1,"two\nlines"\nr2,say ""hi""\nr3,a"b\n')
    header, rows = read_csv(path)
    assert header == ["id", "text"]
    assert [(line, r["text"]) for line, r in rows] == [
        (2, "two\nlines"), (4, "say \"\"hi\"\""), (5, 'a"b')]
