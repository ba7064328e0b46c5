"""What a SARA locality briefing says: the data behind each section, as plain frames.

:func:`prepare` loads one locality's incidents once (through :func:`scribe_lib.load`, in
the audience organisation's view) and returns a :class:`Briefing`; the notebook's thin
cells call its methods. Counts are by ``period_start`` month, the unit every partner
shares; a month a partner sent no data is "no data", never a zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .audience import AudienceView, audience_view
from .periods import Period, parse_period
from .responses import Responses, load_responses

__all__ = ["Briefing", "prepare", "ALPHA"]

#: significance level of the changes reported in Scanning.
ALPHA = 0.05


def _taxonomy_labels() -> dict[str, str]:
    from importlib import resources

    import yaml

    doc = yaml.safe_load(
        resources.files("scribe_lib").joinpath("data/taxonomy.yml").read_text("utf-8")
    )
    return {k: v.get("label", k) for k, v in doc["categories"].items()}


@dataclass
class Briefing:
    """One locality's data for one period, as one audience may see it."""

    locality: str
    period: Period
    comparison: Period
    last_year: Period
    categories: list | None
    view: AudienceView
    boundary: object
    coverage: pd.DataFrame
    responses: Responses
    store_url: str
    backend: str
    store: object = field(default=None, repr=False)  # what prepare() read from (may hold a secret)
    labels: dict = field(default_factory=_taxonomy_labels)

    @property
    def incidents(self) -> pd.DataFrame:
        """Every incident loaded for the briefing (all months needed), in the audience's view."""
        return self.view.incidents

    def in_period(self, period: Period) -> pd.DataFrame:
        """Incidents whose ``period_start`` falls in ``period``."""
        inc = self.incidents
        return inc[period.contains(inc["period_start"])]

    def label(self, category: str) -> str:
        return self.labels.get(category, category)

    # -- data coverage ----------------------------------------------------------------------
    def missing(self, period: Period) -> dict[str, list[str]]:
        """``partner -> months`` of ``period`` the partner sent no data for."""
        cov = self.coverage
        out: dict[str, list[str]] = {}
        if cov.empty:
            return out
        months = pd.date_range(period.start_date, period.end_date, freq="MS", inclusive="left")
        for partner, g in cov.groupby("partner"):
            have = set(g.loc[g["status"] == "data", "month"])
            gap = [m.strftime("%b %Y") for m in months if m not in have]
            if gap:
                out[str(partner)] = gap
        return out

    def caveats(self) -> list[str]:
        """Plain-English lines on data gaps and on what the agreement withheld."""
        lines = list(self.view.notes)
        gaps: dict[str, list[str]] = {}
        for name, p in (
            ("this period", self.period),
            ("the comparison period", self.comparison),
            ("the same period last year", self.last_year),
        ):
            for partner, months in self.missing(p).items():
                gaps.setdefault(partner, []).append(f"{', '.join(months)} ({name})")
        for partner, where in gaps.items():
            lines.append(
                f"{partner} sent no data for {'; '.join(where)}: its categories show "
                "'no data' there, not zero."
            )
        if self.view.enforced_by == "python":
            lines.append(
                f"The data-sharing agreement for {self.view.label} was applied by SCRIBE "
                "in Python (embedded store)."
            )
        elif self.view.enforced_by == "database+python":
            lines.append(
                f"The data-sharing agreement for {self.view.label} was enforced by the database "
                "(the organisation's PostgreSQL login) and checked again by SCRIBE."
            )
        return lines

    def load_wide(self, categories, first: pd.Period, last: pd.Period) -> pd.DataFrame:
        """Located incidents of the whole partnership (not only the locality) in the months
        ``first..last``, in the audience's view: the control area of the WDQ."""
        from .. import api

        inc = api.load(self.store, category=list(categories) if categories else None,
                       start=str(first), end=str(last), located_only=True)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return audience_view(inc, self.view.audience).incidents

    # -- Scanning -------------------------------------------------------------------------
    def scanning(self) -> pd.DataFrame:
        """Counts by category: this period, the comparison period and the same period last year.

        Returns
        -------
        DataFrame
            ``category`` (key), ``Category`` (label), ``This period``, ``Previous period``,
            ``Change``, ``p (previous)``, ``Same period last year``, ``Change on last year``,
            ``p (last year)``. A count is ``NA`` where a partner reporting the category
            sent no data for part of that period. Sorted by this period's count.
        """
        inc = self.incidents
        cats = sorted(set(inc["category"].dropna()) | set(self.categories or ()))
        partners_of = {str(c): set(g.dropna()) for c, g in inc.groupby("category")["partner"]}
        p_prev, p_last = self._p_values(self.comparison), self._p_values(self.last_year)
        rows = []
        for cat in cats:
            row = {"category": cat, "Category": self.label(cat)}
            for col, p in (
                ("This period", self.period),
                ("Previous period", self.comparison),
                ("Same period last year", self.last_year),
            ):
                gaps = self.missing(p)
                sub = self.in_period(p)
                n = int((sub["category"] == cat).sum())
                row[col] = pd.NA if set(gaps) & partners_of.get(cat, set()) else n
            cur = row["This period"]
            for base, chg, pcol, pv in (
                ("Previous period", "Change", "p (previous)", p_prev),
                ("Same period last year", "Change on last year", "p (last year)", p_last),
            ):
                b = row[base]
                if pd.isna(cur) or pd.isna(b):
                    row[chg], row[pcol] = pd.NA, np.nan
                else:
                    row[chg] = int(cur) - int(b)
                    row[pcol] = pv.get(cat, 1.0)  # absent: no incident in either period
            rows.append(row)
        cols = [
            "category",
            "Category",
            "This period",
            "Previous period",
            "Change",
            "p (previous)",
            "Same period last year",
            "Change on last year",
            "p (last year)",
        ]
        df = pd.DataFrame(rows, columns=cols)
        for c in (
            "This period",
            "Previous period",
            "Change",
            "Same period last year",
            "Change on last year",
        ):
            df[c] = df[c].astype("Int64")
        if not self.categories:  # categories with nothing in any of the three periods say nothing
            counts = df[["This period", "Previous period", "Same period last year"]]
            df = df[(counts.fillna(1) > 0).any(axis=1)]
        return df.sort_values(
            ["This period", "Category"], ascending=[False, True], na_position="last"
        ).reset_index(drop=True)

    def _p_values(self, baseline: Period) -> dict[str, float]:
        """``category -> p`` of this period against ``baseline`` (:func:`stats.compare_periods`)."""
        from .. import stats

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # straddling incidents: none by month
            r = stats.compare_periods(
                self.incidents,
                (self.period.start, self.period.end),
                (baseline.start, baseline.end),
                by="category",
            )
        return dict(zip(r["category"].astype(str), r["p_value"].astype(float), strict=True))

    def scanning_sentences(self, table: pd.DataFrame | None = None) -> list[str]:
        """The Scanning table in words: what rose or fell significantly, what did not.

        A change involving a count the agreement suppresses for this audience is not put
        in words, and neither is the total when any count is suppressed (it would give
        the suppressed count away by difference).
        """
        t = self.scanning() if table is None else table
        if t.empty:
            return [f"No incidents were recorded in {self.locality} in {self.period.label()}."]
        if t["This period"].isna().all():
            return [f"No partner sent data for {self.period.label()}: there is nothing to compare."]
        hidden = [self._hidden(c, v) for c, v in zip(t["category"], t["This period"], strict=True)]
        n_cat = int((t["This period"] > 0).sum())
        if any(hidden):
            out = [
                f"Incidents were recorded in {self.locality} in {self.period.label()} in {n_cat} categories."
            ]
        else:
            total = int(t["This period"].sum(skipna=True))
            out = [
                f"{total} incidents were recorded in {self.locality} in {self.period.label()} across {n_cat} categories."
            ]
        for _, r in t.iterrows():
            for base, pcol, when in (
                ("Previous period", "p (previous)", self.comparison.label()),
                ("Same period last year", "p (last year)", self.last_year.label()),
            ):
                cur, b, p = r["This period"], r[base], r[pcol]
                if pd.isna(cur) or pd.isna(b) or pd.isna(p) or p >= ALPHA:
                    continue
                if self._hidden(r["category"], cur) or self._hidden(r["category"], b):
                    continue
                word = "rose" if cur > b else "fell"
                pct = f" ({(cur - b) / b:+.0%})" if b else ""
                out.append(
                    f"{r['Category']} {word} significantly from {int(b)} in {when} to {int(cur)}{pct}, p = {p:.3f}."
                )
        if len(out) == 1:
            out.append(
                f"No category changed significantly (at the {ALPHA:.0%} level) against {self.comparison.label()} or {self.last_year.label()}; the differences are within normal variation."
            )
        return out

    def shown(self, table: pd.DataFrame) -> pd.DataFrame:
        """The table for the audience: small counts suppressed as the agreement says.

        A suppressed count shows as ``<n``; the change and p-value of a comparison that
        involves one show as ``suppressed`` (they would give the count away).
        """
        t = table.copy().astype(object)
        pairs = (("Previous period", "Change", "p (previous)"),
                 ("Same period last year", "Change on last year", "p (last year)"))  # fmt: skip
        for i, r in table.iterrows():
            cat = r["category"]
            for base, chg, pcol in pairs:
                if self._hidden(cat, r["This period"]) or self._hidden(cat, r[base]):
                    t.at[i, chg], t.at[i, pcol] = "suppressed", "suppressed"
            for c in ("This period", "Previous period", "Same period last year"):
                t.at[i, c] = self._suppress(cat, r[c])
            for c in ("p (previous)", "p (last year)"):
                if t.at[i, c] != "suppressed":
                    t.at[i, c] = "–" if pd.isna(r[c]) else f"{r[c]:.3f}"
        return t

    def _hidden(self, category: str, value) -> bool:
        below = self.view.suppress_below.get(category)
        return bool(below) and not pd.isna(value) and 0 < int(value) < below

    def _suppress(self, category: str, value) -> str:
        if pd.isna(value):
            return "no data"
        if self._hidden(category, value):
            return f"<{self.view.suppress_below[category]}"
        return str(int(value))


