"""The analyst API: ``open_store``, ``load``, ``localities``, ``ingest``, ``coverage``.

Everything comes back in British National Grid (EPSG:27700), as new frames the caller owns.

>>> import scribe_lib
>>> store = scribe_lib.open_store(":memory:")
>>> scribe_lib.load(store).crs.to_epsg()
27700
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from .errors import NotFoundError, StoreError
from .ingest import IngestResult, ingest
from .schema import CRS
from .store import Store, open_store
from .store.base import as_list, month_bounds

__all__ = ["open_store", "load", "localities", "ingest", "coverage", "IngestResult"]


@contextmanager
def _using(store: Store | str | None, read_only: bool = True):
    """Use ``store`` if given, else open (read-only where possible) and close after."""
    if isinstance(store, Store):
        yield store
        return
    try:
        st = open_store(store, read_only=read_only)
    except StoreError:
        st = open_store(store)  # first use: create it
    try:
        yield st
    finally:
        st.close()


@lru_cache(maxsize=1)
def _categories() -> frozenset[str]:
    text = resources.files("scribe_lib").joinpath("data/taxonomy.yml").read_text("utf-8")
    return frozenset(yaml.safe_load(text)["categories"])


def load(
    store: Store | str | None = None,
    *,
    category: str | Sequence[str] | None = None,
    partner: str | Sequence[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    locality: str | None = None,
    located_only: bool = False,
) -> gpd.GeoDataFrame:
    """Load active incidents as a GeoDataFrame in EPSG:27700.

    Filters are pushed into the store's SQL; only matching rows reach Python.

    Parameters
    ----------
    store : Store or str, optional
        A store or its URL (default ``$SCRIBE_STORE``, else ``./scribe.duckdb``).
    category, partner : str or list of str, optional
        SCRIBE taxonomy categories (e.g. ``"burglary"``) and partners to keep.
    start, end : "YYYY-MM" or date, optional
        First and last month, both inclusive, by ``period_start``.
    locality : str, optional
        A locality name (``scribe localities list``); ``"kind:name"`` when a name is used
        by two kinds. Points on the boundary count as inside.
    located_only : bool
        Leave out incidents without a location (for maps). They are kept by default:
        a no-location incident still counts in tables and trends.

    Returns
    -------
    GeoDataFrame
        ``INCIDENT_COLUMNS`` + ``geometry`` (points in metres, EPSG:27700; ``None`` where
        the incident has no location).

    Examples
    --------
    >>> import scribe_lib
    >>> burglary = scribe_lib.load(category="burglary", start="2024-01", end="2024-03")  # doctest: +SKIP
    >>> luton = scribe_lib.load(locality="Luton South", located_only=True)  # doctest: +SKIP
    """
    cats = as_list(category, "category")
    unknown = sorted(set(cats or ()) - _categories())
    if unknown:
        raise NotFoundError(
            f"unknown category {', '.join(map(repr, unknown))}; known categories: "
            + ", ".join(sorted(_categories()))
        )
    lo, hi = month_bounds(start, end)
    with _using(store) as st:
        geom = _locality_geometry(st, locality) if locality is not None else None
        df = st.read_incidents(
            category=cats,
            partner=as_list(partner, "partner"),
            start=lo,
            end=hi,
            locality=geom,
            located_only=located_only,
        )
    return _to_gdf(df)


def _to_gdf(df: pd.DataFrame) -> gpd.GeoDataFrame:
    x = df["easting"].to_numpy(dtype="float64", na_value=np.nan)
    y = df["northing"].to_numpy(dtype="float64", na_value=np.nan)
    pts = shapely.points(x, y)
    pts[np.isnan(x) | np.isnan(y)] = None
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(pts, index=df.index, crs=CRS), crs=CRS)


def _locality_geometry(st: Store, locality: str):
    if not isinstance(locality, str) or not locality.strip():
        raise StoreError(
            f"locality must be a name (see `scribe localities list`), got {locality!r}"
        )
    kind, _, name = locality.rpartition(":") if ":" in locality else (None, "", locality)
    found = st.read_localities(kind=kind or None, name=name)
    if found.empty:
        known = st.read_localities(kind=kind or None)["name"].tolist()
        shown = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
        shown = shown or "none loaded yet (see `scribe localities load`)"
        raise NotFoundError(f"unknown locality {locality!r}; known localities: {shown}")
    if found["kind"].nunique() > 1:
        kinds = ", ".join(f"'{k}:{name}'" for k in found["kind"])
        raise StoreError(f"locality {name!r} exists in more than one kind; pass one of {kinds}")
    return found.geometry.iloc[0]


def localities(store: Store | str | None = None, kind: str | None = None) -> gpd.GeoDataFrame:
    """Locality boundaries (wards, parishes, LSOAs, demo areas...) in EPSG:27700.

    Parameters
    ----------
    store : Store or str, optional
        A store or its URL.
    kind : str, optional
        Only localities of this kind (e.g. ``"ward"``).

    Returns
    -------
    GeoDataFrame
        ``name, kind, label, geometry`` (polygons, metres, EPSG:27700).
    """
    with _using(store) as st:
        return st.read_localities(kind=kind)


def coverage(store: Store | str | None = None) -> pd.DataFrame:
    """Which months each partner's source has sent: ``data`` or ``no data`` (never 0).

    A month is covered when an active submission of that partner and source spans it
    (``covers_from`` .. ``covers_to``). Months run from the earliest to the latest covered
    month in the store.

    Returns
    -------
    DataFrame
        ``partner, source, month`` (first day of the month, datetime64) and ``status``
        (``"data"`` or ``"no data"``), sorted by partner, source, month.
    """
    with _using(store) as st:
        subs = st.submissions(active_only=True).dropna(subset=["covers_from", "covers_to"])
    cols = ["partner", "source", "month", "status"]
    if subs.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            cols, ["string", "string", "datetime64[ns]", "string"], strict=True)})  # fmt: skip
    months = pd.date_range(subs["covers_from"].min(), subs["covers_to"].max(), freq="MS")
    rows = []
    for (partner, source), g in subs.groupby(["partner", "source"], sort=True):
        for m in months:
            have = ((g["covers_from"] <= m) & (g["covers_to"] >= m)).any()
            rows.append((partner, source, m, "data" if have else "no data"))
    out = pd.DataFrame(rows, columns=cols)
    out["month"] = out["month"].astype("datetime64[ns]")
    return out.astype({"partner": "string", "source": "string", "status": "string"})
