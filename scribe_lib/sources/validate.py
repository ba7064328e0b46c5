"""Vectorised row validation shared by the adapters: dates, times and Excel damage.

Each check takes text columns (as read: every field is text) and returns
parsed values; problems are recorded in a :class:`Rejects` collector that
keeps the *first* problem of each row. This module also re-exports the
column and coordinate helpers, so an adapter needs only ``from . import
validate as v``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .columns import (
    as_arrow,
    as_series,
    blank_mask,
    blank_na,
    by_unique,
    constant,
    from_codes,
    numeric,
    text,
    with_nulls,
)
from .coords import check_area, check_bng, check_lonlat, pair
from .rejects import REASONS, Rejects

__all__ = [
    "REASONS",
    "Rejects",
    "as_arrow",
    "as_series",
    "blank_mask",
    "blank_na",
    "by_unique",
    "check_area",
    "check_bng",
    "check_future",
    "check_lonlat",
    "constant",
    "excel_code",
    "from_codes",
    "numeric",
    "pair",
    "parse_dates",
    "parse_month",
    "parse_times",
    "text",
    "when",
    "with_nulls",
]

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_MIN = 32874  # 1990-01-01: earlier serials are not plausible incident dates


def parse_month(s: pd.Series, rej: Rejects, field: str) -> np.ndarray:
    """Parse ``YYYY-MM``: return datetime64 month starts (NaT where rejected)."""
    d = by_unique(
        s,
        lambda u: pd.to_datetime(text(u), format="%Y-%m", errors="coerce").to_numpy(
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
    t = text(u)
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
    lost its leading zero (``9:05``) is fine. With ``excel=True``, Excel damage is
    repaired when unambiguous: a fraction of a day (``0.375`` = 09:00, how Excel
    stores a time) and an ``HHMM`` time that became a number (``0930`` -> ``930`` =
    09:30). One or two digits (``5``: 00:05 or 05:00?) are quarantined.
    """
    secs = by_unique(s, lambda u: _seconds(u, excel))
    empty = (s.astype("string").str.strip() == "").to_numpy(bool)
    rej.add(secs == -1, field, REASONS["time_zeros"], s)
    rej.add(~empty & np.isnan(secs), field, REASONS["time"], s)
    ok = np.isfinite(secs)
    td = np.full(len(secs), np.timedelta64("NaT"), "timedelta64[ns]")
    td[ok] = (secs[ok] * 1e9).astype("int64").astype("timedelta64[ns]")
    return td, ok


def _seconds(u: pd.Series, excel: bool) -> np.ndarray:
    t = text(u)
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
        hhmm = t.str.extract(r"^(\d{1,2})(\d{2})$")  # 930, 0930, 2145
        h = pd.to_numeric(hhmm[0], errors="coerce").to_numpy("float64", na_value=np.nan)
        mi = pd.to_numeric(hhmm[1], errors="coerce").to_numpy("float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            use = np.isnan(secs) & (h < 24) & (mi < 60)
        secs[use] = h[use] * 3600 + mi[use] * 60
        short = np.isnan(secs) & t.str.fullmatch(r"\d{1,2}").fillna(False).to_numpy(bool)
        secs[short] = -1  # leading zeros lost: ambiguous
    return secs


def check_future(start: np.ndarray, rej: Rejects, field: str, values, now=None) -> None:
    """Reject dates after ``now`` (default: the current Europe/London time)."""
    now = np.datetime64(now or _london_now(), "ns")
    rej.add(~np.isnat(start) & (start > now), field, REASONS["future"], values)


def _london_now() -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Europe/London")).replace(tzinfo=None)


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
