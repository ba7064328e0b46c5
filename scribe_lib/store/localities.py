"""Locality boundaries (wards, parishes, LSOAs...) from GeoPackage, GeoJSON or shapefile.

Boundaries are reprojected to British National Grid. From WGS84 (GeoJSON's CRS) the vertices
go through OSTN15 (:func:`scribe_lib.geo.to_bng`), the official transformation, so a point
near a ward edge lands in the same ward as it does in the council's GIS.
"""

from __future__ import annotations

import os
import warnings

import geopandas as gpd
import numpy as np
import shapely

from ..errors import SourceError
from ..schema import CRS
from .base import Store

__all__ = ["read_boundaries", "load_localities"]


def _to_bng(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    crs = gdf.crs
    if crs.to_epsg() == 27700:
        return gdf.geometry
    try:
        from ..geo import to_bng
    except ImportError:  # pragma: no cover - geo.py ships with scribe_lib
        return gdf.geometry.to_crs(CRS)
    wgs = gdf.geometry.to_crs("EPSG:4326") if crs.to_epsg() != 4326 else gdf.geometry

    def transform(xy: np.ndarray) -> np.ndarray:
        e, n = to_bng(xy[:, 0], xy[:, 1])
        return np.column_stack([e, n])

    out = shapely.transform(wgs.values, transform)
    if shapely.is_empty(out).any() or np.isnan(shapely.get_coordinates(out)).any():
        warnings.warn(
            "some boundary vertices are outside OSTN15 coverage; reprojected with PROJ instead",
            stacklevel=3,
        )
        return gdf.geometry.to_crs(CRS)
    return gpd.GeoSeries(out, index=gdf.index, crs=CRS)


def read_boundaries(
    path: str | os.PathLike, name_field: str, label_field: str | None = None, layer=None
) -> gpd.GeoDataFrame:
    """Read boundaries as ``name, label, geometry`` (MultiPolygons, EPSG:27700).

    Features sharing a name are merged into one locality.

    Parameters
    ----------
    path : path-like
        A GeoPackage, GeoJSON or shapefile (anything GDAL reads).
    name_field : str
        The attribute holding each locality's name (e.g. ``WD24NM``).
    label_field : str, optional
        An attribute shown as the label (default: the name).
    layer : str or int, optional
        The layer of a multi-layer GeoPackage.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SourceError("no such file", file=path)
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises its own DataSourceError etc.
        raise SourceError(f"cannot read boundaries: {exc}", file=path) from exc
    if gdf.empty:
        raise SourceError("the file has no features", file=path)
    for field in (name_field, label_field):
        if field is not None and field not in gdf.columns:
            fields = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
            raise SourceError(f"no field {field!r}; the fields are: {fields}", file=path)
    if gdf.crs is None:
        raise SourceError(
            "the file has no coordinate reference system; save it with one (e.g. EPSG:27700)",
            file=path,
        )
    geom = _to_bng(gdf)
    geom = shapely.make_valid(geom.values)
    polys = shapely.get_type_id(geom)
    if not np.isin(polys, [3, 6, 7]).all():  # Polygon, MultiPolygon, GeometryCollection
        raise SourceError("boundaries must be polygons", file=path, field=gdf.geometry.name)
    names = gdf[name_field].astype("string").str.strip()
    if names.isna().any() or (names == "").any():
        line = int(np.flatnonzero((names.isna() | (names == "")).to_numpy())[0]) + 1
        raise SourceError("a feature has no name", file=path, line=line, field=name_field)
    labels = gdf[label_field].astype("string") if label_field else names
    frame = gpd.GeoDataFrame({"name": names, "label": labels}, geometry=geom, crs=CRS)
    merged = frame.dissolve(by="name", aggfunc="first", as_index=False)
    merged["geometry"] = [_multipolygon(g) for g in merged.geometry]
    return merged[["name", "label", "geometry"]].astype({"name": "string", "label": "string"})


def _multipolygon(geom):
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    flat = []
    for p in parts:
        flat.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
    return shapely.MultiPolygon(flat)


def load_localities(
    store: Store,
    path: str | os.PathLike,
    *,
    kind: str,
    name_field: str,
    label_field: str | None = None,
    layer=None,
    set_area: bool = False,
) -> int:
    """Load boundaries into the store's ``localities`` (same kind and name are replaced).

    With ``set_area=True`` their union becomes the partnership area: later ingests
    quarantine located points outside it.

    Returns
    -------
    int
        The number of localities stored.
    """
    if not kind or not isinstance(kind, str):
        raise SourceError(f"give the kind of the localities (ward, parish, lsoa...), got {kind!r}")
    gdf = read_boundaries(path, name_field, label_field, layer)
    n = store.write_localities(gdf, kind)
    if set_area:
        store.set_setting("area", shapely.union_all(gdf.geometry.values).wkt)
    return n
