"""Labelled queries and pairs through a model: similarities, confidences and ground truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from surematch.confidence.evidence.lexical import agreement, head_words, lexical_evidence
from surematch.data.samples import LabelledQueries, References, TextPairs
from surematch.distances import get_distance
from surematch.embedder import Embedder
from surematch.evaluation.exact_top_k import rank_references
from surematch.evaluation.retrieval_metrics import retrieval_metrics, top1_correct

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankedQueries:
    """Q labelled queries ranked against references: `ids` [Q][k] best first, `similarity`
    [Q, k], `confidence` [Q] (embedding confidence; None when the model has none), `correct`
    [Q] (top-1 is the expected id; open-set queries are False), `expected` [Q], the
    reference-aware `evidence` of each candidate (see `confidence.evidence`) and the text of
    each candidate that matched best."""

    ids: list[list[str]]
    similarity: np.ndarray
    confidence: np.ndarray | None
    correct: np.ndarray
    expected: list[str | None]
    evidence: dict[str, np.ndarray] = field(default_factory=dict)  # name -> [Q, k]
    matched: list[list[str]] = field(default_factory=list)  # [Q][k] each candidate's best text
    vectors: np.ndarray | None = None  # [Q, D] the query embeddings (the shift monitor's content)

    @property
    def open_set(self) -> np.ndarray:
        """bool [Q]: queries with no right reference among the references."""
        known = {i for row in self.ids for i in row}
        return np.array([e is None or e not in known for e in self.expected])

    def metrics(self) -> dict:
        """P@1, recall@k and MRR over the queries that have a right reference."""
        return retrieval_metrics(self.ids, self.expected)


def rank_queries(model: Embedder, references: References, queries: LabelledQueries,
                 k: int = 10, reference_vectors: np.ndarray | None = None) -> RankedQueries:
    """Embed and rank exactly; a reference is as close as its best text. An expected id that
    is not among the references counts as "no right answer" (its top match is wrong), like
    an empty expected id. `reference_vectors` [T, D]: the embedded `references.flat()` texts,
    when the caller has them already."""
    owner, texts, kinds = references.flat()
    refs = model.embed(texts) if reference_vectors is None else reference_vectors
    vectors, confidence = model.embed_with_confidence(queries.texts)
    ranking = rank_references(vectors, refs, np.asarray(owner), k=k)
    ids = ranking.ids(references.ids)
    matched = [[texts[t] for t in row] for row in ranking.text]
    pairs_of = [[references.texts_of(r) for r in row] for row in ranking.rows]
    evidence = {"agreement": agreement(ranking.text_similarities),
                **lexical_evidence(queries.texts, matched,
                                   [[[t for t, _ in p] for p in row] for row in pairs_of],
                                   [[[kd for _, kd in p] for p in row] for row in pairs_of],
                                   head_words(zip(texts, kinds, strict=True)))}
    present = set(references.ids)
    expected = [e if e in present else None for e in queries.expected_ids]
    missing = sum(e is not None for e in queries.expected_ids) - sum(e is not None
                                                                     for e in expected)
    if missing:
        logger.info("%d queries expect an id that is not among the references: counted as "
                    "having no right answer", missing)
    return RankedQueries(ids, ranking.similarity.astype(np.float64),
                         confidence.astype(np.float64) if model.has_confidence else None,
                         top1_correct(ids, expected), expected, evidence, matched,
                         np.asarray(vectors))


def pair_similarity(model: Embedder, pairs: TextPairs) -> np.ndarray:
    """Cosine similarity [N] of each pair's two embeddings (the model's rows are unit length)."""
    a, b = model.embed(pairs.text_a), model.embed(pairs.text_b)
    return 1.0 - get_distance("cosine").paired(a, b).astype(np.float64)
