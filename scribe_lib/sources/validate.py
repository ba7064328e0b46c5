"""Vectorised row validation shared by the adapters.

Each check takes text columns (as read: every field is text) and returns
parsed values; problems are recorded in a :class:`Rejects` collector that
keeps the *first* problem of each row. The reasons are plain English and
part of the interface (tests assert them verbatim): see ``REASONS``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

from .. import geo

__all__ = [
    "Rejects",
    "REASONS",
    "numeric",
    "parse_dates",
    "parse_month",
    "parse_times",
    "check_lonlat",
    "check_bng",
    "check_area",
    "pair",
    "check_future",
]

#: every row-level quarantine reason an adapter gives (besides malformed CSV lines).
REASONS = {
    "month": "unparseable month (expected YYYY-MM)",
    "date": "unparseable date (expected {formats})",
    "excel_date": "Excel serial date out of range (cannot be repaired)",
    "time": "unparseable time (expected HH:MM or HH:MM:SS)",
    "future": "date in the future",
    "missing_date": "date is empty",
    "non_numeric": "non-numeric coordinate",
    "half": "only one of the two coordinates given",
    "impossible": "impossible coordinate (latitude must be within -90..90, longitude within -180..180)",
    "swapped": "latitude and longitude swapped",
    "bng_in_lonlat": "BNG metres in latitude/longitude columns",
    "outside_gb": "coordinate outside Great Britain (no OSTN15 transformation)",
    "lonlat_in_bng": "latitude/longitude degrees in easting/northing columns",
    "outside_bng": "easting/northing outside the British National Grid",
    "area": "outside the partnership area",
    "category": "category with no mapping",
    "sci": "value mangled by Excel into scientific notation (cannot be repaired)",
}

# A generous box around Great Britain and its islands (OSTN15 coverage).
_GB_LON = (-9.0, 2.5)
_GB_LAT = (49.0, 61.5)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_MIN = 32874  # 1990-01-01: earlier serials are not plausible incident dates


class Rejects:
    """The first problem found for each row of a chunk.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n: int):
        self.bad = np.zeros(n, bool)
        self.field = np.full(n, None, object)
        self.value = np.full(n, None, object)
        self.reason = np.full(n, None, object)

    def add(self, mask, field: str, reason: str, values) -> None:
        """Reject rows where ``mask`` is true and that have no earlier problem."""
        m = np.asarray(mask, bool) & ~self.bad
        if not m.any():
            return
        self.bad |= m
        self.field[m] = field
        self.reason[m] = reason
        vals = (
            values.to_numpy(object) if isinstance(values, pd.Series) else np.asarray(values, object)
        )
        self.value[m] = vals[m]


def _text(s: pd.Series) -> pd.Series:
    return s.astype("str").str.strip()


