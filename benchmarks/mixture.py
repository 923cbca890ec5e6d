"""Realistic 384-dim vectors for the index benchmark: a full-covariance Gaussian mixture fitted
to MiniLM embeddings of every ESCO title, cached as .npz so later runs skip the fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"


def esco_embeddings() -> np.ndarray:
    """L2-normalised frozen-MiniLM embeddings [N, 384] of every distinct ESCO title."""
    path = CACHE / "esco_titles_minilm.npy"
    if path.exists():
        return np.load(path)
    from surematch.data.esco import read_esco
    from surematch.encoders.text import TextEncoder

    texts = sorted({t for o in read_esco() for t in [o.preferred, *o.alternatives]})
    emb = TextEncoder().encode(texts).numpy()
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    CACHE.mkdir(exist_ok=True)
    np.save(path, emb.astype(np.float32))
    return emb


def fitted_mixture(components: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    """weights [C], means [C, D], cholesky factors of the covariances [C, D, D]."""
    path = CACHE / f"esco_gmm{components}_seed{seed}.npz"
    if path.exists():
        return dict(np.load(path))
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(components, covariance_type="full", reg_covar=1e-4, max_iter=50,
                          random_state=seed).fit(esco_embeddings())
    params = {"weights": gmm.weights_, "means": gmm.means_,
              "chol": np.linalg.cholesky(gmm.covariances_)}
    CACHE.mkdir(exist_ok=True)
    np.savez(path, **params)
    return params


def sample(n: int, seed: int = 0) -> np.ndarray:
    """n L2-normalised float32 vectors [n, D] drawn from the fitted mixture, in random order."""
    p, rng = fitted_mixture(), np.random.default_rng(seed)
    counts = rng.multinomial(n, p["weights"] / p["weights"].sum())
    out = np.empty((n, p["means"].shape[1]), np.float32)
    start = 0
    for mean, chol, count in zip(p["means"], p["chol"], counts, strict=True):
        z = rng.standard_normal((count, len(mean)), dtype=np.float32)
        out[start:start + count] = mean + z @ chol.T.astype(np.float32)
        start += count
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out[rng.permutation(n)]
