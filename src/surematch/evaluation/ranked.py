"""Labelled queries and pairs through a model: similarities, confidences and ground truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from surematch.data.samples import LabelledQueries, References, TextPairs
from surematch.distances import get_distance
from surematch.evaluation.ranking import rank_exact
from surematch.evaluation.retrieval import retrieval_metrics, top1_correct
from surematch.model import SimilarityModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankedQueries:
    """Q labelled queries ranked against references: `ids` [Q][k] best first, `similarity`
    [Q, k], `confidence` [Q] (embedding confidence; None when the model has none), `correct`
    [Q] (top-1 is the expected id; open-set queries are False) and `expected` [Q]."""

    ids: list[list[str]]
    similarity: np.ndarray
    confidence: np.ndarray | None
    correct: np.ndarray
    expected: list[str | None]

    @property
    def open_set(self) -> np.ndarray:
        """bool [Q]: queries with no right reference among the references."""
        known = {i for row in self.ids for i in row}
        return np.array([e is None or e not in known for e in self.expected])

    def metrics(self) -> dict:
        """P@1, recall@k and MRR over the queries that have a right reference."""
        return retrieval_metrics(self.ids, self.expected)


def rank_queries(model: SimilarityModel, references: References, queries: LabelledQueries,
                 k: int = 10, reference_vectors: np.ndarray | None = None) -> RankedQueries:
    """Embed and rank exactly. An expected id that is not among the references counts as
    "no right answer" (its top match is wrong), like an empty expected id."""
    refs = model.embed(references.texts) if reference_vectors is None else reference_vectors
    vectors, confidence = model.embed_with_confidence(queries.texts)
    ranking = rank_exact(vectors, refs, k=k)
    ids = ranking.ids(references.ids)
    present = set(references.ids)
    expected = [e if e in present else None for e in queries.expected_ids]
    missing = sum(e is not None for e in queries.expected_ids) - sum(e is not None
                                                                     for e in expected)
    if missing:
        logger.info("%d queries expect an id that is not among the references: counted as "
                    "having no right answer", missing)
    return RankedQueries(ids, ranking.similarity.astype(np.float64),
                         confidence.astype(np.float64) if model.has_confidence else None,
                         top1_correct(ids, expected), expected)


def pair_similarity(model: SimilarityModel, pairs: TextPairs) -> np.ndarray:
    """Cosine similarity [N] of each pair's two embeddings (the model's rows are unit length)."""
    a, b = model.embed(pairs.text_a), model.embed(pairs.text_b)
    return 1.0 - get_distance("cosine").paired(a, b).astype(np.float64)
