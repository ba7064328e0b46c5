"""Trends: counts per period, rolling means, the same period last year, tested changes.

Counts honour the SCRIBE time model: a month a partner never sent is *no data*
(NaN), never 0, when a coverage frame (:func:`scribe_lib.api.coverage`) is given.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ScribeError
from ._periods import assign_periods, month_based, partner_months, resolve_freq
from ._ratetest import compare_periods
from ._where import hour_weekday, repeat_locations

__all__ = ["counts_by_period", "compare_periods", "hour_weekday", "repeat_locations"]


def _with_area(incidents: pd.DataFrame, areas: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if areas is None:
        return incidents
    if "name" not in areas:
        raise ScribeError("areas must have a 'name' column (e.g. scribe_lib.localities())")
    pts = gpd.GeoDataFrame(incidents[["geometry"]].copy(), geometry="geometry", crs=incidents.crs)
    hit_pt, hit_area = areas.sindex.query(pts.geometry.values, predicate="intersects")
    first = pd.Series(hit_area, index=hit_pt).groupby(level=0).min()
    name = pd.Series(pd.NA, index=range(len(pts)), dtype="string")
    name.iloc[first.index.to_numpy()] = (
        areas["name"].astype("string").iloc[first.to_numpy()].to_numpy()
    )
    out = incidents.copy()
    out["area"] = name.to_numpy()
    return out


def _covered(coverage: pd.DataFrame, edges: pd.DatetimeIndex) -> pd.DataFrame:
    """partner x period -> True when every month touching the period has data."""
    has = partner_months(coverage)
    rows = []
    for p in range(len(edges) - 1):
        months = pd.period_range(edges[p], edges[p + 1] - pd.Timedelta(days=1), freq="M")
        for partner in has.index.get_level_values(0).unique():
            ok = all(bool(has.get((partner, m), False)) for m in months)
            rows.append((partner, p, ok))
    return pd.DataFrame(rows, columns=["partner", "_p", "covered"])


def counts_by_period(
    incidents: pd.DataFrame,
    freq: str = "month",
    by=None,
    *,
    coverage: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    window: int = 3,
    harm=None,
    start=None,
    end=None,
) -> pd.DataFrame:
    """Incidents per period (and per group), with a rolling mean and last year's count.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Harmonised incidents (from :func:`scribe_lib.load`).
    freq : str
        ``"month"`` (default), ``"week"`` (Monday starts), ``"day"``, ``"quarter"``,
        ``"year"`` or a pandas frequency. Month-precision incidents are left out (with a
        warning) of periods that are not whole months.
    by : str or list of str, optional
        Columns to count by: ``"category"``, ``"partner"``, ``"ward_code"``..., or
        ``"area"`` together with ``areas``.
    coverage : pandas.DataFrame, optional
        ``partner, month, status`` (:func:`scribe_lib.api.coverage`). A period for which a
        partner has ``no data`` in any month it touches gets NaN (not 0) in its rows when
        ``by`` includes ``"partner"``; otherwise ``complete`` is False for that period and
        ``count`` is NaN if no partner has data.
    areas : geopandas.GeoDataFrame, optional
        Polygons with a ``name`` column; each located incident gets the first area holding
        it; incidents outside every area (or without a location) get ``area`` NA and are kept.
    window : int
        Periods in the trailing rolling mean (NaN until ``window`` periods with data exist).
    harm : bool, dict, str or path, optional
        Harm weights per category (:func:`scribe_lib.stats.load_harm_weights`; True = the
        built-in table): adds ``harm``, the sum of the incidents' weights (NaN = no data).
    start, end : date-like, optional
        First and last day counted (default: the incidents' span).

    Returns
    -------
    pandas.DataFrame
        ``period`` (start date), the ``by`` columns, ``count`` (incidents; float, NaN = no
        data), ``rolling_mean`` (mean of the ``window`` periods ending at this one),
        ``last_year`` (count of the same period a year earlier: 12 months for month-based
        periods, 52 weeks = 364 days otherwise, so weekdays line up), ``change_vs_last_year``
        (count - last_year) and ``complete`` (every partner covered).
    """
    by = [by] if isinstance(by, str) else list(by or [])
    if int(window) != window or window < 1:
        raise ScribeError(f"window must be a whole number of periods >= 1, not {window!r}")
    df = _with_area(incidents, areas)
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise ScribeError(f"cannot count by {missing}: no such column (have {list(df.columns)})")
    f = resolve_freq(freq)
    idx, edges = assign_periods(df, f, start=start, end=end)
    keep = idx >= 0
    sel = df.loc[keep, by].copy()
    sel["_p"] = idx[keep]
    sel["count"] = 1.0
    weighted = harm is not None and harm is not False
    if weighted:
        from .harm import harm_values

        sel["harm"] = harm_values(df.loc[keep], harm).to_numpy(float)
    values = ["count", "harm"] if weighted else ["count"]
    counts = sel.groupby(["_p", *by], dropna=False, observed=True)[values].sum()
    periods = pd.DataFrame({"_p": np.arange(len(edges) - 1)})
    if by:  # every period x every group seen in the data (empty periods as 0)
        full = periods.merge(df[by].drop_duplicates(), how="cross")
        full = pd.MultiIndex.from_frame(full)
    else:
        full = pd.Index(periods["_p"], name="_p")
    out = counts.reindex(full, fill_value=0).astype(float).reset_index()
    out["complete"] = True
    if coverage is not None:
        cov = _covered(coverage, edges)
        if "partner" in by:
            out = out.merge(cov, on=["partner", "_p"], how="left")
            out.loc[out["covered"].eq(False), values] = np.nan
            out["complete"] = out["covered"].fillna(True).astype(bool)
        else:
            partners = pd.unique(df["partner"].dropna()) if "partner" in df else []
            c = cov[cov["partner"].isin(partners)].groupby("_p")["covered"]
            out["complete"] = out["_p"].map(c.all()).fillna(True).astype(bool)
            out.loc[~out["_p"].map(c.any()).fillna(True).astype(bool), values] = np.nan
        out = out.drop(columns="covered", errors="ignore")
    out.insert(0, "period", edges[:-1][out["_p"].to_numpy()])
    out = out.sort_values([*by, "_p"], kind="stable").reset_index(drop=True)
    roll = out["count"].rolling(window, min_periods=window)
    if by:
        roll = out.groupby(by, dropna=False, sort=False)["count"].rolling(
            window, min_periods=window
        )
        out["rolling_mean"] = roll.mean().reset_index(level=list(range(len(by))), drop=True)
    else:
        out["rolling_mean"] = roll.mean()
    shift = pd.DateOffset(years=1) if month_based(f) else pd.Timedelta(days=364)
    prev = out[["period", *by, "count"]].rename(columns={"count": "last_year"})
    prev["period"] = prev["period"] + shift
    out = out.merge(prev, on=["period", *by], how="left")
    out["change_vs_last_year"] = out["count"] - out["last_year"]
    cols = ["period", *by, *values, "rolling_mean", "last_year", "change_vs_last_year", "complete"]
    return out[cols]
