"""HTML fragments of the briefing sections, for the notebook's thin cells.

Every function takes a :class:`~scribe_lib.briefings.Briefing` and returns an
``IPython.display.HTML`` object; figures are embedded as PNG data URIs so the exported
page needs nothing from the network. Tables carry ids (``scanning-table``...) so that
tests and other tools can read the numbers back.
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

from . import analysis
from .sections import ALPHA

__all__ = [
    "header",
    "scanning",
    "hotspots",
    "when",
    "repeats",
    "near_repeats",
    "response",
    "assessment",
    "figure_html",
]


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def figure_html(fig, alt: str) -> str:
    """A matplotlib figure as an ``<img>`` with an embedded PNG (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(df: pd.DataFrame, table_id: str, floats: str = "{:.3f}") -> str:
    return df.to_html(
        table_id=table_id,
        index=False,
        na_rep="–",
        float_format=floats.format,
        border=0,
        escape=True,
    )


def _small_counts(b, df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Counts below the agreement's threshold shown as ``<n`` when this audience has any
    suppression rule (cell and place counts are aggregates too). Category breakdowns
    (``Categories``) are dropped then, as they would give the small counts away."""
    below = max(b.view.suppress_below.values(), default=0)
    if not below:
        return df
    out = df.drop(columns=["Categories"], errors="ignore").astype({c: object for c in columns})
    for c in columns:
        out[c] = [f"<{below}" if 0 < int(v) < below else str(int(v)) for v in df[c]]
    return out


def _none(text: str) -> str:
    return f'<p class="scribe-none">{html.escape(text)}</p>'


def header(b):
    """Title, period, audience and the data caveats."""
    who = b.view.label or "the partnership's analysts (every partner's data)"
    cav = "".join(f"<li>{html.escape(c)}</li>" for c in b.caveats())
    cav = f'<div class="scribe-caveat"><b>About the data</b><ul>{cav}</ul></div>' if cav else ""
    cats = ", ".join(b.label(c) for c in b.categories) if b.categories else "all categories"
    return _html(
        f"<h1>{html.escape(b.locality)}: locality briefing</h1>"
        f'<p class="scribe-meta"><b>Period:</b> {html.escape(b.period.label())} &middot; '
        f"<b>compared with</b> {html.escape(b.comparison.label())} and {html.escape(b.last_year.label())} &middot; "
        f"<b>Categories:</b> {html.escape(cats)}<br><b>Prepared for:</b> {html.escape(who)} &middot; "
        f"<b>Incidents loaded:</b> {len(b.incidents)} (from {html.escape(b.backend)} store)</p>{cav}"
    )


def scanning(b):
    """What changed, in words and as a table with the significance of each change."""
    t = b.scanning()
    words = "".join(f"<li>{html.escape(s)}</li>" for s in b.scanning_sentences(t))
    shown = b.shown(t).drop(columns=["category"])
    note = (
        "<p><small>Counts by month of the incident. p: test that the two periods share one "
        "daily rate (scribe_lib.stats.compare_periods: exact conditional Poisson test; "
        f"quasi-Poisson for windows of 3 months or more); a change is called significant when p &lt; {ALPHA}. "
        "'no data': a partner reporting the category sent no data for part of that period.</small></p>"
    )
    body = (
        _table(shown, "scanning-table") if len(shown) else _none("No incidents in these periods.")
    )
    return _html(f"<ul>{words}</ul>{body}{note}")


def hotspots(b, cell: float | None = None, distance: float | None = None):
    """The hot spot map (static image) and the hottest cells."""
    fig, hot = analysis.hotspot_map(b, cell=cell, distance=distance)
    if fig is None:
        return _html(_none(f"Too few located incidents in {b.period.label()} for a hot spot map."))
    top = (
        hot.head(5)
        .drop(columns=["cell_id"], errors="ignore")
        .astype({"x": "int64", "y": "int64"})
        .rename(
            columns={
                "cell_id": "Cell",
                "x": "Easting",
                "y": "Northing",
                "incidents": "Incidents",
                "gi_z": "Gi* z",
                "p_fdr": "p (FDR)",
            }
        )
    )
    text = (
        f"<p>{len(hot)} grid cells are significant hot spots (Getis-Ord Gi*, false discovery rate corrected).</p>"
        if len(hot)
        else "<p>No cell is a significant hot spot after correcting for multiple testing.</p>"
    )
    table = _table(_small_counts(b, top, ["Incidents"]), "hotspot-table") if len(top) else ""
    return _html(figure_html(fig, f"Hot spot map of {b.locality}") + text + table)


def when(b):
    """Hour of day x weekday of incidents with an exact time."""
    t, used, fig = analysis.hour_weekday(b)
    n = int(t.to_numpy().sum())
    if n == 0:
        return _html(
            _none("No incident in these months has an exact time (police.uk data is monthly).")
        )
    peak = t.stack().idxmax()
    note = (
        ""
        if used == b.period
        else f" The period has too few exact-time incidents, so the 12 months to {b.period.last.strftime('%B %Y')} are used."
    )
    return _html(
        figure_html(fig, "Hour by weekday")
        + f"<p>{n} incidents have an exact time; the busiest hour is {peak[1]} {peak[0]:02d}:00.{html.escape(note)}</p>"
    )


def repeats(b):
    """Repeat locations of the period."""
    t = analysis.repeat_locations(b)
    if t.empty:
        return _html(_none(f"No location had two or more incidents in {b.period.label()}."))
    return _html(
        f"<p>{len(t)} location(s) had two or more incidents (the top 10 are listed).</p>"
        + _table(_small_counts(b, t, ["Incidents"]), "repeat-table")
    )


def near_repeats(b):
    """Knox near-repeat tests where dates allow: all dated incidents, then by category."""
    summary, n = analysis.near_repeat(b)
    if summary.empty:
        return _html(_none(
            f"Only {n} incidents in the 12 months to {b.period.last.strftime('%B %Y')} are "
            "located and dated to the day: too few for a near-repeat test (police.uk data is "
            "dated only to the month)."))  # fmt: skip
    found = summary[summary["Near repeats"] == "yes"]["Test"].tolist()
    text = (
        "<p>Near repeats (more pairs within 200 m and 14 days than chance gives): "
        f"{html.escape(', '.join(found))}.</p>"
        if found
        else "<p>No significant near-repeat pattern within 200 m and 14 days.</p>"
    )
    note = (
        f"<p><small>Knox test on the {n} located incidents dated to the day in the 12 months "
        f"to {b.period.last.strftime('%B %Y')}: pairs 1-200 m and 0-14 days apart, against "
        "999 shuffles of the dates; p-values Holm-corrected over the rows.</small></p>"
    )
    return _html(text + _table(summary, "near-repeat-table") + note)


def response(b):
    """The actions the group recorded, with start dates."""
    r = b.responses
    if r.actions.empty:
        return _html(
            _none(f"The group has recorded no actions for {b.locality} (no response file).")
        )
    a = r.actions
    t = pd.DataFrame({
        "Action": a["action"],
        "Lead": a["lead"],
        "Start": a["start"].dt.strftime("%d %b %Y"),
        "End": a["end"].dt.strftime("%d %b %Y"),
        "Targets": a["categories"].map(lambda c: ", ".join(b.label(x) for x in c) if c else "all"),
        "Area": a["area"].map(lambda g: f"{g.area / 1e6:.2f} km²" if g is not None else "whole locality"),
    })  # fmt: skip
    head = f"<p><b>{html.escape(r.group)}</b></p>" if r.group else ""
    if r.problem:
        head += f"<p>Problem: {html.escape(str(r.problem))}</p>"
    return _html(head + _table(t, "response-table"))


def assessment(b, months: int = 3):
    """Before/after each action's start and, for actions with an area, the WDQ."""
    if b.responses.actions.empty:
        return _html(_none("Nothing to assess: no actions are recorded."))
    ba = analysis.before_after(b, months=months)
    out = (
        f"<p>Incidents of each action's target categories in the {months} months before and "
        "after it started (the start month counts as after), in its area or the whole "
        "locality (rate test as in Scanning).</p>" + _table(ba, "before-after-table")
    )
    w = analysis.wdq(b, months=months)
    if not w.empty:
        out += (
            "<p>Weighted Displacement Quotient (Bowers &amp; Johnson 2003): response area A, "
            f"a {b.responses.buffer:.0f} m buffer B around it, the rest of the partnership as "
            "control C. WDQ &gt; 0: the benefit spread to the buffer; &lt; 0: displacement. "
            "CI: 95% bootstrap interval; TNE: total net effect (incidents prevented).</p>"
        )
        out += _table(w, "wdq-table")
    return _html(out)
