"""Analysis and Assessment of a SARA briefing: where, when, how often again, and what worked.

Each function takes a :class:`~scribe_lib.briefings.Briefing` and returns a frame, a
figure (static matplotlib: a report has no live widgets) or both. Distances in metres,
EPSG:27700.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .sections import ALPHA

__all__ = [
    "hotspot_map",
    "hour_weekday",
    "repeat_locations",
    "near_repeat",
    "before_after",
    "wdq",
    "MIN_EXACT",
    "MIN_KNOX",
    "map_scale",
]

#: fewer exact-time incidents than this in the period: hour x weekday uses 12 months.
MIN_EXACT = 30
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _located(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["easting"].notna() & df["northing"].notna()]


#: at most about this many grid cells over a locality (keeps a county-wide map quick).
MAX_CELLS = 6000


def map_scale(area_m2: float | None, cell: float | None = None) -> tuple[float, float]:
    """Cell size and neighbourhood distance (metres) for a locality of ``area_m2``.

    150 m cells and a 300 m neighbourhood for a town; coarser (a multiple of 50 m, with a
    neighbourhood of two cells) where that would make more than :data:`MAX_CELLS` cells.
    """
    if cell is None:
        need = math.sqrt(area_m2 / MAX_CELLS) if area_m2 else 0.0
        cell = max(150.0, math.ceil(need / 50.0) * 50.0)
    return float(cell), 2.0 * float(cell)


def hotspot_map(b, cell: float | None = None, distance: float | None = None):
    """Gi* hot spots of the period's located incidents on a grid over the locality.

    ``cell`` and ``distance`` (metres) default to :func:`map_scale` of the locality.

    Returns
    -------
    (matplotlib.figure.Figure, DataFrame)
        The map, and the significant hot cells (``cell_id, x, y, incidents, gi_z, p_fdr``),
        hottest first. ``None, empty`` when fewer than 5 located incidents.
    """
    import matplotlib

    matplotlib.use("Agg")
    import geopandas as gpd
    import matplotlib.pyplot as plt

    from .. import stats

    pts = _located(b.in_period(b.period))
    cols = ["cell_id", "x", "y", "incidents", "gi_z", "p_fdr"]
    auto_cell, auto_distance = map_scale(b.boundary.area if b.boundary is not None else None, cell)
    cell, distance = auto_cell, distance or auto_distance
    if len(pts) < 5:
        return None, pd.DataFrame(columns=cols)
    grid = stats.hotspots(
        gpd.GeoDataFrame(pts, geometry="geometry", crs="EPSG:27700"),
        cell=cell,
        distance=distance,
        area=b.boundary,
    )
    fig, ax = plt.subplots(figsize=(7.5, 6.5), dpi=110)
    colours = {
        3: "#b2182b",
        2: "#ef8a62",
        1: "#fddbc7",
        0: "#f7f7f7",
        -1: "#d1e5f0",
        -2: "#67a9cf",
        -3: "#2166ac",
    }
    grid.plot(
        ax=ax,
        color=[colours.get(int(v), "#f7f7f7") for v in grid["gi_bin"]],
        edgecolor="#dddddd",
        linewidth=0.3,
    )
    if b.boundary is not None:
        gpd.GeoSeries([b.boundary], crs="EPSG:27700").boundary.plot(
            ax=ax, color="#1d3557", linewidth=1.4
        )
    areas = (
        [g for g in b.responses.actions["area"] if g is not None]
        if len(b.responses.actions)
        else []
    )
    if areas:
        gpd.GeoSeries(areas, crs="EPSG:27700").boundary.plot(
            ax=ax, color="#e9a23b", linewidth=1.2, linestyle="--"
        )
    ax.scatter(pts["easting"], pts["northing"], s=4, c="#222222", alpha=0.55, linewidths=0)
    _scale_bar(ax)
    ax.set_axis_off()
    ax.set_aspect("equal")
    from matplotlib.patches import Patch

    legend = [
        Patch(color=colours[k], label=t)
        for k, t in (
            (3, "Hot spot, 99%"),
            (2, "Hot spot, 95%"),
            (1, "Hot spot, 90%"),
            (0, "Not significant"),
            (-2, "Cold spot, 95%"),
        )
    ]
    if areas:
        from matplotlib.lines import Line2D

        legend.append(Line2D([], [], color="#e9a23b", linestyle="--", label="Response area"))
    ax.legend(handles=legend, loc="lower left", fontsize=7, frameon=True)
    ax.set_title(
        f"{b.locality}: Gi* hot spots, {b.period.label()} ({cell:.0f} m cells, {distance:.0f} m neighbourhood)",
        fontsize=9,
    )
    fig.tight_layout()
    hot = grid[grid["gi_bin"] > 0].sort_values("gi_z", ascending=False)
    return fig, pd.DataFrame(hot[[c for c in cols if c in hot.columns]]).reset_index(drop=True)


def _scale_bar(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = 10 ** np.floor(np.log10(max((x1 - x0) / 4, 1)))
    bx, by = x1 - (x1 - x0) * 0.05 - length, y0 + (y1 - y0) * 0.05
    ax.plot([bx, bx + length], [by, by], color="k", linewidth=3)
    ax.text(bx + length / 2, by + (y1 - y0) * 0.015, f"{length:.0f} m", ha="center", fontsize=7)


def hour_weekday(b):
    """Incidents with an exact time by hour of day (rows 0-23) and weekday (Mon-Sun).

    Uses the period, or the 12 months ending with it when the period has fewer than
    :data:`MIN_EXACT` exact-time incidents. Returns ``(table, months_used, figure)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .periods import Period

    use = b.period
    exact = b.in_period(use)
    exact = exact[(exact["time_precision"] == "exact") & exact["occurred_at"].notna()]
    if len(exact) < MIN_EXACT:
        use = Period(b.period.last - 11, b.period.last)
        exact = b.in_period(use)
        exact = exact[(exact["time_precision"] == "exact") & exact["occurred_at"].notna()]
    t = pd.crosstab(exact["occurred_at"].dt.hour, exact["occurred_at"].dt.dayofweek)
    t = t.reindex(index=range(24), columns=range(7), fill_value=0)
    t.columns = _DAYS
    t.index.name = "hour"
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    im = ax.imshow(t.T.to_numpy(), aspect="auto", cmap="YlOrRd", origin="upper")
    ax.set_yticks(range(7), _DAYS)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("Hour of day")
    fig.colorbar(im, ax=ax, label="Incidents")
    ax.set_title(
        f"{b.locality}: incidents with an exact time, {use.label()} (n = {len(exact)})", fontsize=9
    )
    fig.tight_layout()
    return t, use, fig


