"""The hotspot map: Gi* cells by corrected bin, optional density and emerging hot spots."""

from __future__ import annotations

import html
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import ipyleaflet as L
import ipywidgets as w
import numpy as np

from .. import stats
from ..stats.grid import grid_cell_size
from .data import AppData, Selection
from .downloads import DownloadBar, png_bytes
from .filters import FilterBar
from .incident_map import base_map, outline_layer
from .style import header, note

__all__ = ["hotspot_map", "HotspotMap", "BIN_COLOURS", "BIN_LABELS", "render_png"]

#: Gi* bin -> colour (red hot, blue cold) and label, as ArcGIS Pro shows them.
BIN_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f0f0f0",
               -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}  # fmt: skip
BIN_LABELS = {3: "Hot spot, 99% confidence", 2: "Hot spot, 95% confidence",
              1: "Hot spot, 90% confidence", 0: "Not significant",
              -1: "Cold spot, 90% confidence", -2: "Cold spot, 95% confidence",
              -3: "Cold spot, 99% confidence"}  # fmt: skip
#: drop-down options; 0 = automatic / adjacent cells (ipywidgets shows a None value as blank).
CELLS = [("automatic", 0.0), ("100 m", 100.0), ("250 m", 250.0), ("500 m", 500.0),
         ("1 km", 1000.0)]  # fmt: skip
DISTANCES = [("adjacent cells", 0.0), ("500 m", 500.0), ("1 km", 1000.0), ("2 km", 2000.0)]
WHAT_IS_A_HOTSPOT = (
    "A hot spot is a cell that, together with the cells around it, has more incidents than "
    "chance alone would give if incidents were spread evenly across the area (Getis-Ord Gi*, "
    "corrected for testing many cells at once). It says where incidents concentrate, not why, "
    "and not whether the place is dangerous: a busy town centre is often a hot spot. Cells "
    "with no colour had no incidents and are not significant."
)
PATTERN_COLOURS = {"new": "#7f0000", "consecutive": "#d7301f", "intensifying": "#ef6548",
                   "persistent": "#fc8d59", "diminishing": "#fdbb84", "sporadic": "#fdd49e",
                   "oscillating": "#fee8c8", "historical": "#fff7ec"}  # fmt: skip


def _legend(counts: dict[int, int]) -> str:
    rows = "".join(
        f'<div data-bin="{b}" data-cells="{counts.get(b, 0)}"><i style="background:{BIN_COLOURS[b]}">'
        f"</i>{BIN_LABELS[b]}: {counts.get(b, 0):,} cells</div>"
        for b in (3, 2, 1, 0, -1, -2, -3)
    )
    return f'<div class="scribe-legend" role="region" aria-label="Legend">{rows}</div>'


