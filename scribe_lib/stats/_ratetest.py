"""Is a change in counts between two periods more than chance? (trends; private module)

Tests, for counts :math:`c` (current window, length :math:`L_c` days) and :math:`b`
(baseline window, :math:`L_b` days):

* **poisson** - the conditional (exact) test of two Poisson rates (Przyborowski &
  Wilenski 1940; Krishnamoorthy & Thomson 2004): given :math:`n = c + b`, under equal
  daily rates :math:`c \\sim \\mathrm{Binomial}(n, \\pi_0)`, :math:`\\pi_0 = L_c/(L_c+L_b)`;
  two-sided exact p from ``scipy.stats.binomtest``.
* **quasipoisson** - for over-dispersed counts (crime counts usually are), a Wald test on
  the log rate ratio with the variance inflated by the dispersion :math:`\\phi`:
  :math:`z = \\log(\\mathrm{RR}) / \\sqrt{\\phi(1/c + 1/b)}`, :math:`p = 2\\Phi(-|z|)`, where
  :math:`\\phi = \\frac{1}{m - 2}\\sum_w\\sum_{k \\in w} (x_k - \\bar x_w)^2 / \\bar x_w`
  is the Pearson dispersion of the monthly counts :math:`x_k` about each window's mean
  (:math:`m` months in all; McCullagh & Nelder 1989, sec. 4.5), floored at 1.
* **auto** (default) - quasipoisson when both windows span at least 3 whole months and
  :math:`\\phi > 1`, else poisson.

Rate ratio :math:`\\mathrm{RR} = (c/L_c)/(b/L_b)`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as st

from ..errors import ScribeError

__all__ = ["compare_periods", "window_of", "rate_test"]


def window_of(spec, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``("2024-01", "2024-03")`` -> [2024-01-01, 2024-04-01): months inclusive; a
    ``"YYYY-MM-DD"`` end is inclusive of that day."""
    if not isinstance(spec, tuple | list) or len(spec) != 2:
        raise ScribeError(f"{name} must be (start, end), e.g. ('2024-01', '2024-03'), not {spec!r}")
    try:
        lo = pd.Timestamp(str(spec[0]))
        hi_s = str(spec[1])
        hi = pd.Timestamp(hi_s)
    except ValueError as exc:
        raise ScribeError(f"{name}: {spec!r} is not a pair of dates such as '2024-01'") from exc
    hi = hi + (pd.DateOffset(months=1) if len(hi_s) == 7 else pd.Timedelta(days=1))
    if hi <= lo:
        raise ScribeError(f"{name} ends before it starts: {spec!r}")
    return lo, hi


def rate_test(c: float, b: float, lc: float, lb: float, phi: float = 1.0, method="poisson"):
    """``(rate_ratio, p_value)`` for counts c, b over exposures lc, lb (see module doc)."""
    rr = (c / lc) / (b / lb) if b > 0 else (np.inf if c > 0 else np.nan)
    n = int(c + b)
    if n == 0:
        return rr, 1.0
    if method == "quasipoisson" and c > 0 and b > 0:
        z = np.log(rr) / np.sqrt(max(phi, 1.0) * (1 / c + 1 / b))
        return rr, float(2 * st.norm.sf(abs(z)))
    return rr, float(st.binomtest(int(c), n, lc / (lc + lb)).pvalue)


def _dispersion(months: pd.DataFrame) -> float:
    """Pearson dispersion of monthly counts about each window's mean (NaN if < 3 a side)."""
    sizes = months.groupby("w")["x"].size()
    if len(sizes) < 2 or sizes.min() < 3:
        return np.nan
    mean = months.groupby("w")["x"].transform("mean")
    ok = mean > 0
    x2 = float((((months["x"] - mean) ** 2)[ok] / mean[ok]).sum())
    return x2 / (len(months) - 2)


