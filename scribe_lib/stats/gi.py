"""Getis-Ord Gi* hot spots on a grid: analytic z, permutation p, corrected p, bins.

Weights are binary with the cell itself included, neighbours by a distance band between
cell centres: the definition under which esda ``G_Local(star=True, transform="B")``, R spdep
``localG`` with ``include.self()`` and ArcGIS Pro's Hot Spot Analysis agree.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sst

from ._gi_core import gi_star_from_sums
from ._gi_perm import permutation_counts, pseudo_p
from ._weights import band_sums
from .grid import count_in_grid, grid_cell_size, make_grid

__all__ = ["gi_star", "hotspots", "adjust_p", "default_distance", "CORRECTIONS"]

#: multiple-testing corrections: Benjamini-Hochberg false discovery rate, Holm, none.
CORRECTIONS = ("fdr", "holm", "none")
_LEVELS = ((0.01, 3, "99%"), (0.05, 2, "95%"), (0.10, 1, "90%"))


def default_distance(grid) -> float:
    """Default band in metres: the 8 adjacent square cells (sqrt(2) x cell) or 6 adjacent hexagons."""
    shape, cell = grid_cell_size(grid)
    return math.sqrt(2.0) * cell if shape == "square" else cell


def adjust_p(p: np.ndarray, method: str = "fdr") -> np.ndarray:
    """Adjust p-values for multiple testing (as R ``p.adjust``; NaN left out and kept NaN).

    ``fdr``: Benjamini-Hochberg, :math:`\\tilde p_{(i)} = \\min_{j \\ge i} \\min(1, m p_{(j)} / j)`.
    ``holm``: :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)})`.
    ``none``: unchanged.
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, not {method!r}")
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if method == "none" or m == 0:
        out[ok] = q
        return out
    order = np.argsort(q, kind="stable")
    ranks = np.arange(1, m + 1)
    if method == "fdr":
        adj = np.minimum.accumulate((m / ranks * q[order])[::-1])[::-1]
    else:
        adj = np.maximum.accumulate((m - ranks + 1) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _bins(z: np.ndarray, p: np.ndarray) -> np.ndarray:
    level = np.zeros(len(z), dtype=np.int64)
    for alpha, lev, _ in reversed(_LEVELS):
        level[p < alpha] = lev
    return (np.sign(np.nan_to_num(z)) * level).astype(np.int64)


def _explain(y, local_sum, k, mean, bins, label: str) -> np.ndarray:
    """One plain-English line per cell, formatted once per distinct (value, around, k, bin)."""
    conf = {3: "99%", 2: "95%", 1: "90%"}
    cols = [y, local_sum - y, k, bins]
    key = np.zeros(len(y), dtype=np.int64)
    for col in cols:  # combine per-column codes into one key (mixed radix)
        c, u = pd.factorize(col)
        key = pd.factorize(key * len(u) + c)[0].astype(np.int64)
    codes = key
    first = np.unique(codes, return_index=True)[1]
    lines = []
    for v, a, kk, b in zip(*(col[first].tolist() for col in cols), strict=True):
        if label == "incidents":
            here = f"{v:.4g} incident{'' if v == 1 else 's'}"
        elif label == "harm":
            here = f"harm score {v:.4g}"
        else:
            here = f"{label} {v:.4g}"
        verdict = (
            "not a significant hot or cold spot"
            if b == 0
            else f"{'hot' if b > 0 else 'cold'} spot ({conf[abs(int(b))]} confidence)"
        )
        lines.append(
            f"{here} in this cell and {a:.4g} in the {int(kk) - 1} cells around it, "
            f"against an average of {mean:.1f} per cell: {verdict}"
        )
    return np.asarray(lines, dtype=object)[codes]


def gi_star(grid, value="incidents", distance=None, permutations=0, seed=None, correction="fdr"):
    """Getis-Ord Gi* of a value per cell, with corrected p-values and ArcGIS-style bins.

    Parameters
    ----------
    grid : GeoDataFrame
        Cells (from :func:`make_grid` / :func:`count_in_grid`) with columns ``x``, ``y`` and
        ``value``.
    value : str
        Column to test (``incidents``, ``harm`` or any numeric column).
    distance : float, optional
        Neighbour band in metres between cell centres (inclusive). Default
        :func:`default_distance`: the 8 adjacent square cells, or the 6 adjacent hexagons.
    permutations : int
        If > 0, also a conditional-permutation pseudo p (``p_perm``) from this many draws.
    seed : int, optional
        Seed of the permutations (same seed, same ``p_perm``).
    correction : {"fdr", "holm", "none"}
        Multiple-testing correction, applied once to ``p_perm`` when permutations are asked,
        else to ``p_value``.

    Returns
    -------
    GeoDataFrame
        A copy of ``grid`` with ``gi_z`` (analytic z), ``p_value`` (two-sided, normal),
        ``p_fdr`` (the corrected p, whatever the correction), ``gi_bin`` (-3..3: cold/hot at
        99/95/90 % after correction), ``correction`` and ``p_basis`` ("analytic" or
        "permutation", recorded in every row), ``explanation`` (plain English), and with
        permutations ``p_perm`` (two-sided pseudo p). Cells whose z is undefined (no variation
        in the values) have NaN p and bin 0. ``attrs["gi_star"]`` records value, distance,
        correction, permutations and the seed used (drawn at random when not given).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> g = make_grid(box(500_000, 200_000, 500_500, 200_100), cell=100)  # 5 cells in a row
    >>> g["incidents"] = [0, 2, 6, 1, 1]
    >>> hot = gi_star(g, distance=100, correction="none")
    >>> round(float(hot["gi_z"].iloc[2]), 4)  # 3 / sqrt(6.6): see tests/test_gi.py
    1.1677
    """
    if value not in grid.columns:
        raise ValueError(
            f"the grid has no column {value!r} to test; count_in_grid() adds 'incidents'"
        )
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, not {correction!r}")
    if int(permutations) < 0:
        raise ValueError(f"permutations must be 0 or more, not {permutations}")
    y = grid[value].to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(y).any():
        raise ValueError(f"column {value!r} has missing values; fill them (e.g. with 0) first")
    if distance is None:
        distance = default_distance(grid)
    if not distance > 0:
        raise ValueError(f"distance must be a positive number of metres, not {distance!r}")
    _, cell = grid_cell_size(grid)
    local_sum, k = band_sums(grid, distance, y)
    if len(k) and (k == 1).all():
        warnings.warn(
            f"no cell has a neighbour within {distance:g} m (cells are {cell:g} m): "
            "increase distance",
            stacklevel=2,
        )
    parts = gi_star_from_sums(y, local_sum, k)
    z = parts["z"]
    if np.isnan(z).all() and len(z):
        warnings.warn(f"Gi* is undefined: {value!r} does not vary between cells", stacklevel=2)
    out = grid.copy()
    out["gi_z"] = z
    out["p_value"] = 2.0 * sst.norm.sf(np.abs(z))
    basis = out["p_value"].to_numpy()
    if permutations:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        ge, le = permutation_counts(y, parts["local_sum"], parts["k"], int(permutations), seed)
        p_perm = pseudo_p(ge, le, int(permutations))
        p_perm[np.isnan(z)] = np.nan
        out["p_perm"] = p_perm
        basis = p_perm
    p_adj = adjust_p(basis, correction)
    if permutations and correction != "none" and not (np.nan_to_num(p_adj, nan=1.0) < 0.10).any():
        floor = 2.0 / (int(permutations) + 1)
        if np.nanmin(basis, initial=1.0) <= floor:
            warnings.warn(
                f"no cell is significant after the {correction} correction over "
                f"{int((~np.isnan(basis)).sum()):,} cells: with {permutations} permutations "
                f"p_perm cannot go below {floor:.2g}; use more permutations (e.g. 9999) or "
                "the analytic p (permutations=0)",
                stacklevel=2,
            )
    out["p_fdr"] = p_adj
    bins = _bins(z, np.nan_to_num(p_adj, nan=1.0))
    out["gi_bin"] = bins
    out["correction"] = correction
    out["p_basis"] = "permutation" if permutations else "analytic"
    out["explanation"] = _explain(y, parts["local_sum"], parts["k"], parts["mean"], bins, value)
    out.attrs["gi_star"] = {"value": value, "distance": float(distance), "correction": correction,
                            "permutations": int(permutations), "seed": seed}  # fmt: skip
    return out


def hotspots(incidents, cell=None, distance=None, area=None, harm=None, shape="square", **gi_kw):
    """Grid, count and Gi* in one call.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in EPSG:27700 (as :func:`scribe_lib.load` returns); unlocated rows ignored.
    cell : float, optional
        Cell size in metres (default :func:`default_cell_size`).
    distance : float, optional
        Neighbour band in metres (default: the adjacent cells).
    area : geometry or GeoDataFrame, optional
        Study area (e.g. a locality); default the incidents' extent.
    harm : bool, dict or path, optional
        Test harm-weighted sums (column ``harm``) instead of counts.
    shape : {"square", "hex"}
    **gi_kw
        ``permutations``, ``seed``, ``correction``: see :func:`gi_star`.

    Returns
    -------
    GeoDataFrame
        As :func:`gi_star`, with ``incidents`` (and ``harm``) per cell.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grid = make_grid(incidents, cell=cell, shape=shape, area=area)
        counted = count_in_grid(incidents, grid, harm=harm)
        value = "harm" if harm is not None and harm is not False else "incidents"
        out = gi_star(counted, value=value, distance=distance, **gi_kw)
    for w in caught:  # re-issue so that they point at the caller's line
        warnings.warn(w.message, w.category, stacklevel=2)
    return out
