"""Mann-Kendall trend test, vectorised over many series (private helper).

For a series :math:`x_1, \\dots, x_n` in time order (Mann 1945; Kendall 1975;
as in ArcGIS Pro's Create Space Time Cube and Emerging Hot Spot Analysis):

.. math::

    S = \\sum_{i<j} \\operatorname{sign}(x_j - x_i), \\qquad
    \\operatorname{Var}(S) = \\frac{n(n-1)(2n+5) - \\sum_g t_g(t_g-1)(2t_g+5)}{18}

with :math:`t_g` the size of each group of tied values, and

.. math::

    Z = \\frac{S - \\operatorname{sign}(S)}{\\sqrt{\\operatorname{Var}(S)}}
    \\quad(\\text{continuity-corrected; } Z = S/\\sqrt{\\operatorname{Var}(S)} \\text{ without}),
    \\qquad p = 2\\,(1 - \\Phi(|Z|)).

Without the continuity correction Z equals the normal approximation of
Kendall's tau-b between the series and its time index (``scipy.stats.kendalltau``
with ``method="asymptotic"``), since the time index has no ties.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

__all__ = ["mann_kendall"]


def mann_kendall(
    x: np.ndarray, continuity: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall S, Z and two-sided p for each row of ``x``.

    Parameters
    ----------
    x : numpy.ndarray, shape (m, n) or (n,)
        ``m`` series of ``n`` time steps, oldest first. NaN is not allowed.
    continuity : bool
        Subtract 1 from :math:`|S|` before standardising (the usual correction).

    Returns
    -------
    S, Z, p : numpy.ndarray, shape (m,) (scalars' arrays for a 1-d input)
        Z is 0 and p is 1 when :math:`\\operatorname{Var}(S) = 0` (a constant series).

    Examples
    --------
    >>> S, Z, p = mann_kendall(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> int(S[0]), round(float(Z[0]), 4)
    (6, 1.6984)
    """
    a = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if np.isnan(a).any():
        raise ValueError("Mann-Kendall series must not contain NaN")
    m, n = a.shape
    S = np.zeros(m)
    # O(n^2) over time steps (small: tens to a few hundred), vectorised over series
    for i in range(n - 1):
        S += np.sign(a[:, i + 1 :] - a[:, i : i + 1]).sum(axis=1)
    var = np.full(m, n * (n - 1) * (2 * n + 5), dtype=np.float64)
    srt = np.sort(a, axis=1)
    # tie groups: runs of equal values in each sorted row
    if n > 1:
        new = np.ones((m, n), dtype=bool)
        new[:, 1:] = srt[:, 1:] != srt[:, :-1]
        rows, starts = np.nonzero(new)
        ends = np.append(starts[1:], 0)
        last = np.append(rows[1:] != rows[:-1], True)
        ends[last] = n
        t = (ends - starts).astype(np.float64)
        np.subtract.at(var, rows, t * (t - 1) * (2 * t + 5))
    var /= 18.0
    num = S - np.sign(S) if continuity else S
    with np.errstate(divide="ignore", invalid="ignore"):
        Z = np.where(var > 0, num / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    p = 2.0 * _st.norm.sf(np.abs(Z))
    return S, Z, p
