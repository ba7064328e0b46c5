"""The trends app: counts over time, this period against last year, hour x weekday."""

from __future__ import annotations

import warnings

import ipywidgets as w
import pandas as pd

from .. import stats
from ..api import coverage
from .charts import heatmap, line_chart, table_html
from .data import AppData, Selection
from .downloads import DownloadBar, frame_csv
from .filters import FilterBar
from .style import header, note

__all__ = ["trends_app", "TrendsApp", "comparison_windows"]

SPLITS = [
    ("no split", ""),
    ("category", "category"),
    ("partner", "partner"),
    ("area (town)", "area"),
]
WINDOWS = [("3 months", 3), ("6 months", 6), ("12 months", 12)]


def comparison_windows(end: str, months: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """``(current, baseline)`` month windows: ``months`` months ending at ``end``, and the
    same months one year earlier (both ``("YYYY-MM", "YYYY-MM")``, inclusive)."""
    hi = pd.Period(end, freq="M")
    lo = hi - (months - 1)
    return (str(lo), str(hi)), (str(lo - 12), str(hi - 12))


class TrendsApp(w.VBox):
    """The trends app (see :func:`trends_app`)."""

    def __init__(self, data: AppData, **initial):
        self.data = data
        self.filters = FilterBar(data, show=("partner", "category", "end", "locality"), **initial)
        self.filters.widgets["end"].description = "Period ending"
        self.split = w.Dropdown(options=SPLITS, value="", description="Split by")
        self.split.add_class("scribe-split")
        self.window = w.Dropdown(options=WINDOWS, value=12, description="Compare")
        self.window.add_class("scribe-window")
        self.chart = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.compare = w.HTML()
        self.compare.add_class("scribe-compare")
        self.heat = w.Image(format="png", layout=w.Layout(max_width="480px"))
        self.heat_note = w.HTML()
        self.heat_note.add_class("scribe-hour-weekday")
        self.monthly = pd.DataFrame()
        self.comparison = pd.DataFrame()
        self.hours = pd.DataFrame()
        try:
            self.coverage = coverage(data.store)
        except Exception:  # noqa: BLE001 - a login that may not read submissions still sees counts
            self.coverage = None
        self.downloads = DownloadBar(data.store, [
            ("CSV", "monthly_counts.csv", "text/csv", lambda: frame_csv(self.monthly)),
            ("comparison", "comparison.csv", "text/csv", lambda: frame_csv(self.comparison)),
            ("hours", "hour_weekday.csv", "text/csv",
             lambda: frame_csv(self.hours.reset_index())),
        ], lambda: {**self.filters.selection.as_filter(), "window_months": self.window.value})  # fmt: skip
        self.filters.on_change(lambda _s: self.update())
        self.split.observe(lambda _c: self.update(), "value")
        self.window.observe(lambda _c: self.update(), "value")
        super().__init__([
            header("Trends", "Counts over time, this period against last year, hour by weekday"),
            self.filters, w.HBox([self.split, self.window]),
            w.HTML("<h2>Incidents per month</h2>"), self.chart,
            w.HTML("<h2>This period against the same period last year</h2>"),
            note("A change is marked significant when it is unlikely to be chance variation "
                 "(test of two Poisson rates, p < 0.05, allowing for extra month-to-month "
                 "variation). With many categories, expect about 1 in 20 to be marked by chance."),
            self.compare,
            w.HTML("<h2>Hour of day by weekday</h2>"), self.heat_note, self.heat, self.downloads,
        ])  # fmt: skip
        self.add_class("scribe-app")
        self.update()

    @property
    def selection(self) -> Selection:
        sel = self.filters.selection
        return Selection(sel.partner, sel.category, None, None, sel.locality)

    def update(self) -> None:
        """Recompute the chart, the comparison and the hour x weekday table."""
        sel = self.selection
        incidents = self.data.select(sel)
        by = self.split.value or None
        areas = None
        if by == "area":
            areas = self.data.localities[self.data.localities["kind"] == "town"][
                ["name", "geometry"]
            ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.monthly = stats.counts_by_period(incidents, "month", by=by, areas=areas,
                                                  coverage=self.coverage)  # fmt: skip
        self.chart.value = line_chart(self.monthly, by, f"Incidents per month: {sel.describe()}")
        end = self.filters.widgets["end"].value
        current, baseline = comparison_windows(end, self.window.value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cmp = stats.compare_periods(incidents, current, baseline, by="category")
        cmp = cmp[(cmp["current"] > 0) | (cmp["baseline"] > 0)]
        self.comparison = cmp.sort_values("current", ascending=False).reset_index(drop=True)
        shown = self.comparison[["category", "current", "baseline", "change", "pct_change", "p_value",
                                 "significant"]]  # fmt: skip
        total_c, total_b = int(shown["current"].sum()), int(shown["baseline"].sum())
        self.compare.value = (
            f'<p data-current="{total_c}" data-baseline="{total_b}">{current[0]} to {current[1]}: '
            f"<strong>{total_c:,}</strong> incidents; {baseline[0]} to {baseline[1]}: "
            f"<strong>{total_b:,}</strong>.</p>"
            + table_html(shown, "scribe-comparison", {
                "current": f"{current[0]}..{current[1]}", "baseline": f"{baseline[0]}..{baseline[1]}",
                "pct_change": "change %", "p_value": "p"}, flag="significant")
        )  # fmt: skip
        self.hours = stats.hour_weekday(incidents)
        used, left = self.hours.attrs["used"], self.hours.attrs["left_out"]
        self.heat_note.value = (
            f'<p data-used="{used}">{used:,} incidents have an exact time and are shown; {left:,} '
            "known only to the day or month (all police.uk crime) are left out.</p>"
        )
        self.heat.value = heatmap(self.hours, "Incidents by hour and weekday")


def trends_app(store=None, *, category=None, partner=None, locality=None, end=None) -> TrendsApp:
    """Build the trends app for the user's store.

    Parameters
    ----------
    store : Store or str, optional
        Default ``$SCRIBE_STORE``.
    category, partner, locality : str, optional
        Initial filter.
    end : str, optional
        Last month ``YYYY-MM`` of the period compared with a year earlier (default: the last).
    """
    return TrendsApp(AppData(store), category=category, partner=partner, locality=locality, end=end)
