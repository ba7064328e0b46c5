"""Conditional-permutation pseudo p-values for Gi* (numba, bounded memory).

Under conditional randomisation (Anselin 1995) the value of cell *i* is held fixed and its
``k_i - 1`` other neighbours are replaced by a random draw, without replacement, from the
other ``n - 1`` values; the pseudo p compares the observed local sum with ``P`` such draws.

Exact shared draws. For each neighbour count ``k`` (a handful on a grid), ``P`` random sets of
``m = k - 1`` distinct cells are drawn once from all ``n`` cells and their sums sorted. For a
cell *i* a set that does not contain *i* is a uniform draw from the other cells already; a set
that contains *i* (rare: probability ``m / n``) has *i* swapped for a uniform draw from the
cells outside the set. By symmetry every ``m``-subset of the other cells is then equally
likely, so each cell gets exactly its conditional null, and only its few swapped sums need a
correction to the counts read from the sorted sums by binary search. Work is
``O(P m + n log P)`` instead of ``O(n P m)``, whatever the values (counts or continuous).
As in esda (which shares one permutation table across cells), cells share random draws, so
their Monte Carlo errors are correlated; each cell's p is a valid permutation p.

Memory: ``O(n + P m)``; never a cells x permutations matrix. Reproducible: every random
stream (one per set, one per swap) is a splitmix64 sequence seeded from ``seed``, ``k``, the
set and the cell, so results do not depend on the thread count.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["permutation_counts", "pseudo_p"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@numba.njit(cache=True, inline="always")
def _next(state):
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return state, z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _below(state, n):
    """A uniform integer in [0, n) and the new state."""
    state, r = _next(state)
    return state, np.int64(float(r >> np.uint64(11)) * _INV53 * n)


@numba.njit(cache=True, parallel=True)
def _draw_sets(n, m, permutations, seed):
    """``permutations`` sets of ``m`` distinct cells out of ``n``, each row sorted."""
    sets = np.empty((permutations, max(m, 1)), dtype=np.int64)
    for p in numba.prange(permutations):
        state = seed ^ (np.uint64(p + 1) * _M1)
        if m <= 32:  # small sets: rejection with a linear duplicate check
            filled = 0
            while filled < m:
                state, j = _below(state, n)
                dup = False
                for q in range(filled):
                    if sets[p, q] == j:
                        dup = True
                        break
                if not dup:
                    sets[p, filled] = j
                    filled += 1
        else:  # Floyd's algorithm: m draws, O(m) expected, whatever m / n
            chosen = set()
            for t in range(n - m, n):
                state, j = _below(state, t + 1)
                if j in chosen:
                    chosen.add(t)
                else:
                    chosen.add(j)
            q = 0
            for j in chosen:
                sets[p, q] = j
                q += 1
        sets[p, :m] = np.sort(sets[p, :m])
    return sets


@numba.njit(cache=True, parallel=True)
def _count(y, around, cells, sets, sums, seed, tol, ge, le):
    permutations, m = sets.shape[0], sets.shape[1]
    n = y.shape[0]
    sorted_sums = np.sort(sums)
    flat = sets.ravel()
    by_cell = np.argsort(flat)  # positions in ``flat`` ordered by the cell drawn
    drawn = flat[by_cell]
    for t in numba.prange(cells.shape[0]):
        c = cells[t]
        lo_v = around[c] - tol
        hi_v = around[c] + tol
        g = permutations - np.searchsorted(sorted_sums, lo_v, side="left")
        lq = np.searchsorted(sorted_sums, hi_v, side="right")
        first = np.searchsorted(drawn, c, side="left")
        last = np.searchsorted(drawn, c, side="right")
        for u in range(first, last):  # the sets that drew this very cell: swap it out
            p = by_cell[u] // m
            state = seed ^ (np.uint64(c + 1) * _M2) ^ (np.uint64(p + 1) * _GOLDEN)
            row = sets[p]  # sorted; contains c
            if 2 * m < n:  # mostly outside the set: rejection, < 2 tries on average
                while True:
                    state, j = _below(state, n)
                    at = np.searchsorted(row, j)
                    if at == m or row[at] != j:
                        break
            else:  # the r-th cell outside the set, walking the sorted set
                state, j = _below(state, n - m)
                for q in range(m):
                    if row[q] <= j:
                        j += 1
                    else:
                        break
            old = sums[p]
            new = old - y[c] + y[j]
            g += (new >= lo_v) - (old >= lo_v)
            lq += (new <= hi_v) - (old <= hi_v)
        ge[c] = g
        le[c] = lq


def permutation_counts(y, local_sum, k, permutations: int, seed: int):
    """Per cell, how many of ``permutations`` conditional random local sums are >= and <= the
    observed one.

    Parameters
    ----------
    y : ndarray (n,)
        Cell values.
    local_sum : ndarray (n,)
        Observed sum over each cell's band, the cell included.
    k : ndarray (n,)
        Neighbours per cell, the cell included (1 <= k <= n).
    permutations : int
        Random draws.
    seed : int
        Seed (any non-negative integer).

    Returns
    -------
    (ndarray, ndarray)
        ``ge`` and ``le``: int64 counts of simulated sums >= and <= the observed one (within a
        relative tolerance of 1e-9, so that equal sums of equal values count as ties).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    k = np.ascontiguousarray(k, dtype=np.int64)
    n = len(y)
    around = np.ascontiguousarray(local_sum, dtype=np.float64) - y
    tol = 1e-9 * max(1.0, float(np.abs(y).max(initial=0.0)) * float(k.max(initial=1)))
    base = np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0]
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    for kk in np.unique(k):
        cells = np.flatnonzero(k == kk).astype(np.int64)
        m = int(kk) - 1
        kseed = np.uint64(base ^ np.uint64((int(kk) * 0x9E3779B1) & 0xFFFFFFFFFFFFFFFF))
        if m == 0 or m == n - 1:  # the band is the cell alone, or every cell: no randomness
            ge[cells] = le[cells] = permutations
            continue
        sets = _draw_sets(n, m, int(permutations), kseed)
        sums = y[sets].sum(axis=1)
        _count(y, around, cells, sets, sums, kseed, tol, ge, le)
    return ge, le


def pseudo_p(ge: np.ndarray, le: np.ndarray, permutations: int) -> np.ndarray:
    """Two-sided pseudo p: ``min(1, 2 (min(ge, le) + 1) / (P + 1))``.

    Twice esda's folded ``p_sim`` for continuous values; with ties (counts) both tails count
    the ties, so a cell equal to its null (e.g. zeros among zeros) gets p = 1, not 1 / (P + 1).
    """
    return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1.0) / (permutations + 1.0))
