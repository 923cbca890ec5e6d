"""Distances: one formula each, the same values for numpy arrays and torch tensors, and numpy
inputs computed without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from surematch.distances import DISTANCES, get_distance


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_numpy_and_torch_give_the_same_values(name: str) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)
    a[0] = b[0]  # an exact zero distance
    d = get_distance(name)
    for method in (d.pairwise, d.paired):
        from_numpy = method(a, b)
        from_torch = method(torch.from_numpy(a), torch.from_numpy(b))
        assert isinstance(from_numpy, np.ndarray) and isinstance(from_torch, torch.Tensor)
        # atol: sqrt of a float32 rounding error at the exact zero is about 3e-4
        np.testing.assert_allclose(from_numpy, from_torch.numpy(), atol=1e-3)
    assert d.pairwise(a, b).shape == (5, 5) and d.paired(a, b).shape == (5,)


def test_euclidean_gradient_is_finite_at_an_exact_zero() -> None:
    a = torch.ones(2, 3, requires_grad=True)
    get_distance("euclidean").paired(a, torch.ones(2, 3)).sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_numpy_inputs_never_import_torch() -> None:
    code = ("import sys, numpy as np\n"
            "from surematch.distances import DISTANCES\n"
            "x = np.eye(3, dtype=np.float32)\n"
            "for d in DISTANCES.values():\n"
            "    d.pairwise(x, x); d.paired(x, x)\n"
            "assert 'torch' not in sys.modules\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
