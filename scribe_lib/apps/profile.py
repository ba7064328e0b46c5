"""The locality profile (SARA scanning): what, where and when for a locality and problem."""

from __future__ import annotations

import html

import ipywidgets as w
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .. import stats  # noqa: E402
from ..taxonomy import load_taxonomy  # noqa: E402
from .charts import heatmap, line_chart, table_html  # noqa: E402
from .data import ALL, AppData, Selection  # noqa: E402
from .downloads import DownloadBar, frame_csv, png_bytes  # noqa: E402
from .style import header, note  # noqa: E402

__all__ = ["locality_profile", "LocalityProfile", "problem_categories"]


def problem_categories(problem: str | None) -> tuple[str, ...]:
    """Categories of a problem: a taxonomy group (``crime``, ``asb``...), a category, or all."""
    if problem in (None, "", ALL):
        return ()
    tax = load_taxonomy()
    if problem in tax.groups:
        return tuple(k for k in tax.categories if tax.group(k) == problem)
    return (problem,)


def _where_png(frame: pd.DataFrame, outline, title: str) -> bytes:
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    gpd_outline = outline
    gpd_outline.boundary.plot(ax=ax, color="#4b5563", linewidth=1)
    located = frame.dropna(subset=["easting", "northing"])
    ax.scatter(located["easting"], located["northing"], s=6, color="#b5391f", alpha=0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return png_bytes(fig)


class LocalityProfile(w.VBox):
    """The locality profile app (see :func:`locality_profile`)."""

    def __init__(self, data: AppData, *, locality=None, problem=None, start=None, end=None):
        self.data = data
        tax = load_taxonomy()
        present = set(data.categories)
        groups = [(f"{label} (all)", g) for g, label in tax.groups.items()
                  if any(tax.group(c) == g for c in present)]  # fmt: skip
        cats = [(tax.label(c), c) for c in sorted(present)]
        towns = [n for n in data.locality_names if n in set(
            data.localities.loc[data.localities["kind"] != "partnership", "name"])] or data.locality_names  # fmt: skip
        dd = {"style": {"description_width": "initial"}, "layout": w.Layout(width="auto")}
        self.locality = w.Dropdown(options=towns, value=locality or (towns[0] if towns else None),
                                   description="Locality", **dd)  # fmt: skip
        self.problem = w.Dropdown(options=[("All incidents", ALL), *groups, *cats],
                                  value=problem or ALL, description="Problem", **dd)  # fmt: skip
        months = data.months or [""]
        self.start = w.Dropdown(options=months, value=start or months[0], description="From", **dd)
        self.end = w.Dropdown(options=months, value=end or months[-1], description="To", **dd)
        for name, widget in (("locality", self.locality), ("problem", self.problem),
                             ("start", self.start), ("end", self.end)):  # fmt: skip
            widget.add_class(f"scribe-filter-{name}")
            widget.observe(lambda _c: self.update(), "value")
        self.what, self.where, self.when = w.HTML(), w.HTML(), w.HTML()
        self.what.add_class("scribe-what")
        self.where.add_class("scribe-where")
        self.when.add_class("scribe-when")
        self.where_img = w.Image(format="png", layout=w.Layout(max_width="520px"))
        self.when_img = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.hour_img = w.Image(format="png", layout=w.Layout(max_width="460px"))
        self.what_table = pd.DataFrame()
        self.downloads = DownloadBar(data.store, [
            ("CSV", "profile_what.csv", "text/csv", lambda: frame_csv(self.what_table))],
            lambda: {**self.selection.as_filter(), "problem": self.problem.value})  # fmt: skip
        super().__init__([
            header("Locality profile", "SARA scanning: what, where and when"),
            note("Scanning is the first step of SARA (Scanning, Analysis, Response, Assessment): "
                 "what the problem is, where and when it happens, before asking why."),
            w.HBox([self.locality, self.problem, self.start, self.end],
                   layout=w.Layout(flex_flow="row wrap")),
            w.HTML("<h2>What</h2>"), self.what,
            w.HTML("<h2>Where</h2>"), w.HBox([self.where_img, self.where]),
            w.HTML("<h2>When</h2>"), self.when, self.when_img, self.hour_img, self.downloads,
        ])  # fmt: skip
        self.add_class("scribe-app")
        self.update()

    @property
    def selection(self) -> Selection:
        start, end = sorted([self.start.value, self.end.value])
        return Selection(category=problem_categories(self.problem.value), start=start or None,
                         end=end or None, locality=self.locality.value)  # fmt: skip

    def update(self) -> None:
        """Recompute the three sections for the chosen locality, problem and period."""
        sel = self.selection
        frame = self.data.select(sel)
        n = len(frame)
        what = frame.groupby(["category", "partner"], dropna=False).size().rename("incidents")
        what = what.reset_index().sort_values("incidents", ascending=False, kind="stable")
        what["share %"] = (100 * what["incidents"] / max(n, 1)).round(1)
        self.what_table = what.reset_index(drop=True)
        self.what.value = (
            f'<p data-count="{n}"><strong>{n:,}</strong> incidents in {html.escape(sel.locality)}, '
            f"{sel.start} to {sel.end}.</p>" + table_html(self.what_table, "scribe-what-table")
        )
        outline = self.data.localities[self.data.localities["name"] == sel.locality]
        self.where_img.value = _where_png(frame, outline, f"{sel.locality}: located incidents")
        reps = stats.repeat_locations(frame, min_count=2) if n else pd.DataFrame()
        top = reps.head(10)[["location_text", "incidents", "categories"]] if len(reps) else reps
        self.where.value = (
            f"<h3>Repeat locations</h3><p>{len(reps):,} places with 2 or more incidents; the busiest "
            "10:</p>" + (table_html(top, "scribe-repeats") if len(top) else "<p>None.</p>")
        )
        monthly = stats.counts_by_period(frame, "month", start=sel.start and f"{sel.start}-01")
        self.when_img.value = line_chart(monthly, None, "Incidents per month")
        wd = frame["period_start"].dt.day_name()
        exact_day = frame["time_precision"].isin(["exact", "day"]).fillna(False).to_numpy(bool)
        days = wd[exact_day].value_counts().reindex(
            ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
            fill_value=0)  # fmt: skip
        hours = stats.hour_weekday(frame)
        busiest = ", ".join(f"{d} ({c})" for d, c in days.nlargest(2).items() if c)
        self.when.value = (
            f"<p>Busiest days (incidents known to the day): {busiest or 'not known'}. "
            f"{hours.attrs['used']:,} incidents have an exact time (hour by weekday below); "
            "police.uk crime is known only to the month.</p>"
        )
        self.hour_img.value = heatmap(hours, "Hour by weekday (exact times)")


def locality_profile(store=None, *, locality=None, problem=None, start=None, end=None):
    """Build the locality profile app.

    Parameters
    ----------
    store : Store or str, optional
        Default ``$SCRIBE_STORE``.
    locality : str, optional
        A locality name (default: the first town).
    problem : str, optional
        A taxonomy group (``crime``, ``asb``, ``environmental``, ``fire``) or category.
    start, end : str, optional
        ``YYYY-MM``, both inclusive.
    """
    return LocalityProfile(AppData(store), locality=locality, problem=problem, start=start, end=end)
