"""Distance-band neighbour matrices on grids (binary, each cell its own neighbour).

On a square grid the band is a fixed set of lattice offsets, so the matrix is built by
index arithmetic (no distance computations, no Python loop over cells). Any other set of
cells (hexagons, an irregular selection) goes through a k-d tree.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .grid import grid_cell_size

__all__ = ["distance_band_weights", "BAND_TOLERANCE"]

#: metres added to the band so centres exactly at the distance are neighbours despite rounding.
BAND_TOLERANCE = 1e-6


def _lattice(grid, cell: float):
    gx, gy = grid["x"].to_numpy(float), grid["y"].to_numpy(float)
    fc = (gx - gx.min()) / cell
    fr = (gy - gy.min()) / cell
    gc, gr = np.rint(fc).astype(np.int64), np.rint(fr).astype(np.int64)
    if np.abs(fc - gc).max() > 1e-6 or np.abs(fr - gr).max() > 1e-6:
        return None
    return gc, gr


def _square_band(gc, gr, cell: float, distance: float) -> sp.csr_matrix:
    n = len(gc)
    reach = int(np.floor((distance + BAND_TOLERANCE) / cell))
    d = np.arange(-reach, reach + 1)
    dr, dc = np.meshgrid(d, d, indexing="ij")
    near = (dr**2 + dc**2) * cell * cell <= (distance + BAND_TOLERANCE) ** 2
    dr, dc = dr[near], dc[near]
    ncol, nrow = gc.max() + 1, gr.max() + 1
    lookup = np.full(nrow * ncol, -1, dtype=np.int64)
    lookup[gr * ncol + gc] = np.arange(n)
    cols = np.full((n, len(dr)), -1, dtype=np.int64)
    for j, (a, b) in enumerate(zip(dr, dc, strict=True)):  # loop over offsets, not cells
        r, c = gr + a, gc + b
        ok = (r >= 0) & (r < nrow) & (c >= 0) & (c < ncol)
        cols[ok, j] = lookup[r[ok] * ncol + c[ok]]
    have = cols >= 0
    indptr = np.concatenate([[0], np.cumsum(have.sum(axis=1))])
    W = sp.csr_matrix((np.ones(int(indptr[-1])), cols[have], indptr), shape=(n, n))
    W.sort_indices()
    return W


def _tree_band(grid, distance: float) -> sp.csr_matrix:
    xy = np.column_stack([grid["x"].to_numpy(float), grid["y"].to_numpy(float)])
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(distance + BAND_TOLERANCE, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    W = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    W.sort_indices()
    return W


def distance_band_weights(grid, distance: float) -> sp.csr_matrix:
    """Binary neighbour matrix of the cells whose centres lie within ``distance`` metres.

    Parameters
    ----------
    grid : GeoDataFrame
        Cells with centre columns ``x``, ``y`` (metres, EPSG:27700), as :func:`make_grid` returns.
    distance : float
        Band in metres (centre to centre, inclusive, plus :data:`BAND_TOLERANCE`).

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n, n)
        1 where cell *j* is within the band of cell *i*, the diagonal included (Gi*).
    """
    shape, cell = grid_cell_size(grid)
    if shape == "square":
        lat = _lattice(grid, cell)
        if lat is not None:
            return _square_band(*lat, cell, float(distance))
    return _tree_band(grid, float(distance))
