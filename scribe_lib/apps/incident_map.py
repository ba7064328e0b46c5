"""A street-level incident map that stays fluid with 100,000 incidents.

Below street zoom the incidents in view are aggregated on a British National Grid
square grid whose cell halves with each zoom level (one circle per cell, sized and
coloured by its count); at street zoom (15 and closer) each distinct location in view is
one point. Everything is drawn on a canvas (Leaflet ``preferCanvas``), and only what is
in view is sent to the browser, so the browser never holds 100,000 SVG elements.

No basemap by default (the machine may be offline): a plain background and the locality
outlines. Set ``SCRIBE_TILE_URL`` (e.g. an internal tile server,
``https://tiles.example.org/{z}/{x}/{y}.png``) and ``SCRIBE_TILE_ATTRIBUTION`` to add one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import ipyleaflet as L
import ipywidgets as w
import numpy as np
import pandas as pd

from .data import AppData

__all__ = ["IncidentMap", "base_map", "fit_view", "STREET_ZOOM", "POINT_COLOUR", "CELL_COLOURS"]

#: zoom from which single locations are drawn.
STREET_ZOOM = 15
#: most locations drawn at once (the rest: a note asks to zoom in).
MAX_POINTS = 5000
POINT_COLOUR = "#c0392b"
#: sequential blues, light to dark (cells of the aggregate layer by count quintile).
CELL_COLOURS = ["#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c"]


def cell_for_zoom(zoom: float) -> float:
    """Aggregation cell side in metres: 200 m at zoom 14, doubling per zoom level out."""
    return float(min(12800.0, 200.0 * 2 ** max(0, 14 - int(zoom))))


def fit_view(west, south, east, north, width=800, height=480) -> tuple[tuple[float, float], int]:
    """Centre and the closest zoom (Web Mercator) showing the box in a ``width`` x
    ``height`` pixel map; between zoom 5 and 17."""
    dlon = max(east - west, 1e-6)
    y = [math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (south, north)]
    dy = max(y[1] - y[0], 1e-9)
    zoom = min(math.log2(width * 360 / (256 * dlon)), math.log2(height * 2 * math.pi / (256 * dy)))
    return ((south + north) / 2, (west + east) / 2), int(min(17, max(5, math.floor(zoom))))


def base_map(center=(52.0, -0.45), zoom=10, **kw) -> L.Map:
    """An ipyleaflet map on canvas, with a basemap only when ``SCRIBE_TILE_URL`` is set."""
    url = os.environ.get("SCRIBE_TILE_URL", "").strip()
    layers = []
    if url:
        attribution = os.environ.get("SCRIBE_TILE_ATTRIBUTION", "")
        layers.append(L.TileLayer(url=url, attribution=attribution, base=True, name="basemap"))
    m = L.Map(center=center, zoom=zoom, layers=layers, prefer_canvas=True, scroll_wheel_zoom=True,
              keyboard=True, attribution_control=bool(url), **kw)  # fmt: skip
    return m


def outline_layer(data: AppData) -> L.GeoJSON:
    """Locality boundaries as outlines (no fill, so they never hide incidents)."""
    gdf = data.outlines_wgs84[["name", "geometry"]]
    return L.GeoJSON(
        data=gdf.__geo_interface__,
        style={"color": "#4b5563", "weight": 1.5, "fill": False, "opacity": 0.9},
        name="localities",
    )


def _point(lon, lat, props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}  # fmt: skip


class IncidentMap(w.VBox):
    """Map of a selection of incidents: aggregated cells, or points at street level.

    Parameters
    ----------
    data : AppData
    on_location : callable, optional
        ``on_location(frame)`` with the selected incidents at a clicked point.
    """

    def __init__(self, data: AppData, on_location: Callable[[pd.DataFrame], None] | None = None):
        located = data.incidents.dropna(subset=["lon", "lat"])
        center = (float(located["lat"].median()), float(located["lon"].median())) if len(
            located) else (52.0, -0.45)  # fmt: skip
        self.map = base_map(center=center, zoom=11, layout=w.Layout(height="520px"))
        self.map.add_class("scribe-map")
        self.data, self.on_location = data, on_location
        self.frame = data.incidents.iloc[:0]
        self.cells = L.GeoJSON(data={"type": "FeatureCollection", "features": []},
                               point_style={"radius": 6, "weight": 1, "fillOpacity": 1.0},
                               name="incidents (aggregated)")  # fmt: skip
        self.points = L.GeoJSON(data={"type": "FeatureCollection", "features": []},
                                point_style={"radius": 6, "color": "#5b1a12", "weight": 1,
                                             "fillColor": POINT_COLOUR, "fillOpacity": 1.0},
                                name="incidents")  # fmt: skip
        self.map.add(outline_layer(data))
        self.map.add(self.cells)
        self.map.add(self.points)
        self.cells.on_click(self._cell_clicked)
        self.points.on_click(self._point_clicked)
        self.summary = w.HTML()
        self.summary.add_class("scribe-map-summary")
        self.map.observe(self._view_changed, "bounds")
        super().__init__([self.map, self.summary], layout=w.Layout(width="100%"))
        #: what the map shows now: level ("cells" | "points"), items drawn, incidents drawn.
        self.shown = {"level": "cells", "items": 0, "incidents": 0}

    # -- public ----------------------------------------------------------------------------
    def show(self, frame: pd.DataFrame, fit: bool = False) -> None:
        """Draw ``frame`` (incidents with lon/lat); ``fit`` zooms to its extent."""
        self.frame = frame
        self._x = frame["lon"].to_numpy("float64", na_value=np.nan)
        self._y = frame["lat"].to_numpy("float64", na_value=np.nan)
        self._e = frame["easting"].to_numpy("float64", na_value=np.nan)
        self._n = frame["northing"].to_numpy("float64", na_value=np.nan)
        self._ok = ~(np.isnan(self._x) | np.isnan(self._y) | np.isnan(self._e))
        if fit and self._ok.any():
            x, y = self._x[self._ok], self._y[self._ok]
            center, zoom = fit_view(float(x.min()), float(y.min()), float(x.max()), float(y.max()))
            with self.map.hold_sync():  # not Map.fit_bounds: its async loop zooms out later
                self.map.center, self.map.zoom = center, zoom
        self.redraw()

    def redraw(self) -> None:
        """Recompute the layer for the current zoom and view."""
        zoom = self.map.zoom
        inview = self._ok & self._in_view()
        if zoom >= STREET_ZOOM:
            self._draw_points(inview)
        else:
            self._draw_cells(inview, cell_for_zoom(zoom))
        self._write_summary()

    # -- drawing ---------------------------------------------------------------------------
    def _in_view(self) -> np.ndarray:
        b = self.map.bounds
        if not b or len(b) != 2:
            return np.ones(len(self._x), bool)
        (s, wst), (n, e) = b
        dy, dx = (n - s) * 0.25, (e - wst) * 0.25  # a margin, so a small pan needs no redraw
        with np.errstate(invalid="ignore"):
            return (self._y >= s - dy) & (self._y <= n + dy) & (self._x >= wst - dx) & (
                self._x <= e + dx)  # fmt: skip

    def _draw_cells(self, inview: np.ndarray, cell: float) -> None:
        idx = np.flatnonzero(inview)
        feats = []
        if len(idx):
            key = pd.DataFrame({"i": np.floor(self._e[idx] / cell), "j": np.floor(self._n[idx] / cell),
                                "lon": self._x[idx], "lat": self._y[idx]})  # fmt: skip
            g = key.groupby(["i", "j"], sort=False).agg(n=("lon", "size"), lon=("lon", "mean"),
                                                       lat=("lat", "mean"))  # fmt: skip
            counts = g["n"].to_numpy()
            top = counts.max()
            edges = np.quantile(counts, [0.2, 0.4, 0.6, 0.8])
            cls = np.searchsorted(edges, counts, side="left")
            radius = 4 + 14 * np.sqrt(counts / top)
            for (lon, lat, n), k, r in zip(g[["lon", "lat", "n"]].itertuples(index=False, name=None),
                                           cls, radius, strict=True):  # fmt: skip
                c = CELL_COLOURS[min(int(k), 4)]
                feats.append(_point(round(lon, 6), round(lat, 6), {
                    "n": int(n), "style": {"radius": round(float(r), 1), "fillColor": c,
                                           "color": "#08306b"}}))  # fmt: skip
        self.points.data = {"type": "FeatureCollection", "features": []}
        self.cells.data = {"type": "FeatureCollection", "features": feats}
        self.shown = {"level": "cells", "items": len(feats), "cell": cell,
                      "incidents": int(sum(f["properties"]["n"] for f in feats))}  # fmt: skip

    def _draw_points(self, inview: np.ndarray) -> None:
        idx = np.flatnonzero(inview)
        key = pd.DataFrame({"lon": self._x[idx].round(6), "lat": self._y[idx].round(6)})
        g = key.groupby(["lon", "lat"], sort=False).size().rename("n").reset_index()
        more = len(g) > MAX_POINTS
        if more:
            g = g.nlargest(MAX_POINTS, "n")
        feats = [_point(lon, lat, {"n": int(n)}) for lon, lat, n in g.itertuples(index=False)]
        self.cells.data = {"type": "FeatureCollection", "features": []}
        self.points.data = {"type": "FeatureCollection", "features": feats}
        self.shown = {"level": "points", "items": len(feats), "capped": more,
                      "incidents": int(g["n"].sum())}  # fmt: skip

    def _write_summary(self) -> None:
        s = self.shown
        total, located = len(self.frame), int(self._ok.sum())
        if s["level"] == "cells":
            how = (f"in {s['items']:,} circles, one per {s['cell'] / 1000:g} km square "
                   "(click a circle or zoom in to see streets)")  # fmt: skip
        else:
            how = f"at {s['items']:,} street locations (click a point for its incidents)"
            if s.get("capped"):
                how += f"; only the {MAX_POINTS:,} busiest locations are drawn: zoom in"
        no_loc = total - located
        tail = f" {no_loc:,} without a location are in the table only." if no_loc else ""
        self.summary.value = (
            f'<p data-level="{s["level"]}" data-drawn="{s["incidents"]}" '
            f'data-items="{s["items"]}">Map: {s["incidents"]:,} incidents in view {how}.{tail}</p>'
        )

    # -- events ------------------------------------------------------------------------------
    def _view_changed(self, _change) -> None:
        if hasattr(self, "_x"):
            self.redraw()

    def _cell_clicked(self, feature=None, **_kw) -> None:
        lon, lat = feature["geometry"]["coordinates"]
        with self.map.hold_sync():  # one message: the browser moves and zooms together
            self.map.center = (lat, lon)
            self.map.zoom = min(STREET_ZOOM, self.map.zoom + 2)

    def _point_clicked(self, feature=None, **_kw) -> None:
        lon, lat = feature["geometry"]["coordinates"]
        here = self._ok & (np.round(self._x, 6) == lon) & (np.round(self._y, 6) == lat)
        if self.on_location is not None:
            self.on_location(self.frame.loc[here])
