"""Fire and rescue incident records, shaped like published incident-level open data (LFB).

Columns: IncidentNumber, DateOfCall (DD/MM/YYYY or YYYY-MM-DD), TimeOfCall
(HH:MM[:SS]), IncidentGroup, StopCodeDescription, Motive, PropertyCategory,
PropertyType, AddressQualifier, Postcode_district, Easting_rounded,
Northing_rounded, WardCode, WardName. Coordinates are BNG rounded by the
service (``location_precision = rounded``). The category comes from
``StopCodeDescription / Motive`` through ``data/mappings/fire.yml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import validate as v
from .base import Source

__all__ = ["Fire", "FIRE_COLUMNS"]

FIRE_COLUMNS = (
    "IncidentNumber",
    "DateOfCall",
    "TimeOfCall",
    "IncidentGroup",
    "StopCodeDescription",
    "Motive",
    "PropertyCategory",
    "PropertyType",
    "AddressQualifier",
    "Postcode_district",
    "Easting_rounded",
    "Northing_rounded",
    "WardCode",
    "WardName",
)

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class Fire(Source):
    """Adapter for incident-level fire and rescue data (``fire``)."""

    name = "fire"
    required = (
        "IncidentNumber",
        "DateOfCall",
        "IncidentGroup",
        "StopCodeDescription",
        "Easting_rounded",
        "Northing_rounded",
    )
    consumed = (
        "IncidentNumber",
        "DateOfCall",
        "TimeOfCall",
        "Easting_rounded",
        "Northing_rounded",
        "Postcode_district",
        "WardCode",
    )

    def harmonise(self, df: pd.DataFrame, rej: v.Rejects) -> dict:
        n = len(df)
        blank = pd.Series([""] * n, dtype="string")
        ident = v.excel_code(df["IncidentNumber"], rej, "IncidentNumber")
        date, date_time = v.parse_dates(
            df["DateOfCall"], DATE_FORMATS, rej, "DateOfCall", excel=True
        )
        tod = df["TimeOfCall"] if "TimeOfCall" in df else blank
        time, _ = v.parse_times(tod, rej, "TimeOfCall", excel=True)
        occurred, start, end, exact = v.when(date, date_time, time)
        v.check_future(
            np.where(np.isnat(occurred), start, occurred),
            rej,
            "DateOfCall",
            df["DateOfCall"],
            self.now,
        )
        stop = v.blank_na(df["StopCodeDescription"]).fillna("")
        motive = v.blank_na(df["Motive"]).fillna("") if "Motive" in df else blank
        combined = (stop + " / " + motive).where(motive != "", stop)
        group = df["IncidentGroup"]
        category = self.map_categories(
            [combined, stop, group], rej, "StopCodeDescription", combined
        )
        lon, lat, e, nn = v.check_bng(
            df["Easting_rounded"],
            df["Northing_rounded"],
            rej,
            ("Easting_rounded", "Northing_rounded"),
        )
        located = np.isfinite(e)
        return {
            "source_record_id": ident,
            "category": category,
            "source_category": combined,
            "occurred_at": occurred,
            "period_start": start,
            "period_end": end,
            "time_precision": v.from_codes(exact, ["day", "exact"]),
            "easting": e,
            "northing": nn,
            "lon": lon,
            "lat": lat,
            "location_precision": v.from_codes(located.astype(np.int32), ["none", "rounded"]),
            "location_text": v.blank_na(df["Postcode_district"])
            if "Postcode_district" in df
            else None,
            "ward_code": v.blank_na(df["WardCode"]) if "WardCode" in df else None,
            "_coord_field": (
                "Easting_rounded,Northing_rounded",
                v.pair(df["Easting_rounded"], df["Northing_rounded"]),
            ),
        }
