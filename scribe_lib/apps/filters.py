"""The filter bar shared by the apps: partner, category, period and locality.

Native ``<select>`` elements (ipywidgets ``Dropdown``), so they work with the keyboard
and screen readers; each has a visible label and a CSS class ``scribe-filter-NAME``.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from .data import ALL, AppData, Selection

__all__ = ["FilterBar"]


def _dropdown(name: str, label: str, options: list[str], value: str) -> w.Dropdown:
    dd = w.Dropdown(
        options=options,
        value=value,
        description=label,
        style={"description_width": "initial"},
        layout=w.Layout(width="auto", margin="2px 12px 2px 0"),
    )
    dd.add_class(f"scribe-filter-{name}")
    return dd


class FilterBar(w.HBox):
    """Drop-downs that build a :class:`Selection`; calls ``on_change(selection)``.

    Parameters
    ----------
    data : AppData
        Supplies the options (only what the user may see).
    partner, category, start, end, locality : str, optional
        Initial values (the notebook's parameters); ``None`` = all / first / last month.
    show : sequence of str
        Which filters to show (default all five).
    """

    FIELDS = ("partner", "category", "start", "end", "locality")

    def __init__(self, data: AppData, *, partner=None, category=None, start=None, end=None,
                 locality=None, show=FIELDS):  # fmt: skip
        months = data.months or [""]
        self.widgets = {
            "partner": _dropdown("partner", "Partner", [ALL, *data.partners], partner or ALL),
            "category": _dropdown(
                "category", "Category", [ALL, *sorted(data.categories)], category or ALL
            ),
            "start": _dropdown("start", "From", months, start or months[0]),
            "end": _dropdown("end", "To", months, end or months[-1]),
            "locality": _dropdown(
                "locality", "Locality", [ALL, *data.locality_names], locality or ALL
            ),
        }
        self._callbacks: list[Callable[[Selection], None]] = []
        for name, dd in self.widgets.items():
            dd.observe(self._changed, "value")
            if name not in show:
                dd.layout.display = "none"
        super().__init__(
            [self.widgets[n] for n in self.FIELDS],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.add_class("scribe-filters")

    @property
    def selection(self) -> Selection:
        """The current filter."""
        v = {k: dd.value for k, dd in self.widgets.items()}
        start, end = v["start"] or None, v["end"] or None
        if start and end and start > end:  # a reversed period means the months between
            start, end = end, start
        return Selection(
            partner=() if v["partner"] == ALL else (v["partner"],),
            category=() if v["category"] == ALL else (v["category"],),
            start=start,
            end=end,
            locality=None if v["locality"] == ALL else v["locality"],
        )

    def on_change(self, callback: Callable[[Selection], None]) -> None:
        """Call ``callback(selection)`` after any filter changes."""
        self._callbacks.append(callback)

    def _changed(self, _change) -> None:
        sel = self.selection
        for cb in self._callbacks:
            cb(sel)
