"""Conditional-permutation pseudo p-values for Gi* (numba, bounded memory).

Under conditional randomisation (Anselin 1995) the value of cell *i* is held fixed and its
``k_i - 1`` other neighbours are replaced by a random draw, without replacement, from the
other ``n - 1`` values; the pseudo p compares the observed local sum with ``P`` such draws.

Exact shared draws. ``P`` random sequences of ``M`` distinct cells (``M`` = the largest
``k - 1``) are drawn once from all ``n`` cells, in random order, so that the first ``m`` cells
of a sequence are a uniform random ``m``-subset for every ``m``; their running sums give, for
each band size, ``P`` sums to sort once. For a cell *i* with ``m`` other neighbours, a prefix
that does not contain *i* is a uniform draw from the other cells already; a prefix that
contains *i* (rare: probability ``m / n``) has *i* swapped for a uniform draw from the cells
outside the prefix. By symmetry every ``m``-subset of the other cells is then equally likely,
so each cell gets exactly its conditional null; its counts are read from the sorted sums by
binary search and corrected for its few swapped prefixes. Work is ``O(P M + n log P)``
instead of ``O(n P m)``, whatever the values (counts or continuous). As in esda (which
shares one permutation table across cells), cells share random draws, so their Monte Carlo
errors are correlated; each cell's p is a valid permutation p.

Memory: ``O(n + P M)``; never a cells x permutations matrix. Reproducible: every random
stream (one per sequence, one per swap) is a splitmix64 sequence seeded from ``seed``, the
sequence and the cell, so results do not depend on the thread count.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["permutation_counts", "pseudo_p", "MAX_DRAWN"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
#: refuse to draw more cells than this in all (16 bytes each: the draws and their running sums).
MAX_DRAWN = 25_000_000


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
def _draw_sequences(n, m, permutations, seed):
    """``permutations`` sequences of ``m`` distinct cells out of ``n``, in random order."""
    seqs = np.empty((permutations, m), dtype=np.int64)
    for p in numba.prange(permutations):
        state = seed ^ (np.uint64(p + 1) * _M1)
        if m <= 32:  # short: rejection with a linear duplicate check
            filled = 0
            while filled < m:
                state, j = _below(state, n)
                dup = False
                for q in range(filled):
                    if seqs[p, q] == j:
                        dup = True
                        break
                if not dup:
                    seqs[p, filled] = j
                    filled += 1
        elif 2 * m <= n:  # long but sparse: rejection with a set, < 2 tries a cell
            seen = set()
            filled = 0
            while filled < m:
                state, j = _below(state, n)
                if j not in seen:
                    seen.add(j)
                    seqs[p, filled] = j
                    filled += 1
        else:  # dense: partial Fisher-Yates shuffle
            scratch = np.arange(n)
            for q in range(m):
                state, r = _below(state, n - q)
                t = scratch[q + r]
                scratch[q + r] = scratch[q]
                scratch[q] = t
                seqs[p, q] = t
    return seqs


@numba.njit(cache=True)
def _outside(state, seq, m, n):
    """A uniform cell outside ``seq[:m]``, and the new state."""
    if 2 * m < n:  # mostly outside: rejection, < 2 tries on average
        while True:
            state, j = _below(state, n)
            inside = False
            for q in range(m):
                if seq[q] == j:
                    inside = True
                    break
            if not inside:
                return state, j
    members = np.sort(seq[:m])  # dense: the r-th cell outside, walking the sorted members
    state, j = _below(state, n - m)
    for q in range(m):
        if members[q] <= j:
            j += 1
        else:
            break
    return state, j


@numba.njit(cache=True, parallel=True)
def _count(y, around, cells, m, seqs, sums, drawn, entry, seed, tol, ge, le):
    permutations, width = seqs.shape[0], seqs.shape[1]
    sorted_sums = np.sort(sums)
    for t in numba.prange(cells.shape[0]):
        c = cells[t]
        lo_v = around[c] - tol
        hi_v = around[c] + tol
        g = permutations - np.searchsorted(sorted_sums, lo_v, side="left")
        lq = np.searchsorted(sorted_sums, hi_v, side="right")
        first = np.searchsorted(drawn, c, side="left")
        last = np.searchsorted(drawn, c, side="right")
        for u in range(first, last):  # sequences that drew this very cell
            p = entry[u] // width
            if entry[u] % width >= m:  # drawn after the prefix this band size uses
                continue
            state = seed ^ (np.uint64(c + 1) * _M2) ^ (np.uint64(p + 1) * _GOLDEN)
            state, j = _outside(state, seqs[p], m, y.shape[0])
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
    P = int(permutations)
    around = np.ascontiguousarray(local_sum, dtype=np.float64) - y
    tol = 1e-9 * max(1.0, float(np.abs(y).max(initial=0.0)) * float(k.max(initial=1)))
    seed64 = np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0]
    ge = np.full(n, P, dtype=np.int64)  # bands of the cell alone or of every cell: no randomness
    le = np.full(n, P, dtype=np.int64)
    random_k = np.unique(k[(k > 1) & (k < n)])
    if len(random_k) == 0:
        return ge, le
    width = int(random_k.max()) - 1
    if P * width > MAX_DRAWN:
        raise ValueError(
            f"{P:,} permutations of bands of up to {width + 1:,} cells would draw "
            f"{P * width:,} cells (more than {MAX_DRAWN:,}); use a smaller band or fewer "
            "permutations"
        )
    seqs = _draw_sequences(n, width, P, seed64)
    running = np.cumsum(y[seqs], axis=1)  # running[p, m - 1] = sum of the first m cells
    entry = np.argsort(seqs.ravel(), kind="stable")  # positions in seqs, by the cell drawn
    drawn = seqs.ravel()[entry]
    for kk in random_k:
        cells = np.flatnonzero(k == kk).astype(np.int64)
        m = int(kk) - 1
        sums = np.ascontiguousarray(running[:, m - 1])
        _count(y, around, cells, m, seqs, sums, drawn, entry, seed64, tol, ge, le)
    return ge, le


def pseudo_p(ge: np.ndarray, le: np.ndarray, permutations: int) -> np.ndarray:
    """Two-sided pseudo p: ``min(1, 2 (min(ge, le) + 1) / (P + 1))``.

    Twice esda's folded ``p_sim`` for continuous values; with ties (counts) both tails count
    the ties, so a cell equal to its null (e.g. zeros among zeros) gets p = 1, not 1 / (P + 1).
    """
    return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1.0) / (permutations + 1.0))
