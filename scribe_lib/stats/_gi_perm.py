"""Conditional-permutation pseudo p-values for Gi* (numba, bounded memory).

Under conditional randomisation (Anselin 1995) the value of cell *i* is held fixed and its
``k_i - 1`` neighbours are replaced by a random draw, without replacement, from the other
``n - 1`` values. The null distribution of the local sum therefore depends only on the pair
``(k_i, y_i)``: the multiset of the other values is the same for every cell with the same
value. Cells are grouped by that pair and each group's ``P`` sums are drawn once, then every
cell of the group is compared with them. For counts (few distinct values) this is thousands
of times less work than drawing per cell, with the same null distribution; as in esda, cells
share random draws (esda shares one permutation table across all cells).

Memory: ``O(n + P)`` per thread; no cells x permutations matrix. Reproducible: each group
has its own splitmix64 stream seeded from ``seed`` and the group, whatever the thread count.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

__all__ = ["permutation_counts", "pseudo_p"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _next(state):
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return state, z ^ (z >> np.uint64(31))


@numba.njit(cache=True, parallel=True)
def _group_counts(y, local_sum, order, starts, k, permutations, seed, tol):
    n = y.shape[0]
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    n_groups = starts.shape[0] - 1
    for g in numba.prange(n_groups):
        first = order[starts[g]]
        kk = k[first] - 1  # neighbours other than the cell itself
        if kk > n - 1:
            kk = n - 1
        state = np.uint64(seed) ^ (np.uint64(g) * _M2)
        state, _ = _next(state)
        sims = np.empty(permutations, dtype=np.float64)
        picks = np.empty(max(kk, 1), dtype=np.int64)
        scale = float(n - 1) / 9007199254740992.0  # (n-1) / 2**53
        for p in range(permutations):
            s = y[first]
            m = 0
            while m < kk:
                state, r = _next(state)
                j = np.int64(float(r >> np.uint64(11)) * scale)
                if j >= first:
                    j += 1
                dup = False
                for q in range(m):
                    if picks[q] == j:
                        dup = True
                        break
                if not dup:
                    picks[m] = j
                    s += y[j]
                    m += 1
            sims[p] = s
        size = starts[g + 1] - starts[g]
        if size <= 8:  # few cells: compare directly (sorting would cost more)
            for t in range(starts[g], starts[g + 1]):
                c = order[t]
                lo = local_sum[c] - tol
                hi = local_sum[c] + tol
                n_ge = 0
                n_le = 0
                for p in range(permutations):
                    if sims[p] >= lo:
                        n_ge += 1
                    if sims[p] <= hi:
                        n_le += 1
                ge[c] = n_ge
                le[c] = n_le
        else:
            sims.sort()
            for t in range(starts[g], starts[g + 1]):
                c = order[t]
                obs = local_sum[c]
                ge[c] = permutations - np.searchsorted(sims, obs - tol, side="left")
                le[c] = np.searchsorted(sims, obs + tol, side="right")
    return ge, le


def permutation_counts(y, local_sum, k, permutations: int, seed: int):
    """Per cell, how many of ``permutations`` random local sums are >= and <= the observed.

    Parameters
    ----------
    y : ndarray (n,)
        Cell values.
    local_sum : ndarray (n,)
        Observed sum over each cell's band, the cell included.
    k : ndarray (n,)
        Neighbours per cell, the cell included.
    permutations : int
        Random draws per group of cells.
    seed : int
        Seed (0 <= seed < 2**63).

    Returns
    -------
    (ndarray, ndarray)
        ``ge`` and ``le``: counts of simulated sums >= and <= the observed one.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    k = np.ascontiguousarray(k, dtype=np.int64)
    codes = pd.factorize(y)[0].astype(np.int64)
    key = codes * (int(k.max()) + 1) + k
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.flatnonzero(np.concatenate([[True], sk[1:] != sk[:-1], [True]]))
    tol = 1e-9 * max(1.0, float(np.abs(y).max()) * float(k.max()))
    seed64 = np.uint64(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0])
    return _group_counts(
        y,
        np.ascontiguousarray(local_sum, dtype=np.float64),
        order,
        starts,
        k,
        int(permutations),
        seed64,
        tol,
    )


def pseudo_p(ge: np.ndarray, le: np.ndarray, permutations: int) -> np.ndarray:
    """Two-sided pseudo p: ``min(1, 2 (min(ge, le) + 1) / (P + 1))``.

    Twice esda's folded ``p_sim`` for continuous values; with ties (counts) both tails count
    the ties, so a cell equal to its null (e.g. zeros among zeros) gets p = 1, not 1 / (P + 1).
    """
    return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1.0) / (permutations + 1.0))
