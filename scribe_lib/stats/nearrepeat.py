"""Near-repeat victimisation: the Knox test with Monte Carlo permutations.

As Ratcliffe's Near Repeat Calculator (Ratcliffe 2009; Johnson et al. 2007;
Knox 1964): every pair of incidents is classified by its distance apart (spatial
band) and its days apart (temporal band); the observed count of pairs in each
band pair is compared with the counts obtained when the dates are randomly
permuted among the incidents (locations fixed), which breaks any space-time link
while keeping both the spatial and the temporal pattern.

Band edges (metres; whole calendar days)
----------------------------------------
With spatial upper edges :math:`e_1 < \\dots < e_K` and distance :math:`d` (Euclidean,
EPSG:27700):

* ``same location``: :math:`d = 0` (identical coordinates);
* band *k*: :math:`e_{k-1} < d \\le e_k` with :math:`e_0 = 0` (lower edge excluded, upper
  included: with whole metres, "1 to 100 m", "101 to 200 m" as the Calculator prints);
* ``beyond``: :math:`d > e_K`.

With temporal upper edges :math:`f_1 < \\dots < f_L` (days) and :math:`\\Delta` the whole
days between the two incidents' dates:

* band 1: :math:`0 \\le \\Delta \\le f_1` ("0 to 14 days": same-day pairs included);
* band *l*: :math:`f_{l-1} < \\Delta \\le f_l` ("15 to 28 days");
* ``beyond``: :math:`\\Delta > f_L`.
"""

from __future__ import annotations

import sys
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from ..errors import ScribeError
from ._cube import located
from ._periods import event_time

__all__ = ["knox_test", "bands"]


def bands(width: float, n: int) -> list[float]:
    """Upper edges of ``n`` bands of equal ``width``: ``bands(100, 3) == [100, 200, 300]``."""
    if not width > 0 or int(n) != n or n < 1:
        raise ScribeError(f"bands need a positive width and count, not width={width!r}, n={n!r}")
    return [float(width) * (i + 1) for i in range(int(n))]


def _edges(values, what: str, unit: str) -> np.ndarray:
    e = np.asarray(list(values), dtype=np.float64)
    if e.size == 0 or not np.all(np.isfinite(e)) or np.any(e <= 0) or np.any(np.diff(e) <= 0):
        raise ScribeError(
            f"{what} must be increasing positive upper edges in {unit}, e.g. [100, 200, 300], "
            f"not {list(values)!r}"
        )
    return e


