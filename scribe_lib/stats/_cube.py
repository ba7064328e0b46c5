"""Space-time cube helpers (private): cells of incidents, the cube, its weights.

Uses :func:`scribe_lib.stats.grid.make_grid` for the cells when it exists, so
the emerging hot spot cells are the same cells as the hot spot map.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree
from shapely import box

from ..errors import ScribeError
from ..schema import CRS

__all__ = ["located", "cells_for", "assign_cells", "spatial_weights", "cube_weights", "adjust_p"]


def located(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The incidents with a point location (a copy; EPSG:27700 checked)."""
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise ScribeError("incidents must be a GeoDataFrame (from scribe_lib.load())")
    if incidents.crs is not None and not incidents.crs.equals(CRS):
        raise ScribeError(
            f"incidents are in {incidents.crs.to_string()}, not {CRS}: "
            "use incidents.to_crs('EPSG:27700') first"
        )
    geom = incidents.geometry
    ok = geom.notna().to_numpy() & ~geom.is_empty.to_numpy()
    return incidents.loc[ok].copy()


def _fallback_grid(points: gpd.GeoDataFrame, cell: float | None, area) -> gpd.GeoDataFrame:
    if area is not None:
        minx, miny, maxx, maxy = area.bounds
    else:
        minx, miny, maxx, maxy = points.total_bounds
    if cell is None:  # sfhotspot's rule: 50 cells along the shorter side, down to 100 m
        cell = max(100.0, math.floor(min(maxx - minx, maxy - miny) / 50 / 100) * 100)
    x0, y0 = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
    nx = math.floor((maxx - x0) / cell) + 1
    ny = math.floor((maxy - y0) / cell) + 1
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    xs, ys = x0 + ix.ravel() * cell, y0 + iy.ravel() * cell
    return gpd.GeoDataFrame(
        {"cell_id": np.arange(xs.size), "x": xs + cell / 2, "y": ys + cell / 2},
        geometry=box(xs, ys, xs + cell, ys + cell),
        crs=CRS,
    )


def cells_for(points: gpd.GeoDataFrame, cell: float | None, area=None, shape="square"):
    """A grid over ``area`` (or the points' extent): H3's ``make_grid`` when present."""
    if cell is not None and not (np.isfinite(cell) and cell > 0):
        raise ScribeError(f"cell must be a positive size in metres, not {cell!r}")
    try:
        from .grid import make_grid
    except ImportError:
        if shape != "square":
            raise ScribeError("hexagonal cells need scribe_lib.stats.grid") from None
        return _fallback_grid(points, cell, area)
    if area is not None:
        return make_grid(points, cell=cell, shape=shape, area=area)
    return make_grid(points, cell=cell, shape=shape)


def assign_cells(points: gpd.GeoDataFrame, grid: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in ``grid`` of the cell holding each point (-1 if outside every cell).

    A point on a shared edge goes to the first cell found (the lowest row), once.
    """
    idx = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0:
        return idx
    pt, cl = grid.sindex.query(points.geometry.values, predicate="intersects")
    order = np.lexsort((cl, pt))
    pt, cl = pt[order], cl[order]
    first = np.ones(pt.size, dtype=bool)
    first[1:] = pt[1:] != pt[:-1]
    idx[pt[first]] = cl[first]
    return idx


def spatial_weights(x: np.ndarray, y: np.ndarray, distance: float) -> sp.csr_matrix:
    """Binary weights, 1 when centres are within ``distance`` metres (self included)."""
    xy = np.column_stack([x, y])
    tree = cKDTree(xy)
    pairs = tree.query_pairs(r=distance * (1 + 1e-9), output_type="ndarray")
    n = len(xy)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))


def cube_weights(Ws: sp.csr_matrix, n_periods: int, time_step: int) -> sp.csr_matrix:
    """Space-time weights: bin (c, t) neighbours (c', t') when c' is a spatial neighbour
    of c and ``0 <= t - t' <= time_step`` (the current and ``time_step`` previous periods,
    as ArcGIS Pro's Emerging Hot Spot Analysis). Bins are ordered period-major
    (index ``t * n_cells + c``)."""
    offsets = list(range(0, -time_step - 1, -1))
    Bt = sp.diags([np.ones(n_periods)] * len(offsets), offsets, shape=(n_periods, n_periods))
    W = sp.kron(Bt.tocsr(), Ws, format="csr")
    W.data[:] = 1.0
    return W


def adjust_p(p: np.ndarray, correction: str) -> np.ndarray:
    """Benjamini-Hochberg (``"fdr"``), Holm (``"holm"``) or no (``"none"``) adjustment."""
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if correction == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    q = p[ok]
    if correction == "fdr":
        from scipy.stats import false_discovery_control

        out[ok] = false_discovery_control(q, method="bh")
    elif correction == "holm":
        m = q.size
        order = np.argsort(q)
        adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
        res = np.empty(m)
        res[order] = np.minimum(adj, 1.0)
        out[ok] = res
    else:
        raise ScribeError(f"correction must be 'fdr', 'holm' or 'none', not {correction!r}")
    return out


def cell_side(grid: gpd.GeoDataFrame) -> float:
    """Square-root of the median cell area (the side of a square cell), metres."""
    return float(np.sqrt(np.median(grid.geometry.area.to_numpy())))


def empty_like_cells(grid: gpd.GeoDataFrame, columns: dict[str, str]) -> gpd.GeoDataFrame:
    out = grid.iloc[:0].copy()
    for c, t in columns.items():
        out[c] = pd.Series(dtype=t)
    return out
