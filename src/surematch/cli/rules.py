"""`surematch rules add|list|delete --index DIR`: the index's neural exclusion rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli.app import app
from surematch.cli.options import IndexOpt, KeyOpt, UrlOpt, index_target

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
    from surematch.workflows.indexes import add_rules, rules_to_add

    rules = rules_to_add(trigger, exclude, file, rule_id=rule_id,
                         trigger_similarity=trigger_similarity,
                         exclude_similarity=exclude_similarity, note=note)
    ids = add_rules(model_dir, index_target(index, qdrant_url, api_key), rules)
    out.print(f"added {len(ids)} rule(s): {', '.join(ids)}")


@rules_app.command("list")
def list_rules(index: IndexOpt = None, qdrant_url: UrlOpt = None, api_key: KeyOpt = None,
               as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
               ) -> None:
    """Every rule of the index."""
    from surematch.workflows.indexes import list_rules as listed

    rules = listed(index_target(index, qdrant_url, api_key))
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
    from surematch.workflows.indexes import delete_rules

    removed = delete_rules(index_target(index, qdrant_url, api_key), ids)
    out.print(f"deleted {removed} of {len(ids)} rule(s)")
