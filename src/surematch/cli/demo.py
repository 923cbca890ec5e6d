"""`surematch demo`: the main job on embedded defaults, on the bundled ESCO occupations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from surematch.cli import app
from surematch.logs import setup_logging

out = Console()

DEMO_QUERIES = ["python developer", "nurse for the elderly", "truck driver", "bookkeeper",
                "chef de partie", "site foreman", "data scientist", "hairdresser"]


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="where the demo keeps its model and report")] =
    Path("surematch-demo"),
    retrain: Annotated[bool, typer.Option(help="train again even if a model is cached")] = False,
    verbose: Annotated[int, typer.Option("-v", count=True)] = 0,
) -> None:
    """Train (or reuse) a model on bundled ESCO, evaluate it on held-out ISCO groups, match."""
    setup_logging(verbose)
    from surematch.config import Config
    from surematch.data.esco import (
        esco_groups,
        esco_queries,
        esco_references,
        read_esco,
        split_by_isco,
    )
    from surematch.evaluation import retrieval_metrics
    from surematch.evaluation.ranking import rank_exact
    from surematch.model import SimilarityModel
    from surematch.training import train

    occupations = read_esco()
    train_occ, held_occ = split_by_isco(occupations, held_out_fraction=0.2, seed=0)
    model_dir = workdir / "model"
    if model_dir.exists() and not retrain:
        out.print(f"reusing the model in [bold]{model_dir}[/] (--retrain to train again)")
        model = SimilarityModel.load(model_dir)
    else:
        out.print(f"training on {len(train_occ):,} occupations; {len(held_occ):,} occupations "
                  "of held-out ISCO groups are kept for evaluation")
        model = train(Config(), esco_groups(train_occ))
        model.save(model_dir)
        out.print(f"saved the model to [bold]{model_dir}[/]")

    refs, queries = esco_references(occupations), esco_queries(held_occ)
    ref_vectors = model.embed(refs.texts)
    ranking = rank_exact(model.embed(queries.texts), ref_vectors, k=10)
    metrics = retrieval_metrics(ranking.ids(refs.ids), queries.expected_ids)
    out.print(f"held-out ISCO groups: {metrics['n_evaluated']:,} alternative titles matched "
              f"against {len(refs.ids):,} preferred titles: P@1 {metrics['p_at_1']:.3f}, "
              f"recall@10 {metrics['recall_at_k'][10]:.3f}, MRR {metrics['mrr']:.3f}")

    vectors, confidence = model.embed_with_confidence(DEMO_QUERIES)
    top = rank_exact(vectors, ref_vectors, k=3)
    table = Table(title="Example queries")
    for col in ("query", "confidence", "best matches (similarity)"):
        table.add_column(col)
    for q, conf, rows, sims in zip(DEMO_QUERIES, confidence, top.rows, top.similarity,
                                   strict=True):
        matches = "\n".join(f"{refs.texts[r]} ({s:.2f})" for r, s in zip(rows, sims, strict=True))
        table.add_row(q, f"{conf:.2f}", matches)
    out.print(table)