def compare_periods(
    incidents: pd.DataFrame,
    current,
    baseline,
    by="category",
    *,
    method: str = "auto",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Counts in a current and a baseline window, per group, with a significance test.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Harmonised incidents. One is in a window when its whole period
        ``[period_start, period_end)`` is inside it (a police.uk month counts only in a
        window holding that whole month; straddling incidents are left out with a warning).
    current, baseline : (start, end)
        ``"YYYY-MM"`` months (both inclusive) or ``"YYYY-MM-DD"`` days (both inclusive).
    by : str, list of str or None
        Groups (default ``"category"``); None for the total.
    method : {"auto", "poisson", "quasipoisson"}
        See the module documentation for the formulas.
    alpha : float
        Level for ``significant``.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``current``, ``baseline`` (counts), ``change`` (current -
        baseline), ``pct_change`` (100 x change / baseline), ``rate_ratio`` (per day),
        ``dispersion`` (:math:`\\phi`, NaN when not estimable), ``method``, ``p_value``,
        ``significant`` (p < alpha). No correction for testing many groups is made.
    """
    if method not in ("auto", "poisson", "quasipoisson"):
        raise ScribeError(f"method must be 'auto', 'poisson' or 'quasipoisson', not {method!r}")
    by = [by] if isinstance(by, str) else list(by or [])
    missing = [c for c in by if c not in incidents.columns]
    if missing:
        raise ScribeError(f"cannot compare by {missing}: no such column")
    if by:  # a missing group value is a group of its own, named so it cannot vanish
        incidents = incidents.assign(
            **{c: incidents[c].astype("string").fillna("(not given)") for c in by}
        )
    win = {"current": window_of(current, "current"), "baseline": window_of(baseline, "baseline")}
    ps, pe = pd.to_datetime(incidents["period_start"]), pd.to_datetime(incidents["period_end"])
    parts = []
    for w, (lo, hi) in win.items():
        inside = (ps >= lo) & (pe <= hi)
        straddle = (ps < hi) & (pe > lo) & ~inside
        if straddle.any():
            warnings.warn(
                f"{int(straddle.sum())} incident(s) whose period straddles the {w} window "
                f"({lo.date()} to {hi.date()}) were left out",
                stacklevel=2,
            )
        parts.append(incidents.loc[inside, by].assign(w=w, m=ps[inside].dt.to_period("M")))
    sel = pd.concat(parts, ignore_index=True)
    keys = by or ["_all"]
    if not by:
        sel["_all"] = "all"
    groups = (
        list(incidents[by].drop_duplicates().itertuples(index=False, name=None))
        if by
        else [("all",)]
    )
    lc = (win["current"][1] - win["current"][0]).days
    lb = (win["baseline"][1] - win["baseline"][0]).days
    whole = {w: (lo.day == 1 and hi.day == 1) for w, (lo, hi) in win.items()}
    rows = []
    counted = sel.groupby([*keys, "w"], dropna=False).size()
    for g in groups:
        g = g if isinstance(g, tuple) else (g,)
        c = int(counted.get((*g, "current"), 0))
        b = int(counted.get((*g, "baseline"), 0))
        phi = np.nan
        if all(whole.values()):
            mine = sel
            for k, v in zip(keys, g, strict=True):
                mine = mine[mine[k] == v] if not pd.isna(v) else mine[mine[k].isna()]
            months = []
            for w, (lo, hi) in win.items():
                idx = pd.period_range(lo, hi - pd.Timedelta(days=1), freq="M")
                x = mine[mine["w"] == w].groupby("m").size().reindex(idx, fill_value=0)
                months.append(pd.DataFrame({"w": w, "x": x.to_numpy()}))
            phi = _dispersion(pd.concat(months, ignore_index=True))
        m = method
        if method == "auto":
            m = "quasipoisson" if np.isfinite(phi) and phi > 1 else "poisson"
        rr, p = rate_test(c, b, lc, lb, phi if np.isfinite(phi) else 1.0, m)
        rows.append((*g, c, b, m, phi, rr, p))
    out = pd.DataFrame(
        rows,
        columns=[*keys, "current", "baseline", "method", "dispersion", "rate_ratio", "p_value"],
    )
    out["change"] = out["current"] - out["baseline"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pct_change"] = np.where(
            out["baseline"] > 0, 100.0 * out["change"] / out["baseline"], np.nan
        )
    out["significant"] = out["p_value"] < alpha
    cols = [
        *by,
        "current",
        "baseline",
        "change",
        "pct_change",
        "rate_ratio",
        "dispersion",
        "method",
        "p_value",
        "significant",
    ]
    return out[cols].sort_values("current", ascending=False, kind="stable").reset_index(drop=True)