def prepare(
    store=None,
    locality: str | None = None,
    period: str | Period | None = None,
    *,
    comparison=None,
    categories=None,
    audience: str | None = None,
    responses=None,
    history_months: int = 24,
) -> Briefing:
    """Load everything a locality briefing needs, once.

    Parameters
    ----------
    store : Store or str, optional
        The store or its URL (default ``$SCRIBE_STORE``); opened read-only.
    locality : str
        A locality name (``scribe_lib.localities()``).
    period : str
        ``YYYY-MM`` (or ``YYYY-MM..YYYY-MM``): the months briefed.
    comparison : str, optional
        The period to compare with; default the period of the same length just before.
    categories : list of str, optional
        Taxonomy categories to brief on; default all.
    audience : str, optional
        The organisation the briefing is for; its view of the data under the agreement.
    responses : path, optional
        Directory of response YAML files (:func:`~scribe_lib.briefings.load_responses`).
    history_months : int
        Months loaded before the period for before/after and near-repeat (default 24).

    Raises
    ------
    scribe_lib.ConfigError, scribe_lib.NotFoundError
        A bad period, an unknown locality, category or organisation.
    """
    from .. import api
    from ..errors import ConfigError

    if not locality or not isinstance(locality, str):
        raise ConfigError(f"locality must be a locality name, not {locality!r}")
    per = parse_period(period, "period")
    comp = parse_period(comparison, "comparison") if comparison else per.previous()
    last = per.last_year()
    resp = load_responses(locality, responses)
    first = min(comp.first, last.first, per.first - history_months)
    if not resp.actions.empty:
        first = min(first, pd.Period(resp.actions["start"].min(), freq="M") - 12)
    st = api.open_store(store, read_only=True) if not hasattr(store, "read_incidents") else store
    try:
        inc = api.load(st, category=categories, locality=locality, start=str(first), end=per.end)
        bounds = api.localities(st)
        match = bounds[bounds["name"] == locality.rpartition(":")[2]]
        boundary = match.geometry.iloc[0] if len(match) else None
        cov = api.coverage(st)
        backend = getattr(st, "backend", "duckdb")
        url = getattr(st, "display_url", str(store))
    finally:
        if st is not store:
            st.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        # a PostgreSQL login of an organisation reads through the agreement's views
        enforced = "postgres-role" if getattr(st, "shared", None) else backend
        view = audience_view(inc, audience, backend=enforced)
    cats = list(categories) if categories else None
    return Briefing(
        locality, per, comp, last, cats, view, boundary, cov, resp, url, backend, store=store
    )
