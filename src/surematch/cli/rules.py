"""`surematch rules add|list|delete --index DIR`: the index's neural exclusion rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli import app
from surematch.cli.index import IndexOpt, KeyOpt, UrlOpt, index_target, open_existing
from surematch.errors import InputError

out = Console()
rules_app = typer.Typer(no_args_is_help=True, help="Neural exclusion rules of an index.")
app.add_typer(rules_app, name="rules")


@rules_app.command("add")
def add(
    model_dir: Annotated[Path, typer.Option("--model", help="the model that built the index")],
    trigger: Annotated[str | None, typer.Argument(help="a query near this text...")] = None,
    exclude: Annotated[str | None, typer.Argument(help="...never matches references near "
                                                       "this text")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="rules file (trigger, exclude, "
                                              "optional id, radii, note)")] = None,
    rule_id: Annotated[str | None, typer.Option("--id", help="rule id (default: "
                                                "derived from the texts)")] = None,
    trigger_similarity: Annotated[float | None, typer.Option(help="trigger radius (cosine)")] =
    None,
    exclude_similarity: Annotated[float | None, typer.Option(help="exclude radius (cosine)")] =
    None,
    note: Annotated[str | None, typer.Option(help="why the rule exists")] = None,
    index: IndexOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
) -> None:
    """Add one rule (TRIGGER EXCLUDE) or every rule of --file; an id given again is replaced."""
    from surematch.data import read_rules
    from surematch.index.reference_index import ReferenceIndex
    from surematch.index.rules import new_rule
    from surematch.model import SimilarityModel

    if (file is None) == (trigger is None or exclude is None):
        raise InputError("give either TRIGGER EXCLUDE or --file RULES")
    if file is not None:
        rs = read_rules(file)
        rules = [new_rule(t, e, id=i, trigger_similarity=ts, exclude_similarity=es, note=n)
                 for t, e, i, ts, es, n in zip(rs.triggers, rs.excludes, rs.ids,
                                               rs.trigger_similarity, rs.exclude_similarity,
                                               rs.notes, strict=True)]
    else:
        rules = [new_rule(str(trigger), str(exclude), id=rule_id, note=note,
                          trigger_similarity=trigger_similarity,
                          exclude_similarity=exclude_similarity)]
    model = SimilarityModel.load(model_dir)
    with ReferenceIndex.open(index_target(index, qdrant_url, api_key), model) as idx:
        ids = idx.add_rules(rules)
    out.print(f"added {len(ids)} rule(s): {', '.join(ids)}")


@rules_app.command("list")
def list_rules(index: IndexOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
               as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
               ) -> None:
    """Every rule of the index."""
    from surematch.index.rules import RuleBook

    with open_existing(index_target(index, qdrant_url, api_key), "rules") as store:
        rules = RuleBook(store).list()
    if as_json:
        print(json.dumps([r.to_dict() for r in rules], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rules)} rule(s)")
    for col in ("id", "trigger", "≥", "exclude", "≥ ", "note"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.trigger, f"{r.trigger_similarity:.2f}", r.exclude,
                      f"{r.exclude_similarity:.2f}", r.note or "")
    out.print(table)


@rules_app.command("delete")
def delete(ids: Annotated[list[str], typer.Argument(help="rule ids")],
           index: IndexOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None) -> None:
    """Remove rules by id."""
    with open_existing(index_target(index, qdrant_url, api_key), "rules") as store:
        removed = store.delete(ids)
    out.print(f"deleted {removed} of {len(ids)} rule(s)")
