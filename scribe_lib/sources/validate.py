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
import pyarrow as pa
import pyarrow.compute as pc
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
    "as_arrow",
    "as_series",
    "blank_na",
    "constant",
    "from_codes",
    "by_unique",
    "when",
    "excel_code",
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
        self.value[m] = _values_at(values, m)


def _values_at(values, m: np.ndarray) -> np.ndarray:
    """Verbatim text of ``values`` where ``m``; a tuple of columns is joined with ','."""
    if isinstance(values, tuple):
        cols = [_values_at(x, m) for x in values]
        return np.array([",".join(map(str, t)) for t in zip(*cols, strict=True)], object)
    if isinstance(values, pd.Series):
        return np.array(values[m].astype(object).tolist(), object)
    return np.asarray(values, object)[m]


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def as_arrow(s: pd.Series) -> pa.Array:
    """The column as an Arrow string array (zero-copy for Arrow-backed text)."""
    a = pa.array(s.astype("string"))
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def as_series(a) -> pd.Series:
    """An Arrow string array as a pandas ``string`` Series (positional index)."""
    return pd.Series(a.to_pandas(types_mapper=lambda t: pd.StringDtype()))


def from_codes(codes: np.ndarray, values: list[str]) -> pd.Series:
    """A ``string`` Series of ``values[codes]`` (code -1 = missing), built in Arrow."""
    idx = pa.array(np.asarray(codes, np.int32), mask=np.asarray(codes) < 0)
    d = pa.DictionaryArray.from_arrays(idx, pa.array(list(values) or [""], pa.large_string()))
    return as_series(d.cast(pa.large_string()))


def constant(value: str, n: int) -> pd.Series:
    """A ``string`` Series repeating ``value`` ``n`` times."""
    return from_codes(np.zeros(n, np.int32), [value])


def blank_na(s: pd.Series) -> pd.Series:
    """Text with empty (or whitespace-only) fields as missing; other text verbatim."""
    a = as_arrow(s)
    empty = pc.equal(pc.utf8_trim_whitespace(a), "")
    return as_series(pc.if_else(empty, pa.scalar(None, a.type), a))


