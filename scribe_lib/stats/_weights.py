"""Distance-band neighbour matrices on grids (binary, each cell its own neighbour).

On a square grid the band is a fixed set of lattice offsets: the band sums Gi* needs are a
correlation of the grid (as a raster) with that disc (:func:`band_sums`; no matrix at all),
and the matrix, when wanted, is built by index arithmetic. Any other set of cells (hexagons,
an irregular selection) goes through a k-d tree and a sparse product. Never a Python loop
over cells.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.spatial import cKDTree

from .grid import grid_cell_size

__all__ = ["distance_band_weights", "band_sums", "BAND_TOLERANCE", "MAX_NEIGHBOUR_PAIRS"]

#: refuse bands that would give more neighbour pairs than this (memory: ~16 bytes a pair).
MAX_NEIGHBOUR_PAIRS = 100_000_000
#: refuse square-grid bands needing more additions than this (a few seconds of work).
MAX_BAND_WORK = 2_000_000_000

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


def _disc(nrow: int, ncol: int, cell: float, distance: float):
    reach = int(np.floor((distance + BAND_TOLERANCE) / cell))
    rr, rc = min(reach, nrow - 1), min(reach, ncol - 1)  # no offset beyond the grid
    dr, dc = np.meshgrid(np.arange(-rr, rr + 1), np.arange(-rc, rc + 1), indexing="ij")
    return dr, dc, (dr**2 + dc**2) * cell * cell <= (distance + BAND_TOLERANCE) ** 2


def _square_band(gc, gr, cell: float, distance: float) -> sp.csr_matrix:
    n = len(gc)
    ncol, nrow = gc.max() + 1, gr.max() + 1
    dr, dc, near = _disc(nrow, ncol, cell, distance)
    dr, dc = dr[near], dc[near]
    _check_size(n, len(dr), distance)
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


def _check_size(n: int, per_cell: int, distance: float, limit: int = MAX_NEIGHBOUR_PAIRS):
    if n * per_cell > limit:
        raise ValueError(
            f"a {distance:g} m band gives each of the {n:,} cells up to {per_cell:,} "
            f"neighbours ({n * per_cell:,} pairs, more than {limit:,}); "
            "use a smaller distance or larger cells"
        )


def _tree_band(grid, distance: float) -> sp.csr_matrix:
    xy = np.column_stack([grid["x"].to_numpy(float), grid["y"].to_numpy(float)])
    n = len(xy)
    if n:
        span = np.ptp(xy, axis=0).max() + 1.0
        density = n / max(float(np.prod(np.ptp(xy, axis=0) + 1.0)), 1.0)
        _check_size(n, int(min(n, np.pi * min(distance, span) ** 2 * density) + 1), distance)
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


def band_sums(grid, distance: float, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``y`` and number of cells within ``distance`` metres of each cell (itself included).

    On a square grid: a correlation of the raster of values (and of the cells present) with
    the disc of lattice offsets in the band (``scipy.ndimage.correlate``), so no neighbour
    matrix is held; work is cells x cells in the band. Otherwise ``W @ y`` with
    :func:`distance_band_weights`.

    Returns
    -------
    (ndarray, ndarray)
        ``local_sum`` and ``k`` (float), aligned with the grid's rows.
    """
    shape, cell = grid_cell_size(grid)
    y = np.asarray(y, dtype=np.float64)
    lat = _lattice(grid, cell) if shape == "square" else None
    if lat is None:
        W = distance_band_weights(grid, distance)
        return W @ y, np.diff(W.indptr).astype(np.float64)
    gc, gr = lat
    ncol, nrow = int(gc.max()) + 1, int(gr.max()) + 1
    _, _, near = _disc(nrow, ncol, cell, float(distance))
    _check_size(len(gc), int(near.sum()), distance, limit=MAX_BAND_WORK)
    values = np.zeros((nrow, ncol))
    present = np.zeros((nrow, ncol))
    values[gr, gc] = y
    present[gr, gc] = 1.0
    kernel = near.astype(np.float64)
    local = ndimage.correlate(values, kernel, mode="constant", cval=0.0)[gr, gc]
    k = ndimage.correlate(present, kernel, mode="constant", cval=0.0)[gr, gc]
    return local, np.rint(k)
