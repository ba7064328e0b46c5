"""data.police.uk street-level crime files, exactly as downloaded.

Columns: Crime ID, Month, Reported by, Falls within, Longitude, Latitude,
Location, LSOA code, LSOA name, Crime type, Last outcome category, Context.
Anti-social behaviour rows have no Crime ID; identical rows stay distinct
incidents; "No Location" rows (empty coordinates, or 0,0) are incidents with
``location_precision = none``. Points are snapped to a street by police.uk,
hence ``location_precision = street``; only the month is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import validate as v
from .base import Source

__all__ = ["PoliceUK", "POLICE_UK_COLUMNS"]

POLICE_UK_COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)


class PoliceUK(Source):
    """Adapter for data.police.uk street-level CSV (``police-uk``)."""

    name = "police-uk"
    required = tuple(c for c in POLICE_UK_COLUMNS if c != "Context")
    consumed = tuple(
        c for c in POLICE_UK_COLUMNS if c not in ("Reported by", "Falls within", "Context")
    )

    def harmonise(self, df: pd.DataFrame, rej: v.Rejects) -> dict:
        start = v.parse_month(df["Month"], rej, "Month")
        v.check_future(start, rej, "Month", df["Month"], self.now)
        end = (start.astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[ns]")
        ctype = df["Crime type"]
        category = self.map_categories([ctype], rej, "Crime type", ctype)
        lon, lat, e, n = v.check_lonlat(
            df["Longitude"], df["Latitude"], rej, ("Longitude", "Latitude")
        )
        located = np.isfinite(e)
        return {
            "source_record_id": _blank_to_na(df["Crime ID"]),
            "category": category,
            "source_category": ctype,
            "occurred_at": np.full(len(df), np.datetime64("NaT"), "datetime64[ns]"),
            "period_start": start,
            "period_end": end,
            "time_precision": "month",
            "easting": e,
            "northing": n,
            "lon": lon,
            "lat": lat,
            "location_precision": v.from_codes(located.astype(np.int32), ["none", "street"]),
            "location_text": _blank_to_na(df["Location"]),
            "lsoa_code": _blank_to_na(df["LSOA code"]),
            "lsoa_name": _blank_to_na(df["LSOA name"]),
            "outcome": _blank_to_na(df["Last outcome category"]),
            "_coord_field": ("Longitude,Latitude", v.pair(df["Longitude"], df["Latitude"])),
        }


_blank_to_na = v.blank_na
