"""Evaluation: retrieval metrics over ranked results."""

from surematch.evaluation.retrieval_metrics import retrieval_metrics, top1_correct

__all__ = ["retrieval_metrics", "top1_correct"]
