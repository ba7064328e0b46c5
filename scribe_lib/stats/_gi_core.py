"""Array core of the Getis-Ord Gi* statistic (no pandas, no geometry).

Shared by :mod:`scribe_lib.stats.gi` (hot spots on a grid) and the emerging hot
spot analysis (Gi* on a space-time cube). Weights are binary with the cell itself
included, the definition under which esda ``G_Local(star=True, transform="B")``,
R spdep ``localG`` with ``include.self()`` and ArcGIS Pro's Hot Spot Analysis agree.

With :math:`x` the values, :math:`n` the number of cells, :math:`k_i = \\sum_j w_{ij}`
(neighbours of *i*, itself included), :math:`\\bar x` the mean and
:math:`S = \\sqrt{\\sum_j x_j^2 / n - \\bar x^2}` (population standard deviation):

.. math::

    z_i = \\frac{\\sum_j w_{ij} x_j - \\bar x\\, k_i}
               {S \\sqrt{(n k_i - k_i^2) / (n - 1)}}

(Getis & Ord 1992; Ord & Getis 1995, eq. 3.2; ArcGIS "How Hot Spot Analysis works").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["gi_star_z", "gi_star_parts", "gi_star_from_sums"]


def _check(y: np.ndarray, W: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    y = np.asarray(y, dtype=np.float64).ravel()
    if not sp.issparse(W):
        raise TypeError(f"W must be a scipy.sparse matrix, not {type(W).__name__}")
    W = sp.csr_matrix(W)
    n = y.shape[0]
    if W.shape != (n, n):
        raise ValueError(f"W is {W.shape[0]} x {W.shape[1]} but y has {n} values")
    if not np.all(np.isfinite(y)):
        raise ValueError("y has missing or infinite values; fill or drop them first")
    if W.nnz and not np.all(W.data == 1.0):
        raise ValueError("W must be binary (every stored weight 1)")
    if n and np.any(W.diagonal() != 1.0):
        raise ValueError("W must include each cell as its own neighbour (diagonal of 1)")
    return y, W


def gi_star_parts(y: np.ndarray, W: sp.csr_matrix) -> dict[str, np.ndarray | float]:
    """Gi* z together with the pieces it is made of.

    Parameters
    ----------
    y : numpy.ndarray, shape (n,)
        Value per cell (incident counts or harm-weighted sums).
    W : scipy.sparse.csr_matrix, shape (n, n)
        Binary weights (1 = neighbour), diagonal set to 1 (the cell itself included).

    Returns
    -------
    dict
        ``z`` (n,), ``local_sum`` (n,): :math:`\\sum_j w_{ij} x_j`, ``k`` (n,): number of
        neighbours including itself, ``mean`` and ``sd`` (floats, over all n cells).
        ``z`` is NaN where it is undefined (all values equal, or a cell neighbouring every cell).
    """
    y, W = _check(y, W)
    return gi_star_from_sums(y, W @ y, np.diff(W.indptr).astype(np.float64))


def gi_star_from_sums(y: np.ndarray, local_sum: np.ndarray, k: np.ndarray) -> dict:
    """Gi* from each cell's band sum and band size (e.g. from a convolution on a grid).

    Parameters
    ----------
    y : numpy.ndarray, shape (n,)
        Value per cell.
    local_sum : numpy.ndarray, shape (n,)
        Sum of ``y`` over each cell's band, the cell included.
    k : numpy.ndarray, shape (n,)
        Number of cells in each band, the cell included.

    Returns
    -------
    dict
        As :func:`gi_star_parts`.
    """
    y = np.asarray(y, dtype=np.float64)
    local_sum = np.asarray(local_sum, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    n = y.shape[0]
    if n < 2:
        return {
            "z": np.full(n, np.nan),
            "local_sum": local_sum,
            "k": k,
            "mean": float(y.mean()) if n else np.nan,
            "sd": np.nan,
        }
    mean = y.mean()
    sd = np.sqrt(max(np.mean(y * y) - mean * mean, 0.0))
    den = sd * np.sqrt((n * k - k * k) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (local_sum - mean * k) / den
    z[~np.isfinite(z)] = np.nan
    return {"z": z, "local_sum": local_sum, "k": k, "mean": float(mean), "sd": float(sd)}


def gi_star_z(y: np.ndarray, W: sp.csr_matrix) -> np.ndarray:
    """Analytic Getis-Ord Gi* z-scores, binary weights, the cell itself included.

    Equal to esda ``G_Local(y, w, transform="B", star=True).Zs`` on the same weights.

    Parameters
    ----------
    y : numpy.ndarray, shape (n,)
        Value per cell (space-time bin): counts, or harm-weighted sums.
    W : scipy.sparse.csr_matrix, shape (n, n)
        Binary neighbour matrix (1 = neighbour) with 1 on the diagonal.

    Returns
    -------
    numpy.ndarray, shape (n,)
        z-scores; NaN where undefined (no variation in ``y``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> W = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(4, 4), format="csr")  # a line of 4
    >>> np.round(gi_star_z(np.array([4.0, 1.0, 1.0, 2.0]), W), 4)
    array([ 0.7071,  0.    , -1.633 , -0.7071])
    """
    return gi_star_parts(y, W)["z"]
