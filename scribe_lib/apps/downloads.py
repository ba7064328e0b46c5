"""Downloads from the apps, each recorded in the audit trail.

A download is two steps, so that only real downloads are recorded: the user presses
"Prepare CSV"; the app writes the file from the current selection, records it with
:func:`scribe_lib.access.record_export` (on PostgreSQL, as the user's own login; a
no-op on the embedded store) and offers a "Save" link holding the file.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Callable

import geopandas as gpd
import ipywidgets as w
import numpy as np
import pandas as pd
import shapely

from ..access import record_export

__all__ = ["DownloadBar", "incidents_csv", "incidents_geojson", "frame_csv"]

#: (label, file name, MIME type, maker() -> (bytes, rows)).
Maker = Callable[[], tuple[bytes, int]]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S").astype("string")
    return out


def incidents_csv(frame: pd.DataFrame) -> tuple[bytes, int]:
    """Incidents as CSV (UTF-8, one row per incident, every column the user may see)."""
    return _plain(frame).to_csv(index=False).encode("utf-8"), len(frame)


def frame_csv(frame: pd.DataFrame) -> tuple[bytes, int]:
    """Any table (counts, tests) as CSV."""
    return frame.to_csv(index=False).encode("utf-8"), len(frame)


def incidents_geojson(frame: pd.DataFrame) -> tuple[bytes, int]:
    """Incidents as GeoJSON (RFC 7946: WGS84 lon/lat, converted with OSTN15 at ingest).

    Incidents without a location are kept, with ``"geometry": null``.
    """
    props = _plain(frame)
    lon = frame["lon"].to_numpy("float64", na_value=np.nan)
    lat = frame["lat"].to_numpy("float64", na_value=np.nan)
    pts = shapely.points(lon, lat)
    pts[np.isnan(lon) | np.isnan(lat)] = None
    gdf = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(pts, index=props.index), crs=4326)
    text = gdf.to_json(na="null", show_bbox=False, drop_id=True)
    return text.encode("utf-8"), len(frame)


class DownloadBar(w.VBox):
    """Buttons that prepare files, record them in the audit trail and offer a Save link.

    Parameters
    ----------
    store : Store
        The user's store (the audit entry is written as its login).
    formats : list of (label, filename, mime, maker)
        ``maker()`` returns ``(bytes, rows)`` for the current state of the app.
    describe : callable
        Returns the filter to record (a JSON-able dict).
    """

    def __init__(
        self, store, formats: list[tuple[str, str, str, Maker]], describe: Callable[[], dict]
    ):
        self.store, self.describe = store, describe
        self.link = w.HTML()
        self.link.add_class("scribe-download-link")
        buttons = []
        for label, filename, mime, maker in formats:
            b = w.Button(description=f"Prepare {label}", tooltip=f"Prepare {filename}",
                         icon="download", layout=w.Layout(width="auto"))  # fmt: skip
            b.add_class(f"scribe-download-{label.lower()}")
            b.on_click(lambda _b, f=filename, m=mime, mk=maker: self.prepare(f, m, mk))
            buttons.append(b)
        super().__init__([w.HBox(buttons), self.link])
        #: the last entry written to the audit trail (None on the embedded store).
        self.last_audit: int | None = None

    def prepare(self, filename: str, mime: str, maker: Maker) -> bytes:
        """Write the file, record the export, show the Save link; return the bytes."""
        payload, rows = maker()
        self.last_audit = record_export(self.store, filename, self.describe(), int(rows))
        data = base64.b64encode(payload).decode("ascii")
        self.link.value = (
            f'<a class="scribe-download" download="{html.escape(filename)}" '
            f'href="data:{mime};base64,{data}" data-rows="{rows}">Save {html.escape(filename)}'
            f"</a> ({rows:,} rows, {len(payload) / 1024:,.0f} KB; recorded in the audit trail)"
        )
        return payload


def describe_json(d: dict) -> str:
    """The filter as compact JSON (for display)."""
    return json.dumps(d, default=str)


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes (then closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