def repeat_locations(b, min_count: int = 2, top: int = 10) -> pd.DataFrame:
    """Places with ``min_count`` or more incidents in the period, most first.

    A place is a located point (rounded to the metre) with its location text; returns
    ``Location, Easting, Northing, Incidents, Categories``.
    """
    pts = _located(b.in_period(b.period))
    cols = ["Location", "Easting", "Northing", "Incidents", "Categories"]
    if pts.empty:
        return pd.DataFrame(columns=cols)
    key = pd.DataFrame(
        {
            "e": pts["easting"].round(0),
            "n": pts["northing"].round(0),
            "cat": pts["category"].map(b.label),
            "loc": pts["location_text"].fillna(""),
        }
    )
    g = key.groupby(["e", "n"], sort=False)
    out = pd.DataFrame({
        "Location": g["loc"].agg(lambda s: next((v for v in s if v), "(no description)")),
        "Incidents": g.size(),
        "Categories": g["cat"].agg(lambda s: ", ".join(f"{k} ({v})" for k, v in s.value_counts().items())),
    }).reset_index().rename(columns={"e": "Easting", "n": "Northing"})  # fmt: skip
    out = out[out["Incidents"] >= min_count].sort_values(
        ["Incidents", "Location"], ascending=[False, True]
    )
    return (
        out[cols].head(top).reset_index(drop=True).astype({"Easting": "int64", "Northing": "int64"})
    )


#: fewer dated, located incidents than this: no Knox test (for all, or one category).
MIN_KNOX = 30