def _dated(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    pts = located(incidents)
    prec = (
        pts["time_precision"].astype("string").fillna("month")
        if "time_precision" in pts
        else pd.Series("exact", index=pts.index, dtype="string")
    )
    keep = prec.isin(["exact", "day"]).to_numpy() & event_time(pts).notna().to_numpy()
    dropped = len(incidents) - int(keep.sum())
    pts = pts.loc[keep]
    day = event_time(pts).dt.floor("D").to_numpy(dtype="datetime64[D]").astype(np.int64)
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    return xy, day, dropped


def _pair_totals(day: np.ndarray, t_edges: np.ndarray) -> np.ndarray:
    """Pairs of all incidents in each temporal band (and beyond), O(n log n)."""
    t = np.sort(day)
    n = t.size
    cum = []
    for e in t_edges:  # pairs with 0 <= dt <= e
        cum.append(int((np.searchsorted(t, t + e, side="right") - np.arange(n) - 1).sum()))
    cum = np.array(cum + [n * (n - 1) // 2], dtype=np.int64)
    return np.diff(np.concatenate([[0], cum]))


def _close_numpy(i, j, sband, lut, day, n_s, n_t):
    """Counts of close pairs per (spatial band, temporal band): vectorised numpy."""
    cell = sband * n_t + lut[np.abs(day[i] - day[j])]
    return np.bincount(cell, minlength=n_s * n_t)


try:  # numba is optional: one pass over the pairs, no temporaries (same numbers)
    from numba import njit

    @njit(cache=True, nogil=True)
    def _close_numba(i, j, sband, lut, day, n_s, n_t):  # pragma: no cover - compiled
        out = np.zeros(n_s * n_t, dtype=np.int64)
        for p in range(i.shape[0]):
            out[sband[p] * n_t + lut[abs(day[i[p]] - day[j[p]])]] += 1
        return out

except ImportError:  # pragma: no cover - numba not installed
    _close_numba = None


def _table(close_fn, i, j, sband, lut, day, n_s, n_t, totals):
    """(n_s + 1) x n_t table: the close spatial bands from pairs, 'beyond' from the totals."""
    close = close_fn(i, j, sband, lut, day, n_s, n_t).reshape(n_s, n_t)
    return np.vstack([close, totals - close.sum(axis=0)])


def knox_test(
    incidents: gpd.GeoDataFrame,
    spatial_bands,
    temporal_bands,
    permutations: int = 999,
    seed: int | None = None,
    progress: bool = False,
    engine: str = "auto",
) -> pd.DataFrame:
    """Knox test of near repeats over spatial x temporal bands, Monte Carlo p-values.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Harmonised incidents (EPSG:27700). Only located incidents with an exact date
        (``time_precision`` exact or day) are used; the others are counted in a warning.
    spatial_bands : sequence of float
        Upper edges in metres, e.g. ``[100, 200, 300]`` or ``bands(100, 3)``; a ``same
        location`` band (distance 0) is always added first and ``beyond`` last.
    temporal_bands : sequence of int
        Upper edges in days, e.g. ``[14, 28, 42]``; ``beyond`` is added last.
    permutations : int
        Monte Carlo permutations of the dates (>= 19; 999 resolves p down to 0.001).
    seed : int, optional
        Seed of the permutations (same seed, same result).
    progress : bool
        Show a progress bar of the permutations on stderr (tqdm).
    engine : {"auto", "numba", "numpy"}
        Tally with a compiled loop when numba is installed (``auto``), or with numpy.
        Both give the same numbers for the same seed.

    Returns
    -------
    pandas.DataFrame
        One row per band pair: ``distance_band``, ``time_band`` (labels), ``distance_from``,
        ``distance_to`` (metres), ``days_from``, ``days_to`` (whole days, inclusive),
        ``observed`` (pairs), ``expected`` (mean over permutations), ``knox_ratio``
        (observed / expected), ``p_value`` = (1 + #{permuted >= observed}) /
        (permutations + 1) (one-sided, more near repeats than chance). ``attrs`` records
        ``n`` (incidents used), ``left_out``, ``permutations`` and ``seed``.

    Notes
    -----
    Pairs within the largest spatial edge are found with a k-d tree, so cost and memory
    grow with the number of *close* pairs, not with :math:`n^2`; the ``beyond`` row uses
    the temporal totals over all :math:`n(n-1)/2` pairs, which permuting dates leaves
    unchanged. Permutations run one at a time (no pairs x permutations matrix).
    """
    if engine not in ("auto", "numba", "numpy"):
        raise ScribeError(f"engine must be 'auto', 'numba' or 'numpy', not {engine!r}")
    if engine == "numba" and _close_numba is None:
        raise ScribeError("engine='numba' needs numba: pip install numba")
    s_edges = _edges(spatial_bands, "spatial_bands", "metres")
    t_edges = _edges(temporal_bands, "temporal_bands", "days")
    if int(permutations) != permutations or permutations < 19:
        raise ScribeError(f"permutations must be a whole number >= 19, not {permutations!r}")
    xy, day, dropped = _dated(incidents)
    if dropped:
        warnings.warn(
            f"{dropped} incident(s) without a location or an exact date were left out of the "
            "Knox test",
            stacklevel=2,
        )
    if day.size < 3:
        raise ScribeError(
            f"the Knox test needs at least 3 dated, located incidents, not {day.size}"
        )
    pairs = cKDTree(xy).query_pairs(r=float(s_edges[-1]), output_type="ndarray")
    i, j = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
    del pairs
    d = np.hypot(xy[i, 0] - xy[j, 0], xy[i, 1] - xy[j, 1])
    sband = np.where(d == 0, 0, np.searchsorted(s_edges, d, side="left") + 1).astype(np.intp)
    del d
    n_s, n_t = s_edges.size + 1, t_edges.size + 1
    totals = _pair_totals(day, t_edges)
    span = int(day.max() - day.min())
    lut = np.searchsorted(t_edges, np.arange(span + 1), side="left").astype(np.int64)
    fn = _close_numba if (_close_numba is not None and engine != "numpy") else _close_numpy
    args = (i, j, sband, lut)
    obs = _table(fn, *args, day, n_s, n_t, totals)
    rng = np.random.default_rng(seed)
    total = np.zeros(obs.shape, dtype=np.float64)
    ge = np.zeros(obs.shape, dtype=np.int64)
    for _ in tqdm(
        range(int(permutations)), desc="permutations", disable=not progress, file=sys.stderr
    ):
        dp = rng.permutation(day)
        sim = _table(fn, *args, dp, n_s, n_t, totals)
        total += sim
        ge += sim >= obs
    expected = total / permutations
    s_lab = (
        ["same location"]
        + [
            f"{lo:g} < d <= {hi:g} m"
            for lo, hi in zip(np.r_[0, s_edges[:-1]], s_edges, strict=True)
        ]
        + [f"> {s_edges[-1]:g} m"]
    )
    t_lo = np.r_[0, t_edges[:-1] + 1]
    t_lab = [f"{lo:g} to {hi:g} days" for lo, hi in zip(t_lo, t_edges, strict=True)]
    t_lab.append(f"> {t_edges[-1]:g} days")
    rows = []
    for a in range(n_s + 1):
        for b in range(n_t):
            rows.append(
                {
                    "distance_band": s_lab[a],
                    "time_band": t_lab[b],
                    "distance_from": 0.0 if a <= 1 else s_edges[a - 2],
                    "distance_to": 0.0 if a == 0 else (s_edges[a - 1] if a < n_s else np.inf),
                    "days_from": float(t_lo[b]) if b < t_edges.size else t_edges[-1] + 1,
                    "days_to": float(t_edges[b]) if b < t_edges.size else np.inf,
                    "observed": int(obs[a, b]),
                    "expected": float(expected[a, b]),
                    "knox_ratio": obs[a, b] / expected[a, b] if expected[a, b] > 0 else np.nan,
                    "p_value": (1 + ge[a, b]) / (permutations + 1),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs.update(
        n=int(day.size), left_out=int(dropped), permutations=int(permutations), seed=seed
    )
    return out
