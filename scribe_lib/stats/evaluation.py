"""Evaluation and SARA assessment: PAI, RRI, WDQ (with a bootstrap interval), before/after.

Sources of the formulas:

* Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
  predicting spatial patterns of crime. *Security Journal* 21, 4-28 (PAI).
* Levine, N. (2008). The "hottest" part of a hotspot: comments on "The utility of
  hotspot mapping for predicting spatial patterns of crime". *Security Journal* 21,
  295-302 (RRI).
* Bowers, K. J. & Johnson, S. D. (2003). Measuring the geographical displacement and
  diffusion of benefit effects of crime prevention activity. *Journal of Quantitative
  Criminology* 19(3), 275-301 (WDQ and the total net effect).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import ScribeError
from ._cube import located
from ._ratetest import rate_test

__all__ = ["pai", "rri", "wdq", "before_after"]


def _geom(g, name: str):
    """One shapely geometry from a geometry, a GeoSeries or a GeoDataFrame (unioned)."""
    if isinstance(g, gpd.GeoDataFrame | gpd.GeoSeries):
        if len(g) == 0:
            raise ScribeError(f"{name} is empty")
        return shapely.union_all(g.geometry.values)
    if isinstance(g, shapely.Geometry):
        return g
    raise ScribeError(
        f"{name} must be a polygon or a GeoDataFrame of polygons, not {type(g).__name__}"
    )


def _inside(incidents: gpd.GeoDataFrame, geom) -> np.ndarray:
    """Boolean mask (by position): located incidents inside ``geom`` (None: all located)."""
    located(incidents.iloc[:0])  # checks the type and the CRS
    g = np.asarray(incidents.geometry.values)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if geom is None:
        return ok
    return ok & shapely.intersects(geom, g)


def pai(incidents: gpd.GeoDataFrame, hotspots, study_area) -> pd.DataFrame:
    """Predictive Accuracy Index of hot spot areas for a set of (later) incidents.

    .. math:: \\mathrm{PAI} = \\frac{(n / N) \\times 100}{(a / A) \\times 100}

    *n* incidents inside the hot spot areas, *N* incidents inside the study area, *a* the
    hot spot area and *A* the study area (Chainey, Tompson & Uhlig 2008). PAI = 1 is no
    better than chance; higher is better.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        The incidents to predict (typically the period after the one mapped), EPSG:27700.
    hotspots : polygon or GeoDataFrame
        The predicted hot spot areas (e.g. cells with ``gi_bin == 3``).
    study_area : polygon or GeoDataFrame
        The whole area (e.g. the partnership area, or every cell of the grid).

    Returns
    -------
    pandas.DataFrame
        One row: ``hits`` (n), ``total`` (N), ``hit_rate_pct`` (100 n/N),
        ``hotspot_km2`` (a), ``study_km2`` (A), ``area_pct`` (100 a/A), ``pai``.
    """
    hot, area = _geom(hotspots, "hotspots"), _geom(study_area, "study_area")
    hot = shapely.intersection(hot, area)
    if area.area <= 0:
        raise ScribeError("study_area has no area")
    in_area = _inside(incidents, area)
    n = int((_inside(incidents, hot) & in_area).sum())
    N = int(in_area.sum())
    hit = 100.0 * n / N if N else np.nan
    ap = 100.0 * hot.area / area.area
    return pd.DataFrame(
        [
            {
                "hits": n,
                "total": N,
                "hit_rate_pct": hit,
                "hotspot_km2": hot.area / 1e6,
                "study_km2": area.area / 1e6,
                "area_pct": ap,
                "pai": hit / ap if ap > 0 else np.nan,
            }
        ]
    )


def rri(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, hotspots, study_area=None
) -> pd.DataFrame:
    """Recapture Rate Index: how well hot spots of one period recapture the next one's.

    .. math:: \\mathrm{RRI} = \\frac{n_2 / n_1}{N_2 / N_1}

    :math:`n_1, n_2` incidents inside the hot spots in periods 1 and 2, :math:`N_1, N_2`
    all incidents (inside ``study_area`` when given) in each period (Levine 2008). RRI > 1:
    the hot spots hold a growing share of incidents.

    Returns
    -------
    pandas.DataFrame
        One row: ``n1``, ``n2``, ``N1``, ``N2``, ``rri`` (NaN when n1 or N2 is 0).
    """
    hot = _geom(hotspots, "hotspots")
    area = _geom(study_area, "study_area") if study_area is not None else None

    def _count(inc):
        base = _inside(inc, area) if area is not None else _inside(inc, None)
        return int((_inside(inc, hot) & base).sum()), int(base.sum())

    n1, N1 = _count(before)
    n2, N2 = _count(after)
    val = (n2 / n1) / (N2 / N1) if n1 and N1 and N2 else np.nan
    return pd.DataFrame([{"n1": n1, "n2": n2, "N1": N1, "N2": N2, "rri": val}])


def _wdq_parts(rb, ra, bb, ba, cb, ca):
    with np.errstate(divide="ignore", invalid="ignore"):
        success = np.asarray(ra) / ca - np.asarray(rb) / cb
        disp = np.asarray(ba) / ca - np.asarray(bb) / cb
        return success, disp, disp / success


def wdq(
    treated,
    buffer=None,
    control=None,
    *,
    n_boot: int = 2000,
    seed: int | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Weighted Displacement Quotient with a parametric bootstrap interval.

    With *R* the treated (response) area, *B* the buffer, *C* the control, and *b*/*a*
    before/after (Bowers & Johnson 2003):

    .. math::

        \\mathrm{WDQ} = \\frac{B_a/C_a - B_b/C_b}{R_a/C_a - R_b/C_b}
        \\qquad(\\text{displacement measure} / \\text{success measure})

    The success measure is negative when crime fell in *R* relative to *C*; then WDQ > 0
    means a diffusion of benefits to the buffer, WDQ < 0 displacement into it, and
    |WDQ| > 1 a buffer effect larger than the direct one. The total net effect (incidents
    prevented, positive = good) is

    .. math:: \\mathrm{TNE} = (R_b C_a/C_b - R_a) + (B_b C_a/C_b - B_a).

    Interval: each of the six counts is redrawn from a Poisson distribution with its
    observed value as mean, ``n_boot`` times (seeded); draws with a zero control count or
    a zero success measure are dropped (``boot_valid`` gives the share kept); the
    percentile interval of the remaining WDQs is reported. A count of 0 cannot vary in
    this bootstrap, so the interval then understates the uncertainty (a warning says so).

    Parameters
    ----------
    treated, buffer, control : (before, after) counts
        Or ``treated`` = the DataFrame from :func:`before_after` (rows treated, buffer,
        control).
    n_boot : int
        Bootstrap draws (>= 100). ``seed`` makes them reproducible.
    ci : float
        Interval coverage (0.95 = 2.5th to 97.5th percentile).

    Returns
    -------
    pandas.DataFrame
        One row: ``success_measure``, ``displacement_measure``, ``wdq``, ``ci_low``,
        ``ci_high``, ``tne``, ``boot_valid``.
    """
    if isinstance(treated, pd.DataFrame):
        t = treated.set_index("area") if "area" in treated else treated
        missing = {"treated", "buffer", "control"} - set(t.index)
        if missing:
            raise ScribeError(
                f"the before/after table has no {sorted(missing)} row (give buffer and control)"
            )
        treated, buffer, control = (
            (t.loc[k, "before"], t.loc[k, "after"]) for k in ("treated", "buffer", "control")
        )
    counts = []
    for name, pair in (("treated", treated), ("buffer", buffer), ("control", control)):
        if pair is None or len(pair) != 2 or any(not np.isfinite(v) or v < 0 for v in pair):
            raise ScribeError(f"{name} must be (before, after) counts >= 0, not {pair!r}")
        counts += [float(pair[0]), float(pair[1])]
    rb, ra, bb, ba, cb, ca = counts
    if cb == 0 or ca == 0:
        raise ScribeError("the control area needs incidents both before and after for a WDQ")
    if int(n_boot) != n_boot or n_boot < 100:
        raise ScribeError(f"n_boot must be a whole number >= 100, not {n_boot!r}")
    if not 0 < ci < 1:
        raise ScribeError(f"ci must be between 0 and 1, not {ci!r}")
    success, disp, q = _wdq_parts(rb, ra, bb, ba, cb, ca)
    if 0 in counts:
        warnings.warn(
            "a count of 0 cannot vary in the Poisson bootstrap: the WDQ interval understates "
            "the uncertainty (use longer windows or larger areas)",
            stacklevel=2,
        )
    draws = np.random.default_rng(seed).poisson(counts, size=(int(n_boot), 6)).astype(float)
    ok = (draws[:, 4] > 0) & (draws[:, 5] > 0)
    s_b, _, q_b = _wdq_parts(*draws[ok].T)
    q_b = q_b[np.isfinite(q_b) & (s_b != 0)]
    lo, hi = np.quantile(q_b, [(1 - ci) / 2, (1 + ci) / 2]) if q_b.size else (np.nan, np.nan)
    tne = (rb * ca / cb - ra) + (bb * ca / cb - ba)
    return pd.DataFrame(
        [
            {
                "success_measure": float(success),
                "displacement_measure": float(disp),
                "wdq": float(q) + 0.0 if success != 0 else np.nan,  # + 0.0: no "-0.0"
                "ci_low": lo,
                "ci_high": hi,
                "tne": tne,
                "boot_valid": q_b.size / n_boot,
            }
        ]
    )


