"""Emerging hot spot analysis: Gi* on a space-time cube, Mann-Kendall trends, Esri's patterns.

Follows ArcGIS Pro's *Emerging Hot Spot Analysis* ("How Emerging Hot Spot Analysis
works", Esri): incidents are counted in a cube of grid cell x period; the Getis-Ord
Gi* z of every bin is computed over its space-time neighbours (cells within the
neighbourhood distance, in the same period and the ``time_step`` previous ones) with
binary weights and the bin itself included, against the mean and standard deviation
of the whole cube; each location's series of Gi* results is then given a pattern.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ScribeError
from ._cube import (
    adjust_p,
    assign_cells,
    cell_side,
    cells_for,
    cube_weights,
    located,
    spatial_weights,
)
from ._gi_core import gi_star_z
from ._mannkendall import mann_kendall
from ._periods import assign_periods, coverage_gaps

__all__ = ["emerging_hotspots", "space_time_gi", "classify_patterns", "PATTERNS", "SpaceTimeCube"]


class SpaceTimeCube(NamedTuple):
    """The cube of :func:`space_time_gi`; arrays are (cells x periods), oldest period first."""

    cells: gpd.GeoDataFrame  # cell_id, x, y, geometry of the analysed cells
    periods: pd.DatetimeIndex  # start of each period
    counts: np.ndarray  # incidents per bin
    values: np.ndarray  # analysed value per bin (counts, or harm sums)
    z: np.ndarray  # Gi* z
    p: np.ndarray  # two-sided p
    p_adj: np.ndarray  # p after the multiple-testing correction
    end: pd.Timestamp  # end of the last period (exclusive)


#: every pattern, hot then cold, in order of precedence, then "no pattern".
PATTERNS = tuple(
    f"{kind} {side} spot"
    for side in ("hot", "cold")
    for kind in (
        "new",
        "consecutive",
        "intensifying",
        "persistent",
        "diminishing",
        "sporadic",
        "oscillating",
        "historical",
    )
) + ("no pattern",)


def classify_patterns(
    hot: np.ndarray, cold: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, alpha: float = 0.05
) -> np.ndarray:
    """Esri's emerging hot spot pattern of each location.

    Definitions (ArcGIS Pro, "How Emerging Hot Spot Analysis works"); "hot" means a
    statistically significant hot spot bin, *T* the number of periods, the *trend*
    the Mann-Kendall test on the location's Gi* z series (significant when
    ``trend_p < alpha``). Cold patterns mirror the hot ones with hot and cold swapped
    and the trend sign reversed (an intensifying cold spot grows colder).

    * **new**: hot in the final period and never hot before.
    * **consecutive**: a single uninterrupted run of at least two hot periods ending in
      the final period, never hot before that run, and hot in fewer than 90 % of periods.
    * **intensifying**: hot in at least 90 % of periods, including the final one, and a
      significant upward trend.
    * **persistent**: hot in at least 90 % of periods, including the final one, and no
      significant trend.
    * **diminishing**: hot in at least 90 % of periods, including the final one, and a
      significant downward trend.
    * **sporadic**: hot in the final period, on-again off-again before, hot in fewer than
      90 % of periods and never cold.
    * **oscillating**: hot in the final period, cold in at least one earlier period, hot
      in fewer than 90 % of periods.
    * **historical**: the final period is neither hot nor cold, but at least 90 % of the
      periods were hot.
    * **no pattern**: none of the above, hot or cold.

    Precedence when two definitions fit: the order above (so a cold history with a
    single final hot period is *new*, as in Esri's and sfdep's order), the final
    period's sign deciding between hot and cold patterns.

    Parameters
    ----------
    hot, cold : numpy.ndarray of bool, shape (m, T)
        Significant hot / cold bins of ``m`` locations over ``T`` periods, oldest first.
    trend_z, trend_p : numpy.ndarray, shape (m,)
        Mann-Kendall Z and p of each location's Gi* z series.
    alpha : float
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray of str, shape (m,)
    """
    hot = np.atleast_2d(np.asarray(hot, dtype=bool))
    cold = np.atleast_2d(np.asarray(cold, dtype=bool))
    if hot.shape != cold.shape:
        raise ScribeError(
            f"hot and cold must have the same shape, not {hot.shape} and {cold.shape}"
        )
    if np.any(hot & cold):
        raise ScribeError("a bin cannot be both a hot and a cold spot")
    trend_z = np.asarray(trend_z, dtype=np.float64).reshape(-1)
    sig = np.asarray(trend_p, dtype=np.float64).reshape(-1) < alpha
    out = np.full(hot.shape[0], "no pattern", dtype=object)
    done = np.zeros(hot.shape[0], dtype=bool)
    for side, a, b, up in (("hot", hot, cold, 1.0), ("cold", cold, hot, -1.0)):
        T = a.shape[1]
        n = a.sum(axis=1)
        frac = n / T
        final = a[:, -1]
        run = np.cumprod(a[:, ::-1], axis=1).sum(axis=1)  # trailing run length
        other = b[:, :-1].any(axis=1)
        rising, falling = sig & (trend_z * up > 0), sig & (trend_z * up < 0)
        rules = [
            ("new", final & (n == 1)),
            ("consecutive", final & (run >= 2) & (n == run) & (frac < 0.9)),
            ("intensifying", final & (frac >= 0.9) & rising),
            ("persistent", final & (frac >= 0.9) & ~sig),
            ("diminishing", final & (frac >= 0.9) & falling),
            ("sporadic", final & (frac < 0.9) & ~other),
            ("oscillating", final & (frac < 0.9) & other),
        ]
        for kind, mask in rules:
            take = mask & ~done
            out[take] = f"{kind} {side} spot"
            done |= take
    for side, a in (("hot", hot), ("cold", cold)):
        take = ~done & ~hot[:, -1] & ~cold[:, -1] & (a.sum(axis=1) / a.shape[1] >= 0.9)
        out[take] = f"historical {side} spot"
        done |= take
    return out


def space_time_gi(
    incidents: gpd.GeoDataFrame,
    cell: float | None = None,
    period: str = "month",
    distance: float | None = None,
    time_step: int = 1,
    *,
    area=None,
    grid: gpd.GeoDataFrame | None = None,
    shape: str = "square",
    start=None,
    end=None,
    correction: str = "fdr",
    alpha: float = 0.05,
    harm=None,
) -> SpaceTimeCube:
    """Gi* z of every bin of the space-time cube (cells with at least one incident).

    Returns a :class:`SpaceTimeCube`: the analysed cells (GeoDataFrame with ``cell_id, x,
    y, geometry``), the period start dates, and (cells x periods) arrays of incident
    counts, the analysed values (counts, or harm sums when ``harm`` is given), Gi* z,
    two-sided p and adjusted p. Parameters as :func:`emerging_hotspots`.
    """
    if not isinstance(time_step, int | np.integer) or time_step < 0:
        raise ScribeError(f"time_step must be a whole number of periods >= 0, not {time_step!r}")
    if not 0 < alpha < 1:
        raise ScribeError(f"alpha must be between 0 and 1, not {alpha!r}")
    pts = located(incidents)
    if pts.empty:
        raise ScribeError("no located incident to analyse: check the filters or the store")
    t_idx, edges = assign_periods(pts, period, start=start, end=end)
    n_periods = len(edges) - 1
    if n_periods < 2:
        raise ScribeError(f"emerging hot spots need at least 2 periods, the data span {n_periods}")
    if grid is None:
        grid = cells_for(pts, cell, area, shape=shape)
    c_idx = assign_cells(pts, grid)
    ok = (t_idx >= 0) & (c_idx >= 0)
    used = np.unique(c_idx[ok])  # Esri: only locations with at least one incident
    local = np.searchsorted(used, c_idx[ok])
    counts = np.zeros((used.size, n_periods))
    np.add.at(counts, (local, t_idx[ok]), 1.0)
    values = counts
    if harm is not None and harm is not False:
        from .harm import harm_values

        values = np.zeros_like(counts)
        w = harm_values(pts, harm).to_numpy(float)[ok]
        np.add.at(values, (local, t_idx[ok]), w)
    cells = grid.iloc[used].reset_index(drop=True)
    if distance is None:
        distance = 1.5 * cell_side(grid)  # the 8 adjacent squares / 6 adjacent hexagons
    if not (np.isfinite(distance) and distance > 0):
        raise ScribeError(f"distance must be a positive number of metres, not {distance!r}")
    Ws = spatial_weights(
        cells.geometry.centroid.x.to_numpy(), cells.geometry.centroid.y.to_numpy(), distance
    )
    W = cube_weights(Ws, n_periods, int(time_step))
    y = values.T.ravel()  # period-major, as cube_weights expects
    z = gi_star_z(y, W).reshape(n_periods, used.size).T
    from scipy.stats import norm

    p = 2.0 * norm.sf(np.abs(z))
    p_adj = adjust_p(p.ravel(), correction).reshape(p.shape)
    return SpaceTimeCube(cells, edges[:-1], counts, values, z, p, p_adj, edges[-1])


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    cell: float | None = None,
    period: str = "month",
    distance: float | None = None,
    time_step: int = 1,
    *,
    area=None,
    grid: gpd.GeoDataFrame | None = None,
    shape: str = "square",
    start=None,
    end=None,
    alpha: float = 0.05,
    correction: str = "fdr",
    harm=None,
    coverage: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Emerging hot spot pattern of every grid cell with incidents (ArcGIS Pro's method).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Harmonised incidents in EPSG:27700; unlocated ones are ignored.
    cell : float, optional
        Cell size in metres (default: the grid module's documented rule).
    period : str
        ``"month"``, ``"week"``, ``"day"``, ``"quarter"`` or a pandas frequency such as
        ``"14D"``. Incidents known only to the month are left out of non-monthly periods.
    distance : float, optional
        Spatial neighbourhood in metres between cell centres (default 1.5 x the cell
        side: the 8 adjacent squares or 6 adjacent hexagons).
    time_step : int
        Previous periods included in each bin's neighbourhood (Esri's neighbourhood time
        step; default 1).
    area, grid : optional
        Study area polygon, or a ready grid (``cell_id, x, y, geometry``).
    shape : {"square", "hex"}
        Cell shape when the grid is built here.
    start, end : date-like, optional
        First and last day of the cube (default: the incidents' span).
    alpha : float
        Significance level for hot/cold bins (after ``correction``) and for the trend.
    correction : {"fdr", "holm", "none"}
        Multiple-testing correction over all bins of the cube (Benjamini-Hochberg default).
    harm : bool, dict, str or path, optional
        Analyse harm (the sum of the incidents' category weights, see
        :func:`scribe_lib.stats.load_harm_weights`) instead of counts: Gi* and both
        Mann-Kendall trends then run on the harm series, and ``harm`` is added.
    coverage : pandas.DataFrame, optional
        :func:`scribe_lib.api.coverage`. A month a selected partner never sent would be
        counted as 0 in the cube; with ``coverage`` such months are named in a warning.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell with at least one incident (Esri analyses only those locations):
        ``cell_id, x, y`` (cell centre, metres EPSG:27700), ``geometry``, ``incidents``
        (total), ``periods``, ``n_hot``, ``n_cold`` (significant bins), ``final_z`` (Gi* z
        of the last period), ``pattern`` (see :func:`classify_patterns`), ``mk_z``,
        ``mk_p`` (Mann-Kendall on the count series), ``gi_mk_z``, ``gi_mk_p`` (on the Gi*
        z series, which decides intensifying/diminishing). ``attrs["periods"]`` holds the
        period start dates.
    """
    cube = space_time_gi(
        incidents, cell, period, distance, time_step, area=area, grid=grid, shape=shape,
        start=start, end=end, correction=correction, alpha=alpha, harm=harm,
    )  # fmt: skip
    cells, starts, counts, z, p_adj = cube.cells, cube.periods, cube.counts, cube.z, cube.p_adj
    if coverage is not None and "partner" in incidents:
        last = cube.end - pd.Timedelta(days=1)
        gaps = coverage_gaps(coverage, pd.unique(incidents["partner"].dropna()), starts[0], last)
        if gaps:
            said = "; ".join(f"{p}: {', '.join(m)}" for p, m in gaps.items())
            warnings.warn(
                f"months with no data from a partner are counted as 0 in the cube ({said}); "
                "patterns around them are unreliable: leave that partner out or shorten the span",
                stacklevel=2,
            )
    zf = np.nan_to_num(z, nan=0.0)
    sig = np.nan_to_num(p_adj, nan=1.0) < alpha
    hot, cold = sig & (zf > 0), sig & (zf < 0)
    _, mk_z, mk_p = mann_kendall(cube.values)
    _, g_z, g_p = mann_kendall(zf)
    out = cells.copy()
    out["incidents"] = counts.sum(axis=1).astype(np.int64)
    if cube.values is not counts:
        out["harm"] = cube.values.sum(axis=1)
    out["periods"] = counts.shape[1]
    out["n_hot"] = hot.sum(axis=1)
    out["n_cold"] = cold.sum(axis=1)
    out["final_z"] = z[:, -1]
    out["pattern"] = pd.Series(classify_patterns(hot, cold, g_z, g_p, alpha), dtype="string")
    out["mk_z"], out["mk_p"] = mk_z, mk_p
    out["gi_mk_z"], out["gi_mk_p"] = g_z, g_p
    out.attrs["periods"] = [str(s.date()) for s in starts]
    return out
