"""Kernel density of incidents on a grid: the quartic kernel of ArcGIS and CrimeStat.

For a bandwidth (search radius) :math:`h` metres and incidents :math:`i` with weights
:math:`w_i` (1, or a harm weight) at distance :math:`d_i` from a cell centre:

.. math::

    \\hat f = \\sum_{d_i < h} w_i \\, \\frac{3}{\\pi h^2} \\left(1 - \\frac{d_i^2}{h^2}\\right)^2

in incidents per m², reported per km² (x 10⁶). The kernel integrates to 1 over its disc, so
density x cell area summed over a fine grid gives back the number of incidents. No edge
correction (as ArcGIS): incidents near the study area's edge spread part of their mass out of it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.spatial import cKDTree

from .grid import grid_cell_size, located_points, make_grid

__all__ = ["kde", "default_bandwidth", "quartic"]

#: kernel evaluations held in memory at once (points x cells within the bandwidth).
_CHUNK_PAIRS = 4_000_000


def quartic(d: np.ndarray, bandwidth: float) -> np.ndarray:
    """Quartic (biweight) kernel in 1/m²: ``3 / (pi h^2) (1 - d^2/h^2)^2`` for d < h, else 0."""
    u = np.asarray(d, dtype=float) / bandwidth
    return np.where(u < 1.0, 3.0 / (math.pi * bandwidth**2) * (1.0 - u * u) ** 2, 0.0)


def default_bandwidth(xy: np.ndarray) -> float:
    """ArcGIS Pro's default search radius, in metres.

    ``0.9 x min(SD, sqrt(1 / ln 2) x Dm) x n^-0.2``, where SD is the standard distance of the
    points, Dm the median distance to their mean centre and n their number (a spatial form of
    Silverman's rule of thumb; Esri, "How Kernel Density works").
    """
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    if n < 2:
        raise ValueError("at least 2 located incidents are needed for a default bandwidth")
    centre = xy.mean(axis=0)
    d = np.hypot(*(xy - centre).T)
    sd = math.sqrt(np.mean(d * d))
    dm = float(np.median(d))
    h = 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n**-0.2
    if not h > 0:
        raise ValueError("the incidents are all at one place: pass a bandwidth in metres")
    return h


def _density(points, weights, centres, h) -> np.ndarray:
    out = np.zeros(len(centres))
    if len(points) == 0:
        return out
    tree = cKDTree(centres)
    cell_area = max(
        float(np.ptp(centres[:, 0]) * np.ptp(centres[:, 1])) / max(len(centres), 1), 1.0
    )
    per_point = max(1.0, math.pi * h * h / cell_area)
    step = max(1, int(_CHUNK_PAIRS / per_point))
    for s in range(0, len(points), step):
        chunk = cKDTree(points[s : s + step])
        pairs = chunk.sparse_distance_matrix(tree, h, output_type="ndarray")
        k = quartic(pairs["v"], h) * weights[s + pairs["i"]]
        out += np.bincount(pairs["j"], weights=k, minlength=len(centres))
    return out


def kde(incidents, cell=None, bandwidth=None, area=None, harm=None, *, shape="square", grid=None):
    """Quartic kernel density of incidents per km² at each cell centre.

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in EPSG:27700 (rows without a location are ignored).
    cell : float, optional
        Cell size in metres (default :func:`default_cell_size`).
    bandwidth : float, optional
        Search radius in metres (default :func:`default_bandwidth`, ArcGIS Pro's rule).
        A warning is given when it is smaller than the cell.
    area : geometry or GeoDataFrame, optional
        Study area; the grid covers it (default the incidents' extent). All located incidents
        contribute, also those just outside the area.
    harm : bool, dict or path, optional
        Weight each incident by its category's harm weight (density of harm per km²).
    shape : {"square", "hex"}
    grid : GeoDataFrame, optional
        Use these cells instead of building a grid.

    Returns
    -------
    GeoDataFrame
        The grid (``cell_id``, ``x``, ``y``, geometry, EPSG:27700) with ``density``
        (incidents, or harm, per km²) and ``bandwidth`` (metres, as used).

    Examples
    --------
    One incident, bandwidth 1 km: the density at its own cell centre is 3 / pi per km².

    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> one = gpd.GeoDataFrame(geometry=[Point(500_050, 200_050)], crs=27700)
    >>> round(float(kde(one, cell=100, bandwidth=1000)["density"].max()), 4)
    0.9549
    """
    xy, mask = located_points(incidents)
    if grid is None:
        grid = make_grid(incidents, cell=cell, shape=shape, area=area)
    _, cell_size = grid_cell_size(grid)
    if bandwidth is None:
        bandwidth = default_bandwidth(xy)
    bandwidth = float(bandwidth)
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be a positive number of metres, not {bandwidth!r}")
    if bandwidth < cell_size:
        warnings.warn(
            f"bandwidth {bandwidth:g} m is smaller than the {cell_size:g} m cells: the density "
            "will be spotty and miss incidents between cell centres; use a bandwidth of at "
            "least the cell size",
            stacklevel=2,
        )
    if harm is not None and harm is not False:
        from .harm import harm_values

        w = harm_values(incidents, harm).to_numpy(float)[mask]
    else:
        w = np.ones(len(xy))
    pts, inverse = np.unique(xy, axis=0, return_inverse=True)  # police.uk snaps to street points
    wsum = np.bincount(inverse.ravel(), weights=w, minlength=len(pts))
    centres = np.column_stack([grid["x"].to_numpy(float), grid["y"].to_numpy(float)])
    out = grid.copy()
    out["density"] = _density(pts, wsum, centres, bandwidth) * 1e6
    out["bandwidth"] = bandwidth
    return out
