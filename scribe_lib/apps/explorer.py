"""The incident explorer: street-level map, filters, details on click, table, downloads."""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from .data import AppData, Selection
from .downloads import DownloadBar, incidents_csv, incidents_geojson
from .filters import FilterBar
from .incident_map import IncidentMap
from .style import header, note

__all__ = ["incident_explorer", "IncidentExplorer", "when", "DETAIL_FIELDS"]

#: the fields shown for an incident (those the agreement withholds are left out).
DETAIL_FIELDS = {
    "category": "Category",
    "source_category": "Source category",
    "when": "Date or month",
    "location_text": "Location",
    "partner": "Partner",
    "outcome": "Outcome",
}
TABLE_ROWS = 100


def when(row) -> str:
    """The incident's time as precisely as it is known: a month, a day or a time."""
    precision, ps, at = row["time_precision"], row["period_start"], row["occurred_at"]
    if precision == "exact" and pd.notna(at):
        return pd.Timestamp(at).strftime("%d %b %Y %H:%M")
    if precision == "day" and pd.notna(ps):
        return pd.Timestamp(ps).strftime("%d %b %Y")
    return pd.Timestamp(ps).strftime("%B %Y") if pd.notna(ps) else ""


def _rows_html(frame: pd.DataFrame, fields: list[str], css: str) -> str:
    head = "".join(f'<th scope="col">{DETAIL_FIELDS[f]}</th>' for f in fields)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for f in fields:
            v = when(row) if f == "when" else row[f]
            cells.append(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>")
        body.append(f'<tr data-id="{html.escape(str(row["incident_id"]))}">{"".join(cells)}</tr>')
    return (
        f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


class IncidentExplorer(w.VBox):
    """The incident explorer app (see :func:`incident_explorer`)."""

    def __init__(self, data: AppData, **initial):
        self.data = data
        self.filters = FilterBar(data, **initial)
        self.details = w.HTML(
            "<p>Click a point on the map (street level) to see its incidents.</p>"
        )
        self.details.add_class("scribe-details")
        self.map = IncidentMap(data, on_location=self.show_details)
        self.count = w.HTML()
        self.count.add_class("scribe-count")
        self.table = w.HTML()
        self.table.add_class("scribe-table")
        self.downloads = DownloadBar(
            data.store,
            [("CSV", "incidents.csv", "text/csv", lambda: incidents_csv(self.selected)),
             ("GeoJSON", "incidents.geojson", "application/geo+json",
              lambda: incidents_geojson(self.selected))],
            lambda: self.filters.selection.as_filter(),
        )  # fmt: skip
        self.filters.on_change(self.update)
        side = w.VBox([w.HTML("<h2>Details</h2>"), self.details],
                      layout=w.Layout(flex="1 1 0%", min_width="300px", padding="0 0 0 12px"))  # fmt: skip
        super().__init__([
            header("Incident explorer", "Incidents you may see under the data-sharing agreement"),
            note("Police incidents are placed on a nearby street point and known to the month "
                 "only (police.uk). Zoom in to street level to see single locations."),
            self.filters,
            w.HBox([w.Box([self.map], layout=w.Layout(flex="2 1 0%", min_width="480px")), side]),
            self.count, self.downloads, w.HTML("<h2>Incidents in the selection</h2>"), self.table,
        ])  # fmt: skip
        self.add_class("scribe-app")
        self.selected = data.incidents.iloc[:0]
        self._locality = None
        self.update(self.filters.selection, fit=True)

    def fields(self, frame: pd.DataFrame) -> list[str]:
        """Detail fields with a value in ``frame``: a field the agreement withholds from the
        user is empty for those incidents, so its column is left out."""
        visible = set(self.data.visible_fields(frame)) | {"when"}
        return [f for f in DETAIL_FIELDS if f in visible]

    def update(self, sel: Selection, fit: bool = False) -> None:
        """Apply a filter: map, count, table and details follow."""
        self.selected = self.data.select(sel)
        n = len(self.selected)
        self.count.value = (f'<p data-count="{n}"><strong>{n:,}</strong> incidents match: '
                            f"{html.escape(sel.describe())}.</p>")  # fmt: skip
        shown = self.selected.head(TABLE_ROWS)
        more = f"<p>The first {TABLE_ROWS} of {n:,} (newest first); download for all.</p>" if (
            n > TABLE_ROWS) else ""  # fmt: skip
        self.table.value = more + _rows_html(shown, self.fields(self.selected), "scribe-incidents")
        self.details.value = "<p>Click a point on the map (street level) to see its incidents.</p>"
        moved = sel.locality != self._locality  # another locality (or All): show all of it
        self._locality = sel.locality
        self.map.show(self.selected, fit=fit or moved)

    def show_details(self, here: pd.DataFrame) -> None:
        """Show the incidents at one clicked location."""
        n = len(here)
        top = here.head(50)
        self.details.value = (
            f'<p data-count="{n}"><strong>{n}</strong> incident{"s" if n != 1 else ""} at this '
            f"point{' (the newest 50)' if n > 50 else ''}:</p>"
            + _rows_html(top, self.fields(here), "scribe-detail-rows")
        )


def incident_explorer(store=None, **initial) -> IncidentExplorer:
    """Build the incident explorer for the user's store.

    Parameters
    ----------
    store : Store or str, optional
        Default ``$SCRIBE_STORE`` (the user's own identity in the hub).
    **initial
        Initial filter: ``partner``, ``category``, ``start``, ``end``, ``locality``.

    Returns
    -------
    IncidentExplorer
        An ipywidgets box; display it (the notebook's last expression).
    """
    return IncidentExplorer(AppData(store), **initial)