def render_png(layer: gpd.GeoDataFrame, outlines: gpd.GeoDataFrame, title: str) -> bytes:
    """The Gi* layer drawn with matplotlib (EPSG:27700), with the same colours and legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(8, 8))
    if len(layer):
        layer.plot(ax=ax, color=[BIN_COLOURS[int(b)] for b in layer["gi_bin"]],
                   edgecolor="#999999", linewidth=0.2)  # fmt: skip
    outlines.boundary.plot(ax=ax, color="#4b5563", linewidth=0.8)
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles = [Patch(facecolor=BIN_COLOURS[b], edgecolor="#555", label=BIN_LABELS[b])
               for b in (3, 2, 1, 0, -1, -2, -3)]  # fmt: skip
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    return png_bytes(fig)


class HotspotMap(w.VBox):
    """The hotspot map app (see :func:`hotspot_map`)."""

    def __init__(self, data: AppData, *, cell=None, distance=None, **initial):
        cell, distance = float(cell or 0), float(distance or 0)
        self.data = data
        self.filters = FilterBar(data, show=("category", "start", "end", "locality"), **initial)
        cells = CELLS if cell in dict(CELLS).values() else [*CELLS, (f"{cell:g} m", cell)]
        dists = DISTANCES if distance in dict(DISTANCES).values() else [
            *DISTANCES, (f"{distance:g} m", distance)]  # fmt: skip
        self.cell = w.Dropdown(options=cells, value=cell, description="Cell size",
                               style={"description_width": "initial"})  # fmt: skip
        self.cell.add_class("scribe-cell")
        self.distance = w.Dropdown(options=dists, value=distance, description="Neighbours within",
                                   style={"description_width": "initial"})  # fmt: skip
        self.distance.add_class("scribe-distance")
        box = {"indent": False, "layout": w.Layout(width="auto", margin="2px 12px")}
        self.show_kde = w.Checkbox(value=False, description="Density (KDE)", **box)
        self.show_emerging = w.Checkbox(value=False, description="Emerging hot spots", **box)
        self.map = base_map(layout=w.Layout(height="560px"))
        self.map.add_class("scribe-map")
        self.map.add(outline_layer(data))
        empty = {"type": "FeatureCollection", "features": []}
        self.kde_layer = L.GeoJSON(data=empty, name="density")
        self.gi_layer = L.GeoJSON(data=empty, name="hot spots",
                                  hover_style={"weight": 2, "color": "#000"})  # fmt: skip
        self.emerging_layer = L.GeoJSON(data=empty, name="emerging")
        for layer in (
            self.gi_layer,
            self.kde_layer,
            self.emerging_layer,
        ):  # density above, translucent
            self.map.add(layer)
        self.legend = w.HTML()
        self.legend.add_class("scribe-hotspot-legend")
        self.map.add(L.WidgetControl(widget=self.legend, position="bottomright"))
        self.explain = w.HTML("<p>Click a cell for its explanation.</p>")
        self.explain.add_class("scribe-explanation")
        self.status = w.HTML()
        self.status.add_class("scribe-status")
        self.emerging_note = w.HTML()
        self.gi_layer.on_click(self._cell_clicked)
        self.layer = gpd.GeoDataFrame({"gi_bin": []}, geometry=[], crs=27700)
        self.downloads = DownloadBar(
            data.store,
            [("GeoJSON", "hotspots.geojson", "application/geo+json", self._geojson),
             ("GPKG", "hotspots.gpkg", "application/geopackage+sqlite3", self._gpkg),
             ("PNG", "hotspots.png", "image/png", self._png)],
            self._filter,
        )  # fmt: skip
        for widget in (self.cell, self.distance, self.show_kde, self.show_emerging):
            widget.observe(lambda _c: self.update(), "value")
        self.filters.on_change(lambda _s: self.update())
        side = w.VBox([w.HTML("<h2>This cell</h2>"), self.explain, self.emerging_note],
                      layout=w.Layout(width="32%", padding="0 0 0 12px"))  # fmt: skip
        super().__init__([
            header("Hotspot map", "Where incidents concentrate more than chance would give"),
            note(WHAT_IS_A_HOTSPOT), self.filters,
            w.HBox([self.cell, self.distance, self.show_kde, self.show_emerging],
                   layout=w.Layout(flex_flow="row wrap")),
            w.HBox([w.Box([self.map], layout=w.Layout(width="68%")), side]),
            self.status, self.downloads,
        ])  # fmt: skip
        self.add_class("scribe-app")
        self.update()

    @property
    def selection(self) -> Selection:
        return self.filters.selection

    @property
    def _cell(self) -> float | None:
        return self.cell.value or None  # 0: automatic

    @property
    def _distance(self) -> float | None:
        return self.distance.value or None  # 0: the adjacent cells

    def _filter(self) -> dict:
        return {
            **self.selection.as_filter(),
            "cell": self._cell,
            "distance": self._distance,
        }

    def _area(self):
        loc = self.selection.locality
        if loc is None:
            return None
        return self.data.localities.loc[self.data.localities["name"] == loc].geometry.iloc[0]

    def update(self) -> None:
        """Recompute Gi* (and the optional layers) for the controls' values."""
        sel = self.selection
        incidents = self.data.select(sel)
        located = incidents[incidents.geometry.notna()]
        self.status.value = "<p>Computing...</p>"
        if len(located) < 3:
            self.layer = self.layer.iloc[:0]
            self.gi_layer.data = {"type": "FeatureCollection", "features": []}
            self.legend.value = _legend({})
            self.status.value = (
                f'<p data-incidents="{len(located)}">Too few located incidents '
                f"({len(located)}) for a hot spot map: widen the filter.</p>"
            )
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gi = stats.hotspots(located, cell=self._cell, distance=self._distance,
                                area=self._area())  # fmt: skip
        keep = (gi["incidents"] > 0) | (gi["gi_bin"] != 0)
        self.layer = gi.loc[keep, ["cell_id", "incidents", "gi_z", "p_value", "p_fdr", "gi_bin",
                                   "explanation", "geometry"]].copy()  # fmt: skip
        wgs = self.layer.to_crs(4326)
        feats = []
        for cid, b, geom in zip(wgs["cell_id"], wgs["gi_bin"], wgs.geometry, strict=True):
            feats.append({"type": "Feature", "geometry": geom.__geo_interface__,
                          "properties": {"cell_id": int(cid), "style": {
                              "fillColor": BIN_COLOURS[int(b)], "fillOpacity": 1.0,
                              "color": "#777", "weight": 0.5}}})  # fmt: skip
        self.gi_layer.data = {"type": "FeatureCollection", "features": feats}
        counts = self.layer["gi_bin"].value_counts().to_dict()
        self.legend.value = _legend({int(k): int(v) for k, v in counts.items()})
        side = grid_cell_size(gi)[1]
        hot = int((self.layer["gi_bin"] > 0).sum())
        msgs = "".join(f"<li>{html.escape(str(c.message))}</li>" for c in caught[:3])
        self.status.value = (
            f'<p data-incidents="{len(located)}" data-hot="{hot}" data-cells="{len(self.layer)}">'
            f"{len(located):,} located incidents in {len(gi):,} cells of {side:,.0f} m; {hot:,} "
            f"hot spot cells. {html.escape(sel.describe())}.</p>"
            + (f"<ul>{msgs}</ul>" if msgs else "")
        )
        self._draw_kde(located)
        self._draw_emerging(located)
        self.explain.value = "<p>Click a cell for its explanation.</p>"

    def _draw_kde(self, located) -> None:
        if not self.show_kde.value:
            self.kde_layer.data = {"type": "FeatureCollection", "features": []}
            return
        dens = stats.kde(located, cell=self._cell, area=self._area())
        dens = dens[dens["density"] > 0].to_crs(4326)
        q = np.quantile(dens["density"], [0.5, 0.75, 0.9, 0.97]) if len(dens) else []
        shades = ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"]
        feats = [{"type": "Feature", "geometry": g.__geo_interface__, "properties": {"style": {
            "fillColor": shades[int(np.searchsorted(q, d))], "fillOpacity": 0.55, "weight": 0}}}
            for d, g in zip(dens["density"], dens.geometry, strict=True)]  # fmt: skip
        self.kde_layer.data = {"type": "FeatureCollection", "features": feats}

    def _draw_emerging(self, located) -> None:
        if not self.show_emerging.value:
            self.emerging_layer.data = {"type": "FeatureCollection", "features": []}
            self.emerging_note.value = ""
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            em = stats.emerging_hotspots(located, cell=self._cell, area=self._area())
        em = em[em["pattern"] != "no pattern"]
        feats = []
        for pat, g in zip(em["pattern"], em.to_crs(4326).geometry, strict=True):
            colour = PATTERN_COLOURS.get(pat.split()[0], "#999") if "hot" in pat else "#4393c3"
            feats.append({"type": "Feature", "geometry": g.__geo_interface__, "properties": {
                "pattern": pat, "style": {"color": colour, "weight": 3, "fill": False}}})  # fmt: skip
        self.emerging_layer.data = {"type": "FeatureCollection", "features": feats}
        counts = em["pattern"].value_counts()
        items = "".join(f"<li>{html.escape(p)}: {n}</li>" for p, n in counts.items())
        self.emerging_note.value = (f"<h2>Emerging hot spots (outlined)</h2><ul>{items or '<li>none</li>'}"
                                    "</ul>")  # fmt: skip

    def _cell_clicked(self, feature=None, **_kw) -> None:
        cid = feature["properties"]["cell_id"]
        row = self.layer.loc[self.layer["cell_id"] == cid].iloc[0]
        self.explain.value = (
            f'<p data-cell="{cid}" data-bin="{int(row["gi_bin"])}"><strong>'
            f"{BIN_LABELS[int(row['gi_bin'])]}</strong></p><p>{html.escape(row['explanation'])}.</p>"
            f"<p>Gi* z = {row['gi_z']:.2f}, corrected p = {row['p_fdr']:.3g}.</p>"
        )

    # -- downloads ---------------------------------------------------------------------------
    def _geojson(self):
        return self.layer.to_crs(4326).to_json(drop_id=True).encode("utf-8"), len(self.layer)

    def _gpkg(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "hotspots.gpkg"
            self.layer.to_file(path, layer="hotspots", driver="GPKG")
            return path.read_bytes(), len(self.layer)

    def _png(self):
        return render_png(self.layer, self.data.localities, self.selection.describe()), len(
            self.layer
        )


def hotspot_map(store=None, *, category=None, start=None, end=None, locality=None, cell=None,
                distance=None) -> HotspotMap:  # fmt: skip
    """Build the hotspot map app for the user's store.

    Parameters
    ----------
    store : Store or str, optional
        Default ``$SCRIBE_STORE``.
    category, start, end, locality : str, optional
        Initial filter.
    cell, distance : float, optional
        Cell size and neighbour band in metres (default: automatic / adjacent cells).
    """
    cell = float(cell) if cell is not None else None
    distance = float(distance) if distance is not None else None
    return HotspotMap(AppData(store), cell=cell, distance=distance, category=category, start=start,
                      end=end, locality=locality)  # fmt: skip
