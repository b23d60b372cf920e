"""Sample-quality metrics of the mode-collapse literature (VEEGAN, PacGAN) and exact W1.

Mode statistics: each sample belongs to its nearest mode center and is "high quality" when it
lies within 3 std of it; a mode is covered when it has at least one high-quality sample. For a
perfect generator the high-quality fraction is P(r < 3 std) of a 2D Gaussian, 1 - exp(-4.5),
about 0.989.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from .distributions import Distribution


def nearest_center(samples: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, distance) of each sample's nearest center; non-finite samples get distance inf.

    A KD-tree query: measured faster than a broadcast distance matrix already at 8 centers
    (2,500 samples: ~1 ms against 8 or 1,600 centers), and its memory does not grow with M.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    finite = np.isfinite(samples).all(axis=1)
    safe = np.where(finite[:, None], samples, 0.0)
    dist, idx = cKDTree(centers).query(safe)
    return idx.astype(np.intp), np.where(finite, dist, np.inf)


def mode_statistics(samples: np.ndarray, centers: np.ndarray, std: float,
                    weights: np.ndarray | None = None) -> dict:
    """Modes covered, high-quality fraction and reverse KL of the covered-mode histogram.

    reverse_kl is KL(p_gen || weights), p_gen the histogram of high-quality samples over the
    modes (0 log 0 = 0). It is float('inf') when there is no high-quality sample at all (p_gen
    is undefined: nothing of the generator's mass sits on the data), or when p_gen puts mass on
    a mode of zero true weight. `weights` defaults to uniform. Non-finite samples (a diverged
    generator) are never high quality.
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    m = len(centers)
    w = np.full(m, 1.0 / m) if weights is None else np.asarray(weights, dtype=np.float64)
    idx, dist = nearest_center(samples, centers)
    good = dist <= 3.0 * std
    counts = np.bincount(idx[good], minlength=m)
    covered = int((counts > 0).sum())
    return {
        "modes_covered": covered,
        "n_modes": m,
        "high_quality": float(good.mean()) if len(good) else 0.0,
        "reverse_kl": _reverse_kl(counts, w),
        "mode_counts": counts,
        "collapsed": bool(covered < m / 2),
    }


def _reverse_kl(counts: np.ndarray, weights: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return float("inf")
    p = counts / total
    on = p > 0
    if np.any(weights[on] <= 0):
        return float("inf")
    return float(np.sum(p[on] * np.log(p[on] / weights[on])))


def wasserstein1(a: np.ndarray, b: np.ndarray) -> float:
    """Exact earth mover's distance between two uniform point sets, Euclidean cost.

    With equal sizes the optimal transport plan is a permutation, so W1 is the mean cost of the
    optimal assignment (Hungarian algorithm; ~130 ms at n = 1000, so not for every frame at
    large n). If the sizes differ, the first min(len(a), len(b)) points of each are used.
    Returns inf if any point is non-finite; raises ValueError on an empty set.
    """
    n = min(len(a), len(b))
    if n == 0:
        raise ValueError("wasserstein1 needs at least one point in each set")
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)[:n]
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)[:n]
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    cost = cdist(a, b)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def evaluate(fake: np.ndarray, real: np.ndarray, dist: Distribution,
             w1_samples: int = 1000) -> dict:
    """All metrics for one moment of a run, JSON-ready (python scalars, lists, None).

    Mixtures get the mode statistics of `fake` (mode_counts as a list) plus "w1"; other
    datasets get "w1" and None for the mode fields. W1 uses the first `w1_samples` of each set;
    w1_samples=0 skips it (w1 None): exact OT is the one metric too slow for every frame.
    """
    fake = np.asarray(fake, dtype=np.float64).reshape(-1, 2)
    real = np.asarray(real, dtype=np.float64).reshape(-1, 2)
    out = {"w1": wasserstein1(fake[:w1_samples], real[:w1_samples]) if w1_samples else None}
    if dist.is_mixture:
        stats = mode_statistics(fake, dist.centers, dist.std, dist.weights)
        stats["mode_counts"] = [int(c) for c in stats["mode_counts"]]
        out.update(stats)
    else:
        out.update(modes_covered=None, n_modes=None, high_quality=None, reverse_kl=None,
                   mode_counts=None, collapsed=None)
    return out
