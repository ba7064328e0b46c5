"""Square and hexagonal grids over a study area, and incident counts per cell.

All coordinates are British National Grid (EPSG:27700), in metres. Square cells are
aligned to the national grid (their corners are multiples of the cell size), so a 250 m
grid is the same whatever subset of incidents it is built from.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from ..schema import CRS

__all__ = [
    "make_grid",
    "count_in_grid",
    "default_cell_size",
    "located_points",
    "grid_cell_size",
    "cell_index",
    "grid_raster",
]

#: grids with more cells than this are refused (a 100 m grid over all of England has ~13 million).
MAX_CELLS = 2_000_000
_SQRT3 = math.sqrt(3.0)


def default_cell_size(bounds: tuple[float, float, float, float]) -> float:
    """Default cell size in metres: the shorter side of the extent / 50, rounded down to 100 m.

    This is the rule of the R package sfhotspot (``hotspot_grid``), with a floor of 100 m.

    Parameters
    ----------
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` in metres (EPSG:27700).

    Examples
    --------
    >>> default_cell_size((500_000, 200_000, 540_000, 226_000))  # 26 km / 50 = 520 m
    500.0
    """
    short = min(bounds[2] - bounds[0], bounds[3] - bounds[1])
    return float(max(100.0, math.floor(short / 50.0 / 100.0) * 100.0))


def located_points(incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (n, 2) in metres of the located incidents, and a boolean mask of them.

    Rows with no geometry (no location) or an empty geometry are left out.
    """
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise TypeError("incidents must be a GeoDataFrame, as scribe_lib.load() returns")
    if len(incidents) and incidents.crs is not None and not incidents.crs.equals(CRS):
        raise ValueError(
            f"incidents are in {incidents.crs.to_string()}; SCRIBE statistics need {CRS} "
            "(metres): use incidents.to_crs('EPSG:27700')"
        )
    geom = incidents.geometry.values
    mask = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    xy = shapely.get_coordinates(geom[mask])
    if len(xy) != int(mask.sum()):
        raise ValueError("incident geometries must be points")
    return xy, np.asarray(mask)


def _area_geometry(area) -> shapely.Geometry | None:
    if area is None:
        return None
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is not None and not area.crs.equals(CRS):
            area = area.to_crs(CRS)
        return shapely.union_all(area.geometry.values)
    if isinstance(area, shapely.Geometry):
        return area
    raise TypeError("area must be a shapely geometry, GeoSeries or GeoDataFrame in EPSG:27700")


def _is_polygons(obj) -> bool:
    if not isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries) or len(obj) == 0:
        return False
    kinds = set(obj.geometry.dropna().geom_type)
    return bool(kinds) and kinds <= {"Polygon", "MultiPolygon"}


def _too_many(n: int, cell: float, bounds, xy: np.ndarray | None, max_cells: int) -> None:
    width, height = (bounds[2] - bounds[0]) / 1000, (bounds[3] - bounds[1]) / 1000
    msg = (
        f"a {cell:g} m grid over {width:,.1f} km x {height:,.1f} km would have {n:,} cells "
        f"(more than {max_cells:,})."
    )
    if xy is not None and len(xy) >= 20:
        lo, hi = np.percentile(xy, [1, 99], axis=0)
        far = ~np.all((xy >= lo - (hi - lo)) & (xy <= hi + (hi - lo)), axis=1)
        if far.any():
            e, n_ = xy[far][0]
            msg += (
                f" {int(far.sum())} incident(s) lie far from the rest (e.g. at E {e:.0f}, "
                f"N {n_:.0f}) and stretch the extent: check them for bad coordinates."
            )
    msg += " Pass area= (a locality), or a larger cell size."
    raise ValueError(msg)


def _square_centres(bounds, cell: float):
    x0 = math.floor(bounds[0] / cell) * cell
    y0 = math.floor(bounds[1] / cell) * cell
    ncol = int(math.floor(bounds[2] / cell) - math.floor(bounds[0] / cell)) + 1
    nrow = int(math.floor(bounds[3] / cell) - math.floor(bounds[1] / cell)) + 1
    return x0, y0, ncol, nrow


def _hex_layout(bounds, cell: float):
    # pointy-topped hexagons; ``cell`` = distance between adjacent centres (flat-to-flat width)
    dy = cell * _SQRT3 / 2
    x0 = bounds[0] - cell / 2
    y0 = bounds[1]
    ncol = int(math.ceil((bounds[2] - x0) / cell)) + 1
    nrow = int(math.ceil((bounds[3] - y0) / dy)) + 1
    return x0, y0, ncol, nrow, dy


def make_grid(incidents_or_area, cell=None, shape="square", area=None, *, max_cells=MAX_CELLS):
    """A grid of cells covering the study area, zero-count cells included.

    Parameters
    ----------
    incidents_or_area : GeoDataFrame or shapely geometry
        Incidents (EPSG:27700; unlocated rows ignored) whose extent is covered, or the area itself.
    cell : float, optional
        Cell size in metres: the side of a square, or the distance between adjacent hexagon
        centres. Default :func:`default_cell_size` of the extent.
    shape : {"square", "hex"}
        Square cells aligned to the national grid, or pointy-topped hexagons.
    area : geometry, GeoSeries or GeoDataFrame, optional
        Study area (e.g. a locality). When given, only cells intersecting it are kept.
    max_cells : int
        Refuse (``ValueError``, before building anything) a grid larger than this.

    Returns
    -------
    GeoDataFrame
        ``cell_id`` (0..n-1, west to east then south to north), ``x``, ``y`` (cell centre,
        metres, EPSG:27700) and ``geometry`` (the cell polygon), in EPSG:27700.
    """
    if shape not in ("square", "hex"):
        raise ValueError(f"shape must be 'square' or 'hex', not {shape!r}")
    area_geom = _area_geometry(area)
    xy = None
    if area_geom is None and _is_polygons(incidents_or_area):
        area_geom = _area_geometry(incidents_or_area)  # a locality passed first
    if isinstance(incidents_or_area, gpd.GeoDataFrame) and area_geom is None:
        xy, _ = located_points(incidents_or_area)
        if len(xy) == 0:
            raise ValueError("no located incidents to build a grid over; pass area=")
        bounds = (*xy.min(axis=0), *xy.max(axis=0))
    elif area_geom is not None or isinstance(incidents_or_area, shapely.Geometry):
        area_geom = area_geom if area_geom is not None else incidents_or_area
        if area_geom.is_empty:
            raise ValueError("the study area is empty")
        bounds = area_geom.bounds
    else:
        area_geom = _area_geometry(incidents_or_area)
        bounds = area_geom.bounds
    if cell is None:
        cell = default_cell_size(bounds)
    cell = float(cell)
    if not cell > 0:
        raise ValueError(f"cell size must be a positive number of metres, not {cell!r}")
    if shape == "square":
        x0, y0, ncol, nrow = _square_centres(bounds, cell)
        n = ncol * nrow
        if n > max_cells:
            _too_many(n, cell, bounds, xy, max_cells)
        cx = x0 + (np.arange(ncol) + 0.5) * cell
        cy = y0 + (np.arange(nrow) + 0.5) * cell
        X, Y = np.meshgrid(cx, cy)
        X, Y = X.ravel(), Y.ravel()
        h = cell / 2
        polys = shapely.box(X - h, Y - h, X + h, Y + h)
    else:
        x0, y0, ncol, nrow, dy = _hex_layout(bounds, cell)
        n = ncol * nrow
        if n > max_cells:
            _too_many(n, cell, bounds, xy, max_cells)
        col, row = np.meshgrid(np.arange(ncol), np.arange(nrow))
        col, row = col.ravel(), row.ravel()
        X = x0 + (col + 0.5 * (row % 2)) * cell
        Y = y0 + row * dy
        polys = _hexagons(X, Y, cell)
    if area_geom is not None:
        shapely.prepare(area_geom)
        keep = shapely.intersects(area_geom, polys) & ~shapely.touches(area_geom, polys)
        X, Y, polys = X[keep], Y[keep], polys[keep]
    return gpd.GeoDataFrame(
        {"cell_id": np.arange(len(X), dtype=np.int64), "x": X, "y": Y},
        geometry=polys,
        crs=CRS,
    )


def _hexagons(X: np.ndarray, Y: np.ndarray, cell: float) -> np.ndarray:
    r = cell / _SQRT3  # circumradius
    ang = np.deg2rad(30 + 60 * np.arange(6))
    vx = X[:, None] + r * np.cos(ang)[None, :]
    vy = Y[:, None] + r * np.sin(ang)[None, :]
    rings = np.stack([vx, vy], axis=-1)
    rings = np.concatenate([rings, rings[:, :1]], axis=1)
    return shapely.polygons(rings)


def grid_cell_size(grid: gpd.GeoDataFrame) -> tuple[str, float]:
    """The shape ("square" or "hex") and cell size in metres of a grid from :func:`make_grid`."""
    if len(grid) == 0:
        raise ValueError("the grid has no cells")
    for col in ("x", "y"):
        if col not in grid.columns:
            raise ValueError(f"the grid has no {col!r} column; build it with make_grid()")
    g = grid.geometry.values[0]
    n_vertices = len(shapely.get_coordinates(g)) - 1
    b = g.bounds
    if n_vertices == 6:
        return "hex", float(b[2] - b[0])  # flat-to-flat width = centre spacing
    return "square", float(b[2] - b[0])


def cell_index(grid: gpd.GeoDataFrame, xy: np.ndarray) -> np.ndarray:
    """Row position in ``grid`` of the cell holding each point, -1 for points outside.

    Square cells are half-open (west and south edges belong to the cell), so a point on an
    edge is counted exactly once.
    """
    shape, cell = grid_cell_size(grid)
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    gx, gy = grid["x"].to_numpy(float), grid["y"].to_numpy(float)
    if shape == "square":
        x0, y0 = gx.min() - cell / 2, gy.min() - cell / 2
        gc = np.rint((gx - x0 - cell / 2) / cell).astype(np.int64)
        gr = np.rint((gy - y0 - cell / 2) / cell).astype(np.int64)
        ncol, nrow = gc.max() + 1, gr.max() + 1
        lookup = np.full(nrow * ncol, -1, dtype=np.int64)
        lookup[gr * ncol + gc] = np.arange(len(grid))
        pc = np.floor((xy[:, 0] - x0) / cell).astype(np.int64)
        pr = np.floor((xy[:, 1] - y0) / cell).astype(np.int64)
        inside = (pc >= 0) & (pc < ncol) & (pr >= 0) & (pr < nrow)
        out = np.full(len(xy), -1, dtype=np.int64)
        out[inside] = lookup[pr[inside] * ncol + pc[inside]]
        return out
    # hexagons are the Voronoi cells of their centres: the nearest centre holds the point
    dist, idx = cKDTree(np.column_stack([gx, gy])).query(xy)
    out = idx.astype(np.int64)
    edge = dist > cell / 2 * (1 - 1e-9)  # beyond the inradius: check the polygon itself
    if edge.any():
        polys = grid.geometry.values[out[edge]]
        ok = shapely.covers(polys, shapely.points(xy[edge]))
        out[np.flatnonzero(edge)[~ok]] = -1
    return out


def count_in_grid(incidents, grid, harm=None):
    """Count the located incidents in each cell (and sum their harm weights).

    Parameters
    ----------
    incidents : GeoDataFrame
        Incidents in EPSG:27700 (as :func:`scribe_lib.load` returns); rows without a
        location are ignored.
    grid : GeoDataFrame
        Cells from :func:`make_grid`.
    harm : bool, dict, str or path, optional
        Harm weights per category (see :func:`scribe_lib.stats.load_harm_weights`):
        ``True`` for the built-in table, a ``{category: weight}`` dict, or a YAML file.

    Returns
    -------
    GeoDataFrame
        A copy of ``grid`` with ``incidents`` (int, located incidents in the cell) and, with
        ``harm``, ``harm`` (float, sum of the incidents' weights).
    """
    from .harm import harm_values

    xy, mask = located_points(incidents)
    idx = cell_index(grid, xy)
    outside = int((idx < 0).sum())
    if outside:
        warnings.warn(
            f"{outside} located incident(s) fall outside the grid's cells and are not counted",
            stacklevel=2,
        )
    inside = idx >= 0
    out = grid.copy()
    out["incidents"] = np.bincount(idx[inside], minlength=len(grid)).astype(np.int64)
    if harm is not None and harm is not False:
        w = harm_values(incidents, harm).to_numpy(float)[mask]
        out["harm"] = np.bincount(idx[inside], weights=w[inside], minlength=len(grid))
    return out


def grid_raster(grid: gpd.GeoDataFrame, column: str) -> tuple[np.ndarray, tuple[float, ...]]:
    """A column of a square grid as a 2-D array, for ``matplotlib.pyplot.imshow``.

    Parameters
    ----------
    grid : GeoDataFrame
        Square cells from :func:`make_grid` (with ``x``, ``y``) and the ``column``.
    column : str
        The values to lay out.

    Returns
    -------
    (ndarray, tuple)
        Array of shape (rows, columns), north row first, NaN where the grid has no cell;
        and the extent ``(west, east, south, north)`` in metres (EPSG:27700), as ``imshow``
        takes it with ``origin="upper"``.
    """
    shape, cell = grid_cell_size(grid)
    if shape != "square":
        raise ValueError("grid_raster needs square cells; plot hexagons with grid.plot()")
    gx, gy = grid["x"].to_numpy(float), grid["y"].to_numpy(float)
    col = np.rint((gx - gx.min()) / cell).astype(np.int64)
    row = np.rint((gy.max() - gy) / cell).astype(np.int64)
    out = np.full((row.max() + 1, col.max() + 1), np.nan)
    out[row, col] = grid[column].to_numpy(dtype=float, na_value=np.nan)
    h = cell / 2
    return out, (gx.min() - h, gx.max() + h, gy.min() - h, gy.max() + h)