def near_repeat(b, months: int = 12, permutations: int = 999, seed: int = 6):
    """Knox tests on incidents dated to the day or better in the ``months`` to the period.

    One test for all such incidents together and one per category with at least
    :data:`MIN_KNOX` of them (police.uk data is dated only to the month, so it cannot be
    used). Each test asks one pre-specified question: are there more pairs of incidents
    within 200 m (and not at the same place) and 14 days of each other than when the
    dates are shuffled? The p-values are Holm-corrected over the tests.

    Returns
    -------
    (DataFrame, int)
        One row per test (``All dated incidents`` first): ``Test``, ``Incidents``,
        ``Pairs`` (observed within 200 m and 14 days), ``Expected`` (mean of the
        permutations), ``Knox ratio``, ``p``, ``p (Holm)``, ``Near repeats`` ("yes" when
        p (Holm) < 0.05 and the ratio > 1); and the number of dated incidents.
    """
    from .. import stats
    from .periods import Period

    use = Period(b.period.last - (months - 1), b.period.last)
    ev = _located(b.in_period(use))
    ev = ev[ev["time_precision"].isin(["exact", "day"])]
    groups = [("All dated incidents", ev)] if len(ev) >= MIN_KNOX else []
    for cat, g in sorted(ev.groupby("category"), key=lambda kv: -len(kv[1])):
        if len(g) >= MIN_KNOX and len(g) < len(ev):
            groups.append((b.label(cat), g))
    rows = []
    for name, g in groups:
        res = stats.knox_test(g, spatial_bands=[200], temporal_bands=[14],
                              permutations=permutations, seed=seed)  # fmt: skip
        band = res[
            (res["distance_from"] == 0) & (res["distance_to"] == 200) & (res["days_to"] == 14)
        ].iloc[0]
        rows.append({"Test": name, "Incidents": len(g), "Pairs": int(band["observed"]),
                     "Expected": float(band["expected"]), "Knox ratio": float(band["knox_ratio"]),
                     "p": float(band["p_value"])})  # fmt: skip
    cols = ["Test", "Incidents", "Pairs", "Expected", "Knox ratio", "p", "p (Holm)", "Near repeats"]
    out = pd.DataFrame(rows, columns=cols[:6])
    out["p (Holm)"] = _holm(out["p"].to_numpy())
    out["Near repeats"] = np.where((out["p (Holm)"] < ALPHA) & (out["Knox ratio"] > 1), "yes", "no")
    return out[cols], len(ev)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of ``p`` (family-wise error rate)."""
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def _months(b, action, months: int) -> tuple[pd.Period, int]:
    start = pd.Timestamp(action["start"]).to_period("M")
    return start, min(months, (b.period.last - start).n + 1)


def _in_area(inc: pd.DataFrame, area) -> pd.DataFrame:
    if area is None:
        return inc
    located = inc[inc.geometry.notna()]
    return located[located.geometry.within(area)]


def before_after(b, months: int = 3) -> pd.DataFrame:
    """Counts in the ``months`` before and after each action's start, with a rate test.

    Counts the action's categories (else every category briefed) inside the action's
    area, else the whole locality; the month the action starts counts as "after". After
    months not yet reached by the briefing's period are left out, and the before window
    shortened to match. Returns one row per action: ``Action, Start, Where, Months, Before,
    After, Change, p, Verdict``.
    """
    cols = ["Action", "Start", "Where", "Months", "Before", "After", "Change", "p", "Verdict"]
    rows = []
    for _, a in b.responses.actions.iterrows():
        start, n = _months(b, a, months)
        where = "response area" if a["area"] is not None else "whole locality"
        row = {"Action": a["action"], "Start": a["start"].date().isoformat(), "Where": where}
        if n < 1:
            rows.append({**row, "Months": 0, "Before": pd.NA, "After": pd.NA, "Change": pd.NA,
                         "p": np.nan, "Verdict": "starts after this period"})  # fmt: skip
            continue
        sel = _in_area(b.incidents, a["area"])
        if a["categories"]:
            sel = sel[sel["category"].isin(a["categories"])]
        ps = sel["period_start"].dt.to_period("M")
        before = int(((ps >= start - n) & (ps < start)).sum())
        after = int(((ps >= start) & (ps < start + n)).sum())
        p = _p_value(sel, start, n)
        verdict = "no significant change" if p >= ALPHA else (
            "significant fall" if after < before else "significant rise")  # fmt: skip
        rows.append({**row, "Months": n, "Before": before, "After": after,
                     "Change": after - before, "p": p, "Verdict": verdict})  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _p_value(sel: pd.DataFrame, start: pd.Period, n: int) -> float:
    """p of the after window against the before window (:func:`stats.compare_periods`)."""

    from .. import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        r = stats.compare_periods(
            sel, (str(start), str(start + n - 1)), (str(start - n), str(start - 1)), by=None
        )
    return float(r["p_value"].iloc[0]) if len(r) else 1.0


def wdq(b, months: int = 3) -> pd.DataFrame:
    """Weighted Displacement Quotient (Bowers & Johnson 2003) for each action with an area.

    Response area A (the action's area), buffer B (a ring ``b.responses.buffer`` metres
    wide around A) and control C (the rest of the partnership: every located incident
    outside A and B, in the audience's view), counting the action's categories in the
    ``months`` before (b) and after (a) its start::

        success = Aa/Ca - Ab/Cb        (negative: A improved relative to the control)
        WDQ     = (Ba/Ca - Bb/Cb) / (Aa/Ca - Ab/Cb)

    WDQ > 0: diffusion of benefit to the buffer; < 0: displacement into it. Not defined
    (NaN) when A did not improve relative to C, or C is empty in a window. The formula,
    its 95% bootstrap interval (``CI``) and the total net effect (``TNE``, incidents
    prevented) come from :func:`scribe_lib.stats.wdq`. Empty frame when no action has an area.
    """
    from .. import stats

    cols = ["Action", "Start", "A before", "A after", "B before", "B after",
            "C before", "C after", "Success", "WDQ", "CI", "TNE", "Reading"]  # fmt: skip
    acts = b.responses.actions
    acts = acts[acts["area"].notna()] if not acts.empty else acts
    rows = []
    for _, act in acts.iterrows():
        start, n = _months(b, act, months)
        if n < 1:
            continue
        cats = act["categories"] or b.categories
        inc = b.load_wide(cats, start - n, start + n - 1)
        ps = inc["period_start"].dt.to_period("M")
        area = act["area"]
        ring = area.buffer(b.responses.buffer).difference(area)
        zone = np.where(
            inc.geometry.within(area), "A", np.where(inc.geometry.within(ring), "B", "C")
        )
        before = ((ps >= start - n) & (ps < start)).to_numpy()
        after = ((ps >= start) & (ps < start + n)).to_numpy()
        c = {f"{z} {w}": int(((zone == z) & m).sum())
             for z in "ABC" for w, m in (("before", before), ("after", after))}  # fmt: skip
        r = {"Action": act["action"], "Start": act["start"].date().isoformat(), **c}
        if c["C before"] == 0 or c["C after"] == 0:
            r.update(Success=np.nan, WDQ=np.nan, CI=np.nan, TNE=np.nan,
                     Reading="control has no incidents in a window")  # fmt: skip
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                w = stats.wdq((c["A before"], c["A after"]), (c["B before"], c["B after"]),
                              (c["C before"], c["C after"]), n_boot=999, seed=6).iloc[0]  # fmt: skip
            succ, q = float(w["success_measure"]), float(w["wdq"])
            if succ >= 0:
                q, reading = np.nan, "no improvement in the response area relative to the control"
            else:
                reading = ("diffusion of benefit to the buffer" if q > 0 else
                           "displacement into the buffer" if q < 0 else "no change in the buffer")  # fmt: skip
            ci = f"{w['ci_low']:.2f} to {w['ci_high']:.2f}" if np.isfinite(q) else np.nan
            if caught and np.isfinite(q):  # e.g. a zero count: say so where it is read
                reading += " (interval understated: a count of 0)"
            r.update(Success=succ, WDQ=q, CI=ci, TNE=float(w["tne"]), Reading=reading)
        rows.append(r)
    return pd.DataFrame(rows, columns=cols)
