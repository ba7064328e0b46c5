"""Time periods of harmonised incidents (private helper of trends and emerging hot spots).

The SCRIBE time model (docs/ARCHITECTURE.md): ``occurred_at`` when the source has
a time, always ``period_start`` (inclusive) / ``period_end`` (exclusive) and
``time_precision`` exact | day | month. A month-precision incident (police.uk)
can only be placed in month-based periods; week or day periods need exact or
day precision.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import ScribeError

__all__ = [
    "event_time",
    "period_edges",
    "assign_periods",
    "resolve_freq",
    "month_based",
    "partner_months",
    "coverage_gaps",
]

#: friendly names -> pandas frequency strings (period starts).
_FREQ_ALIASES = {"month": "MS", "week": "W-MON", "day": "D", "quarter": "QS", "year": "YS"}


def resolve_freq(freq: str) -> str:
    """Map ``"month"``, ``"week"``, ``"day"``, ``"quarter"``, ``"year"`` or a pandas
    frequency string (e.g. ``"14D"``, ``"2MS"``) to a pandas frequency string."""
    if not isinstance(freq, str) or not freq:
        raise ScribeError(f"period must be a string such as 'month' or 'week', not {freq!r}")
    f = _FREQ_ALIASES.get(freq.lower(), freq)
    try:
        pd.tseries.frequencies.to_offset(f)
    except ValueError as exc:
        raise ScribeError(
            f"unknown period {freq!r}: use month, week, day, quarter, year "
            "or a pandas frequency such as '14D' or '2MS'"
        ) from exc
    return f


def month_based(freq: str) -> bool:
    """True when periods of ``freq`` are whole calendar months (MS, QS, YS and multiples)."""
    off = pd.tseries.frequencies.to_offset(resolve_freq(freq))
    return isinstance(off, pd.offsets.MonthBegin | pd.offsets.QuarterBegin | pd.offsets.YearBegin)


def event_time(incidents: pd.DataFrame) -> pd.Series:
    """When each incident happened: ``occurred_at`` if known, else ``period_start``."""
    occ = pd.to_datetime(incidents["occurred_at"]) if "occurred_at" in incidents else None
    start = pd.to_datetime(incidents["period_start"])
    return start if occ is None else occ.fillna(start)


def _precision(incidents: pd.DataFrame) -> pd.Series:
    if "time_precision" in incidents:
        return incidents["time_precision"].astype("string").fillna("month")
    return pd.Series("exact", index=incidents.index, dtype="string")


def period_edges(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Edges of the periods covering ``[start, end]``: period *i* is ``[edges[i], edges[i+1])``.

    The first edge is ``start`` rolled back to a period start of ``freq`` (for
    multiples such as ``"14D"``: ``start`` itself, floored to the day).
    """
    f = resolve_freq(freq)
    off = pd.tseries.frequencies.to_offset(f)
    start = pd.Timestamp(start).normalize()
    first = start if off.n != 1 or off.is_on_offset(start) else off.rollback(start)
    if off.n != 1 and month_based(f):
        first = pd.offsets.MonthBegin(1).rollback(start)
    edges = pd.date_range(first, periods=2, freq=f)
    while edges[-1] <= pd.Timestamp(end):
        edges = pd.date_range(first, periods=len(edges) * 2, freq=f)
    keep = int(np.searchsorted(edges.values, np.datetime64(pd.Timestamp(end)), side="right"))
    return edges[: keep + 1]


def assign_periods(
    incidents: pd.DataFrame,
    freq: str,
    start=None,
    end=None,
) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Period index of each incident (-1 when it cannot be placed) and the period edges.

    Month-precision incidents get -1 (with one warning) when ``freq`` is not
    month-based; incidents before ``start`` or at/after the last edge get -1.
    """
    f = resolve_freq(freq)
    t = event_time(incidents)
    usable = t.notna().to_numpy().copy()
    if not month_based(f):
        monthly = (_precision(incidents) == "month").to_numpy()
        if monthly.any():
            warnings.warn(
                f"{int(monthly.sum())} incident(s) known only to the month were left out of "
                f"{freq!r} periods (a month cannot be split into weeks or days)",
                stacklevel=3,
            )
        usable &= ~monthly
    if not usable.any() and start is None:
        raise ScribeError("no incident has a usable date for these periods")
    lo = pd.Timestamp(start) if start is not None else t[usable].min()
    hi = pd.Timestamp(end) if end is not None else t[usable].max()
    edges = period_edges(lo, hi, f)
    idx = np.searchsorted(edges.values, t.to_numpy(dtype="datetime64[ns]"), side="right") - 1
    idx = np.where(usable & (idx >= 0) & (idx < len(edges) - 1), idx, -1)
    return idx.astype(np.int64), edges


def partner_months(coverage: pd.DataFrame) -> pd.Series:
    """(partner, month period) -> True when any of the partner's sources sent data.

    ``coverage`` is :func:`scribe_lib.api.coverage` (partner, source, month, status).
    """
    need = {"partner", "month", "status"}
    if not need <= set(coverage.columns):
        raise ScribeError(
            f"coverage must have the columns {sorted(need)} (scribe_lib.api.coverage())"
        )
    cov = coverage.assign(month=pd.to_datetime(coverage["month"]).dt.to_period("M"))
    return (
        cov.assign(ok=cov["status"].astype(str) == "data").groupby(["partner", "month"])["ok"].any()
    )


def coverage_gaps(coverage: pd.DataFrame, partners, first, last) -> dict[str, list[str]]:
    """Months in ``[first, last]`` (as "YYYY-MM") for which each of ``partners`` sent no data.

    ``coverage`` is :func:`scribe_lib.api.coverage` (partner, source, month, status); a
    partner has data for a month when any of its sources has. Partners absent from the
    coverage frame are not reported (nothing is known about them).
    """
    has = partner_months(coverage)
    months = pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq="M")
    gaps = {}
    for p in partners:
        if p not in has.index.get_level_values(0):
            continue
        missing = [str(m) for m in months if not bool(has.get((p, m), False))]
        if missing:
            gaps[str(p)] = missing
    return gaps