def by_unique(s: pd.Series, func):
    """Apply ``func`` (vectorised over unique values) and broadcast back to ``s``.

    Dates, months and categories repeat a lot, so this is much faster than
    parsing every row.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    return np.asarray(func(pd.Series(uniques, dtype="string")))[codes]


def numeric(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse numbers: return (values with NaN, empty mask, non-numeric mask).

    Surrounding spaces are allowed; ``nan``/``inf`` are non-numeric.
    """
    a = as_arrow(s)
    empty = pc.equal(pc.utf8_trim_whitespace(a), "").to_numpy(zero_copy_only=False)
    try:  # fast path: every non-empty value is a plain number
        nulled = pc.if_else(pa.array(empty), pa.scalar(None, a.type), a)
        v = pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False).copy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        t = _text(s)
        v = pd.to_numeric(t, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    v[empty] = np.nan
    bad = ~empty & ~np.isfinite(v)
    v[bad] = np.nan
    return v, empty, bad


def parse_month(s: pd.Series, rej: Rejects, field: str) -> np.ndarray:
    """Parse ``YYYY-MM``: return datetime64 month starts (NaT where rejected)."""
    d = by_unique(
        s,
        lambda u: pd.to_datetime(_text(u), format="%Y-%m", errors="coerce").to_numpy(
            "datetime64[ns]"
        ),
    )
    rej.add(np.isnat(d), field, REASONS["month"], s)
    return d


def parse_dates(s: pd.Series, formats: list[str], rej: Rejects, field: str, excel: bool = False):
    """Parse dates trying ``formats`` (strptime) in turn; return (datetime64[ns], has_time).

    Day and month may have lost their leading zero (``5/1/2024``). With
    ``excel=True`` a plain number is read as an Excel serial date (days since
    1899-12-30, the fraction is the time of day), which is unambiguous: a date
    column holding only a number cannot be anything else. Serials before 1990 or
    in the future are quarantined.
    """
    out = by_unique(s, lambda u: _dates(u, formats, excel))
    d = np.array([x[0] for x in out], "datetime64[ns]") if len(out) else np.empty(0, "M8[ns]")
    has_time = np.array([x[1] for x in out], bool)
    status = np.array([x[2] for x in out], np.int8)
    rej.add(status == 1, field, REASONS["missing_date"], s)
    rej.add(status == 2, field, REASONS["excel_date"], s)
    label = " or ".join(_human(f) for f in formats)
    rej.add(status == 3, field, REASONS["date"].format(formats=label), s)
    return d, has_time


def _dates(u: pd.Series, formats: list[str], excel: bool) -> np.ndarray:
    """Parse unique date texts: an object array of (datetime64, has_time, status)."""
    t = _text(u)
    d = np.full(len(t), np.datetime64("NaT"), "datetime64[ns]")
    has_time = np.zeros(len(t), bool)
    for f in formats:
        todo = np.isnat(d)
        if not todo.any():
            break
        got = pd.to_datetime(t[todo], format=f, errors="coerce").to_numpy("datetime64[ns]")
        d[todo] = got
        if "%H" in f:
            has_time[np.flatnonzero(todo)[~np.isnat(got)]] = True
    status = np.where(np.isnat(d), 3, 0).astype(np.int8)
    status[(t == "").to_numpy(bool)] = 1
    if excel:
        num = t.where(t.str.fullmatch(r"\d{4,6}(\.\d+)?"))
        serial = pd.to_numeric(num, errors="coerce").to_numpy("float64", na_value=np.nan)
        is_serial = np.isnat(d) & np.isfinite(serial)
        today = (pd.Timestamp.now() - _EXCEL_EPOCH).days + 1
        ok = is_serial & (serial >= _EXCEL_MIN) & (serial <= today)
        status[is_serial & ~ok] = 2
        if ok.any():
            secs = np.round(serial[ok] * 86400).astype("int64").astype("timedelta64[s]")
            d[ok] = (_EXCEL_EPOCH.to_datetime64() + secs).astype("datetime64[ns]")
            has_time[ok] = (serial[ok] % 1) != 0
            status[ok] = 0
    out = np.empty(len(t), object)
    out[:] = list(zip(d, has_time, status, strict=True))
    return out


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

    An empty time is allowed (the incident then has day precision); an hour that
    lost its leading zero (``9:05``) is fine. With ``excel=True`` a fraction of a
    day (``0.375`` = 09:00, how Excel stores a time) is repaired.
    """
    secs = by_unique(s, lambda u: _seconds(u, excel))
    empty = (s.astype("string").str.strip() == "").to_numpy(bool)
    rej.add(~empty & np.isnan(secs), field, REASONS["time"], s)
    ok = np.isfinite(secs)
    td = np.full(len(secs), np.timedelta64("NaT"), "timedelta64[ns]")
    td[ok] = (secs[ok] * 1e9).astype("int64").astype("timedelta64[ns]")
    return td, ok


def _seconds(u: pd.Series, excel: bool) -> np.ndarray:
    t = _text(u)
    m = t.str.extract(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
    h = pd.to_numeric(m[0], errors="coerce").to_numpy("float64", na_value=np.nan)
    mi = pd.to_numeric(m[1], errors="coerce").to_numpy("float64", na_value=np.nan)
    sec = np.nan_to_num(pd.to_numeric(m[2], errors="coerce").to_numpy("float64", na_value=np.nan))
    secs = h * 3600 + mi * 60 + sec
    with np.errstate(invalid="ignore"):
        secs[~((h < 24) & (mi < 60) & (sec < 60))] = np.nan
    if excel:
        frac = pd.to_numeric(t.where(t.str.fullmatch(r"0?\.\d+|0")), errors="coerce")
        frac = frac.to_numpy("float64", na_value=np.nan)
        use = np.isnan(secs) & np.isfinite(frac) & (frac < 1)
        secs[use] = np.round(frac[use] * 86400)
    return secs


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
    pf = f"{fields[0]},{fields[1]}"
    rej.add(lon_bad, fields[0], REASONS["non_numeric"], lon_s)
    rej.add(lat_bad, fields[1], REASONS["non_numeric"], lat_s)
    rej.add(lon_e ^ lat_e, pf, REASONS["half"], both)
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
        rej.add(bng, pf, REASONS["bng_in_lonlat"], both)
        rej.add((np.abs(lat) > 90) | (np.abs(lon) > 180), pf, REASONS["impossible"], both)
        in_lon = (lon >= _GB_LON[0]) & (lon <= _GB_LON[1])
        in_lat = (lat >= _GB_LAT[0]) & (lat <= _GB_LAT[1])
        swapped = ~in_lon & ~in_lat & (lat >= _GB_LON[0]) & (lat <= _GB_LON[1])
        swapped &= (lon >= _GB_LAT[0]) & (lon <= _GB_LAT[1])
        rej.add(swapped, pf, REASONS["swapped"], both)
        has = np.isfinite(lon) & np.isfinite(lat) & ~rej.bad
        rej.add(has & ~(in_lon & in_lat), pf, REASONS["outside_gb"], both)
    has = np.isfinite(lon) & np.isfinite(lat) & ~rej.bad
    e = np.full(len(lon), np.nan)
    n = np.full(len(lon), np.nan)
    if has.any():
        e[has], n[has] = geo.to_bng(lon[has], lat[has])
        rej.add(has & np.isnan(e), pf, REASONS["outside_gb"], both)
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
    pf = f"{fields[0]},{fields[1]}"
    rej.add(_sci_lossy(e_s), fields[0], REASONS["sci"], e_s)
    rej.add(_sci_lossy(n_s), fields[1], REASONS["sci"], n_s)
    rej.add(e_bad, fields[0], REASONS["non_numeric"], e_s)
    rej.add(n_bad, fields[1], REASONS["non_numeric"], n_s)
    rej.add(e_e ^ n_e, pf, REASONS["half"], both)
    zero = (e == 0) & (n == 0)
    e[zero] = np.nan
    n[zero] = np.nan
    with np.errstate(invalid="ignore"):
        deg = (np.abs(e) <= 180) & (np.abs(n) <= 90)
        rej.add(deg, pf, REASONS["lonlat_in_bng"], both)
        off = (e < 0) | (e > 700_000) | (n < 0) | (n > 1_300_000)
        rej.add(off, pf, REASONS["outside_bng"], both)
    has = np.isfinite(e) & np.isfinite(n) & ~rej.bad
    lon = np.full(len(e), np.nan)
    lat = np.full(len(e), np.nan)
    if has.any():
        lon[has], lat[has] = geo.to_wgs84(e[has], n[has])
        rej.add(has & np.isnan(lon), pf, REASONS["outside_bng"], both)
    keep = has & np.isfinite(lon)
    e[~keep] = np.nan
    n[~keep] = np.nan
    return lon, lat, e, n


def _sci_lossy(s: pd.Series) -> np.ndarray:
    """Excel's scientific notation that lost digits.

    ``5.05E+05`` shows 3 significant digits of a 6-digit number: the metres are
    lost (rejected). ``5.04981E+05`` kept every digit and is repaired simply by
    reading it as a number.
    """
    t = _text(s)
    m = t.str.extract(r"^(\d+)(?:\.(\d*))?[eE]\+?(\d+)$")
    hit = m[0].notna().to_numpy(bool)
    if not hit.any():
        return hit
    frac = m[1].fillna("").str.len().to_numpy("int64")
    exp = pd.to_numeric(m[2], errors="coerce").fillna(0).to_numpy("int64")
    return hit & (frac < exp)  # fewer decimals than the exponent: units were lost


def pair(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Two columns whose verbatim text is quarantined together as ``a,b``."""
    return (a, b)


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


def when(date: np.ndarray, date_has_time: np.ndarray, time: np.ndarray | None = None):
    """Combine a date (maybe with time) and an optional time of day into the time model.

    Returns (occurred_at, period_start, period_end, precision codes) where the period
    is the calendar day and the code is 1 (``exact``) when a time is known, else 0
    (``day``). ``time`` is timedelta64 with NaT where absent.
    """
    day = date.astype("datetime64[D]").astype("datetime64[ns]")
    occurred = np.where(date_has_time, date, np.datetime64("NaT", "ns"))
    if time is not None:
        add = ~date_has_time & ~np.isnat(time)
        occurred = np.where(add, day + time, occurred)
    exact = ~np.isnat(occurred)
    return occurred, day, day + np.timedelta64(1, "D"), exact.astype(np.int32)


def excel_code(s: pd.Series, rej: Rejects, field: str) -> pd.Series:
    """Repair an identifier Excel turned into a number: ``12345.0`` -> ``12345``.

    Scientific notation (``1.23E+05``) has lost digits: rejected. Returns text with
    empty values as missing.
    """
    t = blank_na(s)
    sci = t.str.fullmatch(r"\s*[\d.]+[eE][+-]?\d+\s*").fillna(False).to_numpy(bool)
    rej.add(sci, field, REASONS["sci"], s)
    return t.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