def numeric(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse numbers: return (values with NaN, empty mask, non-numeric mask)."""
    t = _text(s)
    empty = (t == "").to_numpy()
    v = pd.to_numeric(t, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    bad = ~empty & ~np.isfinite(v)
    v[bad] = np.nan
    return v, empty, bad


def parse_month(s: pd.Series, rej: Rejects, field: str) -> np.ndarray:
    """Parse ``YYYY-MM``: return datetime64 month starts (NaT where rejected)."""
    t = _text(s)
    d = pd.to_datetime(t, format="%Y-%m", errors="coerce").to_numpy("datetime64[ns]")
    rej.add(np.isnat(d), field, REASONS["month"], s)
    return d


def parse_dates(s: pd.Series, formats: list[str], rej: Rejects, field: str, excel: bool = False):
    """Parse dates trying ``formats`` in turn; return (datetime64[ns], has_time).

    With ``excel=True`` a plain number is read as an Excel serial date (days since
    1899-12-30, the fraction is the time of day), which is unambiguous: a date
    column holding only digits cannot be anything else. Serials before 1990 or in
    the future are quarantined.
    """
    t = _text(s)
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]")
    has_time = np.zeros(len(t), bool)
    for f in formats:
        todo = out.isna()
        if not todo.any():
            break
        d = pd.to_datetime(t[todo], format=f, errors="coerce")
        out[todo] = d
        if "%H" in f:
            has_time[(todo & d.reindex(t.index).notna()).to_numpy()] = True
    d = out.to_numpy("datetime64[ns]")
    empty = (t == "").to_numpy()
    rej.add(empty, field, REASONS["missing_date"], s)
    if excel:
        serial = pd.to_numeric(t.where(t.str.fullmatch(r"\d{4,6}(\.\d+)?")), errors="coerce")
        serial = serial.to_numpy("float64", na_value=np.nan)
        is_serial = np.isnat(d) & np.isfinite(serial)
        today = (pd.Timestamp.now() - _EXCEL_EPOCH).days + 1
        ok = is_serial & (serial >= _EXCEL_MIN) & (serial <= today)
        rej.add(is_serial & ~ok, field, REASONS["excel_date"], s)
        if ok.any():
            conv = _EXCEL_EPOCH.to_datetime64() + np.round(serial[ok] * 86400).astype(
                "timedelta64[s]"
            )
            d[ok] = conv.astype("datetime64[ns]")
            has_time[ok] = (serial[ok] % 1) != 0
    label = " or ".join(_human(f) for f in formats)
    rej.add(np.isnat(d), field, REASONS["date"].format(formats=label), s)
    return d, has_time


def _human(fmt: str) -> str:
    for a, b in (
        ("%d", "DD"),
        ("%m", "MM"),
        ("%Y", "YYYY"),
        ("%H", "HH"),
        ("%M", "MM"),
        ("%S", "SS"),
    ):
        fmt = fmt.replace(a, b)
    return fmt


def parse_times(s: pd.Series, rej: Rejects, field: str, excel: bool = False):
    """Parse ``H:MM[:SS]`` times: return (timedelta64[ns] with NaT, present mask).

    An empty time is allowed (the incident then has day precision). With
    ``excel=True`` a fraction of a day (``0.375`` = 09:00) is repaired.
    """
    t = _text(s)
    empty = (t == "").to_numpy()
    m = t.str.extract(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
    h = pd.to_numeric(m[0], errors="coerce").to_numpy("float64", na_value=np.nan)
    mi = pd.to_numeric(m[1], errors="coerce").to_numpy("float64", na_value=np.nan)
    sec = pd.to_numeric(m[2], errors="coerce").to_numpy("float64", na_value=np.nan)
    secs = h * 3600 + mi * 60 + np.nan_to_num(sec)
    okv = (h < 24) & (mi < 60) & (np.nan_to_num(sec) < 60)
    secs[~okv] = np.nan
    if excel:
        frac = pd.to_numeric(t.where(t.str.fullmatch(r"0?\.\d+|0")), errors="coerce")
        frac = frac.to_numpy("float64", na_value=np.nan)
        use = np.isnan(secs) & np.isfinite(frac) & (frac < 1)
        secs[use] = np.round(frac[use] * 86400)
    rej.add(~empty & np.isnan(secs), field, REASONS["time"], s)
    td = np.full(len(t), np.timedelta64("NaT"), "timedelta64[ns]")
    ok = np.isfinite(secs)
    td[ok] = (secs[ok] * 1e9).astype("int64").astype("timedelta64[ns]")
    return td, ok


def check_future(start: np.ndarray, rej: Rejects, field: str, values, now=None) -> None:
    """Reject dates after ``now`` (default: the current Europe/London time)."""
    now = np.datetime64(now or _london_now(), "ns")
    rej.add(~np.isnat(start) & (start > now), field, REASONS["future"], values)


def _london_now() -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/London")).replace(tzinfo=None)


def check_lonlat(lon_s: pd.Series, lat_s: pd.Series, rej: Rejects, fields: tuple[str, str]):
    """Validate WGS84 columns; return (lon, lat, easting, northing), NaN = no location.

    Empty coordinates and (0, 0) (police.uk's rule for unmappable points) mean
    no location. Swapped axes and BNG metres in the degree columns are rejected.
    """
    lon, lon_e, lon_bad = numeric(lon_s)
    lat, lat_e, lat_bad = numeric(lat_s)
    both = pair(lon_s, lat_s)
    rej.add(lon_bad, fields[0], REASONS["non_numeric"], lon_s)
    rej.add(lat_bad, fields[1], REASONS["non_numeric"], lat_s)
    rej.add(lon_e ^ lat_e, fields[0] if lon_e.any() else fields[1], REASONS["half"], both)
    zero = (lon == 0) & (lat == 0)
    lon[zero] = np.nan
    lat[zero] = np.nan
    with np.errstate(invalid="ignore"):
        bng = (
            (lon >= 0)
            & (lon <= 700_000)
            & (lat >= 0)
            & (lat <= 1_300_000)
            & ((lon > 180) | (lat > 90))
        )
        rej.add(bng, fields[0], REASONS["bng_in_lonlat"], both)
        rej.add((np.abs(lat) > 90) | (np.abs(lon) > 180), fields[1], REASONS["impossible"], both)
        in_lon = (lon >= _GB_LON[0]) & (lon <= _GB_LON[1])
        in_lat = (lat >= _GB_LAT[0]) & (lat <= _GB_LAT[1])
        swapped = ~in_lon & ~in_lat & (lat >= _GB_LON[0]) & (lat <= _GB_LON[1])
        swapped &= (lon >= _GB_LAT[0]) & (lon <= _GB_LAT[1])
        rej.add(swapped, fields[1], REASONS["swapped"], both)
        has = np.isfinite(lon) & np.isfinite(lat) & ~rej.bad
        rej.add(has & ~(in_lon & in_lat), fields[1], REASONS["outside_gb"], both)
    has = np.isfinite(lon) & np.isfinite(lat) & ~rej.bad
    e = np.full(len(lon), np.nan)
    n = np.full(len(lon), np.nan)
    if has.any():
        e[has], n[has] = geo.to_bng(lon[has], lat[has])
        rej.add(has & np.isnan(e), fields[1], REASONS["outside_gb"], both)
    keep = has & np.isfinite(e)
    lon[~keep] = np.nan
    lat[~keep] = np.nan
    return lon, lat, e, n


def check_bng(e_s: pd.Series, n_s: pd.Series, rej: Rejects, fields: tuple[str, str]):
    """Validate British National Grid columns; return (lon, lat, easting, northing).

    Empty values and (0, 0) mean no location; degrees in metre columns and points
    off the grid are rejected. lon/lat come from OSTN15.
    """
    e, e_e, e_bad = numeric(e_s)
    n, n_e, n_bad = numeric(n_s)
    both = pair(e_s, n_s)
    rej.add(e_bad | _sci(e_s), fields[0], REASONS["non_numeric"], e_s)
    rej.add(n_bad | _sci(n_s), fields[1], REASONS["non_numeric"], n_s)
    rej.add(e_e ^ n_e, fields[0] if e_e.any() else fields[1], REASONS["half"], both)
    zero = (e == 0) & (n == 0)
    e[zero] = np.nan
    n[zero] = np.nan
    with np.errstate(invalid="ignore"):
        deg = (np.abs(e) <= 180) & (np.abs(n) <= 90)
        rej.add(deg, fields[0], REASONS["lonlat_in_bng"], both)
        off = (e < 0) | (e > 700_000) | (n < 0) | (n > 1_300_000)
        rej.add(off, fields[0], REASONS["outside_bng"], both)
    has = np.isfinite(e) & np.isfinite(n) & ~rej.bad
    lon = np.full(len(e), np.nan)
    lat = np.full(len(e), np.nan)
    if has.any():
        lon[has], lat[has] = geo.to_wgs84(e[has], n[has])
        rej.add(has & np.isnan(lon), fields[0], REASONS["outside_bng"], both)
    keep = has & np.isfinite(lon)
    e[~keep] = np.nan
    n[~keep] = np.nan
    return lon, lat, e, n


def _sci(s: pd.Series) -> np.ndarray:
    """Excel's scientific notation (``5.05E+05``): digits were lost."""
    return _text(s).str.contains(r"^[\d.]+[eE][+-]?\d+$", regex=True).to_numpy(bool)


def pair(a: pd.Series, b: pd.Series) -> np.ndarray:
    """``a,b`` text of two columns, verbatim (the quarantined value of a coordinate)."""
    return (a.astype("str") + "," + b.astype("str")).to_numpy(object)


def check_area(area, e: np.ndarray, n: np.ndarray, rej: Rejects, field: str, values) -> None:
    """Reject located points outside ``area`` (shapely geometry, EPSG:27700).

    Points on the boundary count as inside.
    """
    if area is None:
        return
    has = np.isfinite(e) & np.isfinite(n) & ~rej.bad
    if not has.any():
        return
    shapely.prepare(area)
    inside = np.zeros(len(e), bool)
    inside[has] = shapely.intersects_xy(area, e[has], n[has])
    rej.add(has & ~inside, field, REASONS["area"], values)
