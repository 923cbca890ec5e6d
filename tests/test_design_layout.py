"""DESIGN.md's layout section is the tree: every module and package under src/surematch/ is
listed where it lives, and everything listed exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "surematch"


def listed() -> set[str]:
    """Paths named in the layout block (`src/surematch/` ... closing fence), relative to the
    package: a top-level entry at two spaces, a sub-package's at four under its parent."""
    text = (ROOT / "DESIGN.md").read_text(encoding="utf-8")
    block = text.split("```\nsrc/surematch/\n", 1)[1].split("```", 1)[0]
    names, parent = set(), ""
    for line in block.splitlines():
        if m := re.match(r"^  (\S+)", line):
            parent = m.group(1)
            names.add(parent.rstrip("/"))
        elif (m := re.match(r"^    (\S+/)", line)) and parent.endswith("/"):
            names.add(parent + m.group(1).rstrip("/"))
    return names


def tree() -> set[str]:
    """Top-level modules and folders, and the sub-packages of top-level packages."""
    names = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"
             and (p.is_dir() or p.suffix == ".py")}
    for d in PACKAGE.iterdir():
        if (d / "__init__.py").exists():
            names |= {f"{d.name}/{s.name}" for s in d.iterdir() if (s / "__init__.py").exists()}
    return names


def test_the_layout_section_lists_the_tree() -> None:
    got, want = listed(), tree()
    assert not want - got, f"in the tree, missing from DESIGN.md's layout: {sorted(want - got)}"
    assert not got - want, f"in DESIGN.md's layout, not in the tree: {sorted(got - want)}"
