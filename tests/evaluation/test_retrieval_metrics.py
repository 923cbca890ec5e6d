"""Retrieval metrics on hand-computed rankings."""

import numpy as np
import pytest

from surematch.errors import InputError
from surematch.evaluation import retrieval_metrics, top1_correct

RANKED = [["a", "b", "c"], ["x", "a", "y"], ["p", "q", "r"], ["m", "n"], []]
EXPECTED = ["a", "a", "z", None, "k"]


def test_metrics_by_hand():
    m = retrieval_metrics(RANKED, EXPECTED, ks=(1, 2, 3))
    # evaluated: rank 1, rank 2, missing, missing (empty list); the None query is skipped
    assert m["n_queries"] == 5 and m["n_evaluated"] == 4 and m["n_no_expected"] == 1
    assert m["p_at_1"] == pytest.approx(1 / 4)
    assert m["recall_at_k"] == pytest.approx({1: 1 / 4, 2: 2 / 4, 3: 2 / 4})
    assert m["mrr"] == pytest.approx((1 + 1 / 2) / 4)


def test_no_expected_ids_gives_none_not_nonsense():
    m = retrieval_metrics([["a"], ["b"]], [None, None])
    assert m["n_evaluated"] == 0 and m["p_at_1"] is None and m["mrr"] is None
    assert m["recall_at_k"] == {1: None, 5: None, 10: None}


def test_top1_correct():
    np.testing.assert_array_equal(top1_correct(RANKED, EXPECTED),
                                  [True, False, False, False, False])
    assert top1_correct([], []).dtype == bool


def test_errors():
    with pytest.raises(InputError, match=r"different lengths \(5 vs 4\)"):
        retrieval_metrics(RANKED, EXPECTED[:4])
    with pytest.raises(InputError, match="ks: need positive whole numbers"):
        retrieval_metrics(RANKED, EXPECTED, ks=(0, 5))
    with pytest.raises(InputError, match="different lengths"):
        top1_correct(RANKED, EXPECTED[:2])