def before_after(
    incidents: gpd.GeoDataFrame, response_area, date, *, months: int = 6, buffer=None, control=None
) -> pd.DataFrame:
    """Counts before and after a response started, in its area, a buffer and a control.

    Windows: before = [date - months, date), after = [date, date + months). An incident
    counts when its whole period ``[period_start, period_end)`` lies in a window (a
    police.uk month straddling ``date`` is left out of both).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Harmonised incidents, EPSG:27700.
    response_area : polygon or GeoDataFrame
        Where the response was made (the treated area).
    date : date-like
        First day of the response.
    months : int
        Length of each window in months.
    buffer : float (metres) or polygon, optional
        A ring of that width around the treated area (treated area excluded), or a polygon.
    control : polygon or GeoDataFrame, optional
        A comparable area without the response (treated and buffer areas excluded).

    Returns
    -------
    geopandas.GeoDataFrame
        Rows ``area`` = treated, buffer, control (those given; ``geometry`` = the area as
        counted, the buffer without the treated area, the control without both): ``before``, ``after``,
        ``change``, ``pct_change``, ``rate_ratio`` (after/before per day), ``p_value``
        (exact conditional Poisson test, see :mod:`scribe_lib.stats.trends`),
        ``relative_to_control`` ((after/before) / (control after/before); < 1 = fell more
        than in the control), ``before_from``, ``after_to``. Feed it to :func:`wdq`.
    """
    if int(months) != months or months < 1:
        raise ScribeError(f"months must be a whole number >= 1, not {months!r}")
    t0 = pd.Timestamp(date).normalize()
    lo, hi = t0 - pd.DateOffset(months=int(months)), t0 + pd.DateOffset(months=int(months))
    treated = _geom(response_area, "response_area")
    areas = {"treated": treated}
    if buffer is not None:
        ring = (
            treated.buffer(float(buffer))
            if isinstance(buffer, int | float)
            else _geom(buffer, "buffer")
        )
        areas["buffer"] = shapely.difference(ring, treated)
    if control is not None:
        areas["control"] = shapely.difference(
            _geom(control, "control"), shapely.union_all(list(areas.values()))
        )
    ps, pe = pd.to_datetime(incidents["period_start"]), pd.to_datetime(incidents["period_end"])
    win_b = ((ps >= lo) & (pe <= t0)).to_numpy()
    win_a = ((ps >= t0) & (pe <= hi)).to_numpy()
    lb, la = (t0 - lo).days, (hi - t0).days
    rows = []
    for name, geom in areas.items():
        inside = _inside(incidents, geom)
        b, a = int((inside & win_b).sum()), int((inside & win_a).sum())
        rr, p = rate_test(a, b, la, lb)
        rows.append(
            {
                "area": name,
                "before": b,
                "after": a,
                "change": a - b,
                "pct_change": 100.0 * (a - b) / b if b else np.nan,
                "rate_ratio": rr,
                "p_value": p,
            }
        )
    out = pd.DataFrame(rows)
    if "control" in areas:
        c = out.set_index("area").loc["control"]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (out["after"] / out["before"]) / (c["after"] / c["before"])
        out["relative_to_control"] = ratio.where(np.isfinite(ratio))
    out["before_from"], out["after_to"] = lo, hi
    return gpd.GeoDataFrame(out, geometry=list(areas.values()), crs="EPSG:27700")
