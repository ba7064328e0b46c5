"""What an app reads: the incidents the user's own store identity may see, filtered in memory.

Every app opens the store named by ``SCRIBE_STORE`` (in the hub: the user's own
PostgreSQL login, so row-level security decides what comes back), reads the incidents
once with :func:`scribe_lib.load` (one audited read) and then filters the frame in
memory, so that a filter change answers in milliseconds. The filters mean exactly what
:func:`scribe_lib.load`'s keyword arguments mean, which the tests check.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..api import load, localities
from ..errors import ScribeError
from ..store import Store, open_store
from ..store.base import month_bounds

__all__ = ["Selection", "AppData", "ALL"]

#: the option meaning "no filter" in every drop-down.
ALL = "All"


@dataclasses.dataclass(frozen=True)
class Selection:
    """A filter, with the meaning of :func:`scribe_lib.load`'s keywords.

    Attributes
    ----------
    partner, category : tuple of str
        Keep these (empty: all).
    start, end : str or None
        First and last month ``"YYYY-MM"``, both inclusive, by ``period_start``.
    locality : str or None
        A locality name; points on its boundary count as inside.
    """

    partner: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    locality: str | None = None

    def as_filter(self) -> dict:
        """The same filter as :func:`scribe_lib.load` keyword arguments (for the audit)."""
        out = {
            "partner": list(self.partner) or None,
            "category": list(self.category) or None,
            "start": self.start,
            "end": self.end,
            "locality": self.locality,
        }
        return {k: v for k, v in out.items() if v is not None}

    def describe(self) -> str:
        """A short plain-English description, e.g. for a download's file name or a title."""
        parts = [
            ", ".join(self.category) or "all categories",
            ", ".join(self.partner) or "all partners",
            self.locality or "the whole area",
            f"{self.start or 'first month'} to {self.end or 'last month'}",
        ]
        return "; ".join(parts)


class AppData:
    """Incidents and localities visible to the app's user, read once.

    Parameters
    ----------
    store : Store or str, optional
        A store or its URL; default ``$SCRIBE_STORE`` (the user's own identity in the hub).
    """

    def __init__(self, store: Store | str | None = None):
        url = store if store is not None else os.environ.get("SCRIBE_STORE")
        if url is None:
            raise ScribeError(
                "no store: set SCRIBE_STORE (the hub sets it to your own database login) "
                "or pass store='path/to/scribe.duckdb'"
            )
        self.store = url if isinstance(url, Store) else open_store(url, read_only=True)
        self.incidents = load(self.store)
        self.localities = localities(self.store)
        self._inside: dict[str, np.ndarray] = {}

    # -- options for the drop-downs --------------------------------------------------------
    @cached_property
    def partners(self) -> list[str]:
        """Partners present in what the user may see."""
        return sorted(self.incidents["partner"].dropna().unique())

    @cached_property
    def categories(self) -> list[str]:
        """Taxonomy categories present, most frequent first."""
        return list(self.incidents["category"].value_counts().index)

    @cached_property
    def months(self) -> list[str]:
        """Every month ``YYYY-MM`` from the first to the last incident."""
        ps = self.incidents["period_start"].dropna()
        if ps.empty:
            return []
        rng = pd.period_range(ps.min().to_period("M"), ps.max().to_period("M"), freq="M")
        return [str(p) for p in rng]

    @cached_property
    def locality_names(self) -> list[str]:
        """Locality names (the partnership-wide one first when present)."""
        loc = self.localities.sort_values(["kind", "name"])
        return loc["name"].tolist()

    @cached_property
    def outlines_wgs84(self) -> gpd.GeoDataFrame:
        """Locality boundaries in WGS84 (for the map; outlines only)."""
        return self.localities.to_crs(4326)

    # -- filtering ---------------------------------------------------------------------------
    def inside(self, locality: str) -> np.ndarray:
        """Boolean mask of incidents inside (or on the boundary of) ``locality``."""
        if locality not in self._inside:
            found = self.localities[self.localities["name"] == locality]
            if found.empty:
                raise ScribeError(
                    f"unknown locality {locality!r}; known: {', '.join(self.locality_names)}"
                )
            geom = found.geometry.iloc[0]
            shapely.prepare(geom)
            x = self.incidents["easting"].to_numpy("float64", na_value=np.nan)
            y = self.incidents["northing"].to_numpy("float64", na_value=np.nan)
            ok = ~(np.isnan(x) | np.isnan(y))
            mask = np.zeros(len(x), bool)
            mask[ok] = shapely.intersects_xy(geom, x[ok], y[ok])
            self._inside[locality] = mask
        return self._inside[locality]

    def mask(self, sel: Selection) -> np.ndarray:
        """Boolean mask of the incidents in ``sel``."""
        df = self.incidents
        keep = np.ones(len(df), bool)
        if sel.partner:
            keep &= df["partner"].isin(sel.partner).fillna(False).to_numpy(bool)
        if sel.category:
            keep &= df["category"].isin(sel.category).fillna(False).to_numpy(bool)
        lo, hi = month_bounds(sel.start, sel.end)
        ps = df["period_start"]
        if lo is not None:
            keep &= (ps >= lo).fillna(False).to_numpy(bool)
        if hi is not None:
            keep &= (ps < hi).fillna(False).to_numpy(bool)
        if sel.locality:
            keep &= self.inside(sel.locality)
        return keep

    def select(self, sel: Selection) -> gpd.GeoDataFrame:
        """The incidents in ``sel`` (a new frame), newest first."""
        out = self.incidents.loc[self.mask(sel)]
        return out.sort_values("period_start", ascending=False, kind="stable").copy()

    def visible_fields(self, frame: pd.DataFrame) -> list[str]:
        """Columns with at least one value (the agreement may withhold the others)."""
        return [c for c in frame.columns if c != "geometry" and frame[c].notna().any()]

    def close(self) -> None:
        """Close the store."""
        self.store.close()
