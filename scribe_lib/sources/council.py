"""Council ASB / environmental case logs, as exported (often via Excel) from case systems.

Columns: Case Ref, Date Received (DD/MM/YYYY), Time Received (HH:MM, may be
empty), Category, Sub Category, Postcode, Easting, Northing, Ward,
Description, Status. A case has either Easting/Northing (``exact``) or a
Postcode, located at its centroid from an optional lookup CSV
(``postcode,easting,northing``; ``location_precision = postcode``); without a
match it has no location and the postcode is kept as ``location_text``.

Excel damage is repaired only when unambiguous (see docs/sources.md): serial
dates (``45296``) and day fractions as times (``0.375``), day/month/hour that
lost a leading zero (``5/1/2024``, ``9:05``), references turned into
``12345.0``. Scientific notation (``5.05E+05``) lost digits and is quarantined.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import geo
from ..errors import SourceError
from . import validate as v
from .base import Source

__all__ = ["Council", "COUNCIL_COLUMNS", "load_postcodes"]

COUNCIL_COLUMNS = (
    "Case Ref",
    "Date Received",
    "Time Received",
    "Category",
    "Sub Category",
    "Postcode",
    "Easting",
    "Northing",
    "Ward",
    "Description",
    "Status",
)

DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
_GSS = re.compile(r"^[EWSN]\d{8}$")


def _fold_postcode(s: pd.Series) -> pd.Series:
    return s.astype("string").str.upper().str.replace(r"\s+", "", regex=True)


def load_postcodes(path) -> dict[str, tuple[float, float]]:
    """Read a postcode centroid lookup CSV (``postcode,easting,northing``, EPSG:27700)."""
    path = Path(path)
    if not path.exists():
        raise SourceError("postcode lookup file not found", file=str(path))
    df = pd.read_csv(path, dtype="string", keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in ("postcode", "easting", "northing") if c not in df.columns]
    if missing:
        raise SourceError(f"required column(s) missing: {', '.join(missing)}", file=str(path))
    e = pd.to_numeric(df["easting"], errors="coerce")
    n = pd.to_numeric(df["northing"], errors="coerce")
    bad = e.isna() | n.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(
            "easting/northing must be numbers", file=str(path), line=i + 2, value=df["easting"][i]
        )
    keys = _fold_postcode(df["postcode"])
    return dict(zip(keys, zip(e.astype(float), n.astype(float), strict=True), strict=True))


class Council(Source):
    """Adapter for council ASB / environmental case logs (``council``).

    Parameters
    ----------
    postcodes : str, Path or dict, optional
        Postcode centroid lookup: a CSV ``postcode,easting,northing`` or a dict
        ``{postcode: (easting, northing)}``; default ``$SCRIBE_POSTCODES`` if set.
        Other parameters as :class:`Source`.
    """

    name = "council"
    required = ("Case Ref", "Date Received", "Category", "Postcode", "Easting", "Northing")
    consumed = (
        "Case Ref",
        "Date Received",
        "Time Received",
        "Postcode",
        "Easting",
        "Northing",
        "Description",
        "Status",
    )

    def __init__(self, partner=None, area=None, mapping=None, *, postcodes=None, **kw):
        super().__init__(partner, area, mapping, **kw)
        postcodes = (
            postcodes if postcodes is not None else os.environ.get("SCRIBE_POSTCODES") or None
        )
        if postcodes is None or isinstance(postcodes, dict):
            table = postcodes or {}
            self.postcodes = {_fold_postcode(pd.Series([k])).iloc[0]: xy for k, xy in table.items()}
        else:
            self.postcodes = load_postcodes(postcodes)

    def harmonise(self, df: pd.DataFrame, rej: v.Rejects) -> dict:
        n = len(df)
        blank = pd.Series([""] * n, dtype="string")
        col = lambda c: df[c] if c in df else blank  # noqa: E731
        ref = v.excel_code(df["Case Ref"], rej, "Case Ref")
        date, date_time = v.parse_dates(
            df["Date Received"], DATE_FORMATS, rej, "Date Received", excel=True
        )
        time, _ = v.parse_times(col("Time Received"), rej, "Time Received", excel=True)
        occurred, start, end, exact = v.when(date, date_time, time)
        instant = np.where(np.isnat(occurred), start, occurred)
        v.check_future(instant, rej, "Date Received", df["Date Received"], self.now)
        cat = v.blank_na(df["Category"]).fillna("")
        sub = v.blank_na(col("Sub Category")).fillna("")
        combined = (cat + " / " + sub).where(sub != "", cat)
        category = self.map_categories([combined, cat], rej, "Category", df["Category"])
        lon, lat, e, nn = v.check_bng(df["Easting"], df["Northing"], rej, ("Easting", "Northing"))
        precision = np.where(np.isfinite(e), 1, 0).astype(np.int32)
        postcode = v.blank_na(df["Postcode"])
        if self.postcodes:
            need = ~np.isfinite(e) & postcode.notna().to_numpy(bool) & ~rej.bad
            if need.any():
                keys = _fold_postcode(postcode[need])
                xy = np.array([self.postcodes.get(k, (np.nan, np.nan)) for k in keys], float)
                idx = np.flatnonzero(need)
                e[idx], nn[idx] = xy[:, 0], xy[:, 1]
                hit = idx[np.isfinite(xy[:, 0])]
                if len(hit):
                    lon[hit], lat[hit] = geo.to_wgs84(e[hit], nn[hit])
                    precision[hit] = 2
        ward = v.blank_na(col("Ward"))
        ward_code = ward.where(ward.fillna("").str.match(_GSS.pattern))
        return {
            "source_record_id": ref,
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
            "location_precision": v.from_codes(precision, ["none", "exact", "postcode"]),
            "location_text": postcode,
            "ward_code": ward_code,
            "outcome": v.blank_na(col("Status")),
            "description": col("Description").astype("string").mask(col("Description") == ""),
            "_coord_field": ("Easting,Northing", v.pair(df["Easting"], df["Northing"])),
        }
