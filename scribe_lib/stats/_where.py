"""When and where incidents repeat: hour x weekday, repeat locations (private; see trends)."""

from __future__ import annotations

import pandas as pd

from ..errors import ScribeError

__all__ = ["hour_weekday", "repeat_locations", "WEEKDAYS"]

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def hour_weekday(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents by hour of day x day of week, for incidents with an exact time only.

    Incidents known only to the day or the month (``time_precision`` day | month, or no
    ``occurred_at``) are left out: spreading them over hours would invent a pattern.

    Returns
    -------
    pandas.DataFrame
        24 rows (``hour`` 0-23, local wall time as recorded) x 7 columns (``Mon``..``Sun``)
        of counts; ``attrs["used"]`` and ``attrs["left_out"]`` count the incidents.
    """
    if "occurred_at" not in incidents:
        raise ScribeError("incidents have no 'occurred_at' column (use scribe_lib.load())")
    t = pd.to_datetime(incidents["occurred_at"])
    exact = t.notna()
    if "time_precision" in incidents:
        exact &= incidents["time_precision"].astype("string").eq("exact").fillna(False)
    t = t[exact]
    table = (
        pd.crosstab(t.dt.hour, t.dt.day_of_week)
        .reindex(index=range(24), columns=range(7), fill_value=0)
        .astype("int64")
    )
    table.index.name = "hour"
    table.columns = pd.Index(WEEKDAYS, name="weekday")
    table.attrs.update(used=int(exact.sum()), left_out=int((~exact).sum()))
    return table


def repeat_locations(
    incidents: pd.DataFrame, min_count: int = 2, by: str = "point"
) -> pd.DataFrame:
    """Locations with at least ``min_count`` incidents, most first.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Harmonised incidents.
    min_count : int
        Smallest count kept (default 2: a repeat).
    by : {"point", "text"}
        ``"point"``: identical coordinates (easting, northing; police.uk snaps crimes to
        street points, so one point is one "On or near ..." location); ``"text"``:
        ``location_text`` compared case- and space-insensitively.

    Returns
    -------
    pandas.DataFrame
        ``easting, northing`` (metres, EPSG:27700; for ``"text"`` the mean point),
        ``location_text`` (most common spelling), ``incidents``, ``categories`` (category:
        count, most first), ``partners``, ``first``, ``last`` (period start dates).
    """
    if by not in ("point", "text"):
        raise ScribeError(f"by must be 'point' or 'text', not {by!r}")
    if int(min_count) != min_count or min_count < 1:
        raise ScribeError(f"min_count must be a whole number >= 1, not {min_count!r}")
    df = incidents
    if by == "point":
        df = df[df["easting"].notna() & df["northing"].notna()]
        work = df.assign(_k1=df["easting"], _k2=df["northing"])
    else:
        text = df["location_text"].astype("string").str.strip().str.casefold()
        text = text.str.replace(r"\s+", " ", regex=True)
        work = df.assign(_k1=text, _k2="")[text.notna() & text.ne("")]
    g = work.groupby(["_k1", "_k2"], sort=False, dropna=True)
    size = g.size()
    keep = size[size >= min_count].index
    work = work.set_index(["_k1", "_k2"]).loc[keep].reset_index()
    g = work.groupby(["_k1", "_k2"], sort=False)

    def _mode(s: pd.Series):
        s = s.dropna()
        return s.value_counts().index[0] if len(s) else pd.NA

    def _cats(s: pd.Series) -> str:
        return ", ".join(f"{k}: {v}" for k, v in s.value_counts().items())

    out = pd.DataFrame(
        {
            "easting": g["easting"].mean(),
            "northing": g["northing"].mean(),
            "location_text": g["location_text"].agg(_mode) if "location_text" in work else pd.NA,
            "incidents": g.size(),
            "categories": g["category"].agg(_cats),
            "partners": g["partner"].agg(lambda s: ", ".join(sorted(set(s.dropna())))),
            "first": g["period_start"].min(),
            "last": g["period_start"].max(),
        }
    )
    return out.sort_values("incidents", ascending=False, kind="stable").reset_index(drop=True)
