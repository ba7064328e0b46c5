"""Simulate the demo incidents: one frame of events with a time and a street point each.

The partner writers (:mod:`scribe_lib.demo.writers`) turn these events into each
partner's own file format; this module knows nothing about formats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .geography import street_points
from .profiles import COUNCILS, HOTSPOTS, HOUR, SEASON, STREAMS, WEEKDAY, Hotspot, Stream

__all__ = ["DEMO_END", "POLICE", "FIRE", "demo_months", "simulate"]

#: last month of the demo by default: the last full month before 1 January 2026.
DEMO_END = "2025-12"
POLICE = "bedfordshire-police"
FIRE = "bedfordshire-fire"
_EVENT_COLUMNS = ["source", "partner", "category", "stream", "when", "street_id", "hotspot"]


def demo_months(end: str = DEMO_END, months: int = 24) -> pd.PeriodIndex:
    """The demo's months: ``months`` monthly periods ending with ``end`` ("YYYY-MM")."""
    return pd.period_range(end=pd.Period(end, freq="M"), periods=months, freq="M")


def _norm(w) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.mean()


def _partner(stream: Stream) -> str:
    if stream.source == "police-uk":
        return POLICE
    if stream.source == "fire":
        return FIRE
    return stream.key.split(":")[1]


def _day_weights(month: pd.Period, stream: Stream, weekday: str) -> np.ndarray:
    days = pd.date_range(month.start_time, periods=month.days_in_month, freq="D")
    w = np.asarray(WEEKDAY[weekday], dtype=float)[days.day_of_week]
    dom = days.day.to_numpy()
    if month.month == 11 and stream.category == "Secondary Fire":  # bonfire night
        w = w * (1 + 8 * np.exp(-0.5 * ((dom - 5) / 1.0) ** 2))
    if month.month == 10 and stream.category in ("Anti-social behaviour", "Nuisance Behaviour"):
        w = np.where(dom == 31, 3 * w, w)  # Halloween
    return w / w.sum()


def _times(rng, month, stream, n, weekday, hour) -> np.ndarray:
    day = rng.choice(month.days_in_month, n, p=_day_weights(month, stream, weekday))
    h = np.asarray(HOUR[hour], dtype=float)
    hrs = rng.choice(24, n, p=h / h.sum())
    mins = rng.integers(0, 60, n)
    start = np.datetime64(month.start_time.to_datetime64(), "m")
    return start + (day * 1440 + hrs * 60 + mins).astype("timedelta64[m]")


def _candidates(streets: pd.DataFrame, stream: Stream) -> tuple[np.ndarray, np.ndarray]:
    ok = streets["hotspot"].eq("") & streets["weight"].gt(0)
    if stream.source == "council":
        ok &= streets["district"].eq(COUNCILS[_partner(stream)][0])
    s = streets[ok]
    w = s["weight"].to_numpy() * np.where(s["town"].eq(""), stream.rural, 1.0)
    w = w * s["name"].map(lambda n: stream.boosts.get(n, 1.0)).to_numpy()
    return s["street_id"].to_numpy(), w / w.sum()


def _frame(stream, times, ids, hotspot="") -> dict:
    n = len(ids)
    return {
        "source": np.full(n, stream.source, dtype=object),
        "partner": np.full(n, _partner(stream), dtype=object),
        "category": np.full(n, stream.category, dtype=object),
        "stream": np.full(n, stream.key, dtype=object),
        "when": times,
        "street_id": np.asarray(ids, dtype=np.int64),
        "hotspot": np.full(n, hotspot, dtype=object),
    }


def _background(rng, streets, months, scale) -> list[dict]:
    out = []
    for stream in STREAMS:
        ids, p = _candidates(streets, stream)
        season = _norm(SEASON[stream.season])
        for i, month in enumerate(months):
            lam = stream.monthly * scale * season[month.month - 1] * (1 + stream.growth) ** (i / 12)
            n = int(rng.poisson(lam))
            if n == 0:
                continue
            t = _times(rng, month, stream, n, stream.weekday, stream.hour)
            out.append(_frame(stream, t, rng.choice(ids, n, p=p)))
    return out


def _hotspot_factor(h: Hotspot, i: int, month: pd.Period, n_months: int) -> float:
    f = 1.0
    if h.last_months is not None:
        k = i - (n_months - h.last_months)
        if k < 0:
            return 0.0
        f *= 0.3 + 1.7 * k / max(h.last_months - 1, 1)  # ramps from 0.3x to 2x
    if h.reduce_from is not None and month >= pd.Period(h.reduce_from, freq="M"):
        f *= 1 - h.reduce_by
    return f


def _hotspots(rng, streets, months, scale) -> list[dict]:
    by_key = {s.key: s for s in STREAMS}
    out = []
    hscale = scale**0.5  # a tiny demo still shows its hotspots
    for h in HOTSPOTS:
        ids = streets.loc[streets["hotspot"].eq(h.key), "street_id"].to_numpy()
        for key, vol in h.streams.items():
            stream = by_key[key]
            # an emerging problem (a new group of youths...) does not follow the season
            season = _norm(SEASON["flat" if h.last_months else stream.season])
            for i, month in enumerate(months):
                f = _hotspot_factor(h, i, month, len(months))
                lam = vol * hscale * season[month.month - 1] * f
                n = int(rng.poisson(lam)) if lam > 0 else 0
                if n == 0:
                    continue
                t = _times(rng, month, stream, n, h.weekday, h.hour)
                out.append(_frame(stream, t, rng.choice(ids, n), h.key))
    return out


def simulate(
    seed: int = 2024, months: int = 24, scale: float = 1.0, end: str = DEMO_END
) -> pd.DataFrame:
    """Simulate the demo's incidents.

    Parameters
    ----------
    seed : int
        Seed of the random generator: the same seed gives the same events.
    months : int
        Number of months, ending with ``end``.
    scale : float
        Multiplier on every volume (1.0 is about 70,000 incidents over 24 months);
        planted hotspots scale with its square root so a small demo still shows them.
    end : str
        Last month, "YYYY-MM".

    Returns
    -------
    pandas.DataFrame
        ``source, partner, category, stream, when`` (local wall time, minute precision),
        ``street_id`` (row of :func:`~scribe_lib.demo.geography.street_points`), ``hotspot``.
    """
    rng = np.random.default_rng(seed)
    streets = street_points()
    mlist = list(demo_months(end, months))
    parts = _background(rng, streets, mlist, scale) + _hotspots(rng, streets, mlist, scale)
    ev = pd.DataFrame(
        {c: np.concatenate([p[c] for p in parts]) if parts else [] for c in _EVENT_COLUMNS}
    )
    ev["when"] = ev["when"].astype("datetime64[ns]")
    for c in ("source", "partner", "category", "stream", "hotspot"):
        ev[c] = ev[c].astype("string")
    return ev.sort_values(["partner", "when", "stream", "street_id"], kind="stable").reset_index(
        drop=True
    )
